"""`dictate transcribe FILE...`: offline transcription of audio files to txt/srt/vtt/json/md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

EXIT_ERROR = 2
FORMATS = ("txt", "srt", "vtt", "json", "md")
DEFAULT_FORMAT = "txt"
AUTO_LANGUAGE = "auto"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `transcribe` and its options."""
    from dictate.asr.transcribe import DEFAULT_MODEL, TranscribeOptions

    defaults = TranscribeOptions()
    parser = subparsers.add_parser("transcribe", help="transcribe audio files (no GUI)")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files (wav, flac, ogg, mp3, ...)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model name or prepared folder (default {DEFAULT_MODEL})")
    parser.add_argument("--beam-size", type=int, default=defaults.beam_size,
                        help=f"beam search width; 1 = greedy (default {defaults.beam_size})")
    parser.add_argument("--language", default=AUTO_LANGUAGE,
                        help="language code (en, de, ...) or 'auto' to detect (multilingual models)")
    parser.add_argument("--task", choices=("transcribe", "translate"), default="transcribe",
                        help="translate: speech in any language to English text (multilingual models)")
    parser.add_argument("--word-timestamps", action="store_true", help="time every word (json shows them)")
    parser.add_argument("--no-vad", dest="vad", action="store_false",
                        help="decode all the audio, not only the speech voice activity detection finds")
    parser.add_argument("--vocabulary", type=Path, metavar="FILE",
                        help="vocabulary file: names and terms that prompt every window (one a line)")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from -o's extension, else txt)")
    parser.add_argument("-o", "--output", type=Path,
                        help="output file (one input) or folder (several inputs); default: stdout")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    parser.add_argument("--variant", choices=("int8", "fp32", "fp16"),
                        help="model precision (default: int8 on CPU, fp16 on CUDA)")


def run(args: argparse.Namespace) -> int:
    """Transcribe every file; a bad input or model is one line on stderr and exit status 2."""
    from dictate.asr.transcribe import Recognizer, TranscribeOptions
    from dictate.audio.loading import AudioFileError
    from dictate.modelstore.errors import ModelError
    from dictate.text.vocabulary import VocabularyError, load_vocabulary
    from dictate.transcript.exporters import ExportError

    failed = False
    try:
        options = TranscribeOptions(
            language=None if args.language == AUTO_LANGUAGE else args.language, task=args.task,
            beam_size=args.beam_size, word_timestamps=args.word_timestamps, variant=args.variant,
            device=args.device, vad=args.vad,
            vocabulary=load_vocabulary(args.vocabulary).prompt() if args.vocabulary else "")
        targets = _targets(args.files, args.output, args.format)
        recognizer = Recognizer.load(args.model, variant=options.variant, device=options.device)
    except (ValueError, ModelError, ExportError, VocabularyError) as error:
        return _fail(error)
    for path, (target, fmt) in zip(args.files, targets):
        try:
            _transcribe_one(path, recognizer, options, target, fmt)
        except (AudioFileError, ValueError, ExportError, ModelError) as error:
            _fail(error)
            failed = True
    return EXIT_ERROR if failed else 0


def _fail(error: Exception) -> int:
    print(f"dictate: {error}", file=sys.stderr)
    return EXIT_ERROR


def _targets(files: list[Path], output: Path | None, fmt: str | None) -> list[tuple[Path | None, str]]:
    """(output file or None for stdout, format) per input."""
    if output is None:
        return [(None, fmt or DEFAULT_FORMAT)] * len(files)
    if len(files) > 1 or output.is_dir():
        if output.exists() and not output.is_dir():
            raise ValueError(f"-o {output} must be a folder when transcribing several files")
        output.mkdir(parents=True, exist_ok=True)
        fmt = fmt or DEFAULT_FORMAT
        return [(output / f"{path.stem}.{fmt}", fmt) for path in files]
    suffix = output.suffix.lstrip(".").lower()
    return [(output, fmt or (suffix if suffix in FORMATS else DEFAULT_FORMAT))]


def _transcribe_one(path: Path, recognizer, options, target: Path | None, fmt: str) -> None:
    from dictate.asr.transcribe import transcribe
    from dictate.transcript.exporters import export_text, write_transcript
    from dictate.transcript.types import Transcript

    bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]"
    with tqdm(unit="s", desc=path.name, file=sys.stderr, leave=False, disable=None, bar_format=bar_format) as bar:
        segments, info = transcribe(path, recognizer, options, progress=lambda seconds: bar.update(seconds - bar.n))
        bar.total = info.duration
        collected = list(segments)
    transcript = Transcript(segments=collected, info=info)
    if target is None:
        sys.stdout.write(export_text(transcript, fmt))
        sys.stdout.flush()
    else:
        write_transcript(transcript, target, fmt)
