"""Multilingual Whisper on real speech: language identification, CER, translation; English WER per model.

    python -m bench.multilingual                              # base on ../shared/audio/multilingual
    python -m bench.multilingual --faster-whisper int8        # the same table from faster-whisper
    python -m bench.multilingual --librispeech tiny.en base   # WER on ../shared/audio/librispeech

The first table gives, per clip: the detected language and its probability, the character
error rate of the transcription (`normalise_for_cer` on both sides) and the English
translation (`task="translate"`). The second gives each model's word error rate with the
same options (`bench.common.word_error_rate`: Whisper's English normaliser, corpus-level WER).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import jiwer

from bench.common import SHARED_AUDIO, load_set, word_error_rate
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.modelstore import sources
from dictate.modelstore.store import find_entry

MULTILINGUAL_DIR = SHARED_AUDIO / "multilingual"
UNSPACED_FOR_CER = frozenset({"ja", "ko", "zh", "yue", "th"})  # scored with spaces removed
WHITESPACE = re.compile(r"\s+")
PEER_THREADS = 2  # faster-whisper's intra-op threads (dictate's sessions use their own default)


@dataclass(frozen=True)
class Clip:
    """One reference utterance."""

    id: str
    language: str  # the spoken language's code
    reference: str
    path: Path


@dataclass(frozen=True)
class ClipResult:
    """What a model made of one clip."""

    clip: Clip
    language: str  # detected
    probability: float  # of the detected language
    text: str  # transcription in the detected language
    cer: float  # character error rate against the reference, 0..1+
    translation: str | None  # English translation, when asked for


def normalise_for_cer(text: str, language: str) -> str:
    """Lower case, punctuation removed, whitespace collapsed; no spaces at all for ja/ko/zh/th."""
    text = "".join(" " if unicodedata.category(char).startswith("P") else char for char in text.lower())
    text = WHITESPACE.sub(" ", text).strip()
    return text.replace(" ", "") if language in UNSPACED_FOR_CER else text


def character_error_rate(reference: str, hypothesis: str, language: str) -> float:
    """jiwer's CER of the lightly normalised texts."""
    return float(jiwer.cer(normalise_for_cer(reference, language), normalise_for_cer(hypothesis, language)))


def read_clips(folder: Path = MULTILINGUAL_DIR) -> list[Clip]:
    """The clips of `refs.tsv` (columns id, lang, reference) with their `wav/<id>.wav`."""
    with (folder / "refs.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [Clip(row["id"], row["lang"], row["reference"], folder / "wav" / f"{row['id']}.wav") for row in rows]


Transcriber = Callable[[Path, TranscribeOptions], tuple[str, str, float]]  # (text, language, probability)


def transcribe_text(recognizer: Recognizer, path: Path, options: TranscribeOptions) -> tuple[str, str, float]:
    """(text, language, language probability) of one file."""
    segments, info = transcribe(path, recognizer, options)
    return "".join(segment.text for segment in segments).strip(), info.language, info.language_probability


@contextmanager
def faster_whisper_peer(name: str, compute_type: str) -> Iterator[Transcriber]:
    """faster-whisper (CTranslate2) on the same catalogue weights, as a reference: a `Transcriber`."""
    from faster_whisper import WhisperModel

    entry = find_entry(name)
    with tempfile.TemporaryDirectory() as folder:
        staging = Path(folder)
        weights = sources.model_bin(entry, staging)  # parts are joined into the folder
        if weights.parent != staging:
            (staging / sources.MODEL_BIN).symlink_to(weights)
        for support in sources.support_files(entry):
            shutil.copyfile(support, staging / support.name)
        model = WhisperModel(str(staging), device="cpu", compute_type=compute_type, cpu_threads=PEER_THREADS)

        def run(path: Path, options: TranscribeOptions) -> tuple[str, str, float]:
            segments, info = model.transcribe(str(path), language=options.language, task=options.task,
                                              beam_size=options.beam_size)
            return "".join(segment.text for segment in segments).strip(), info.language, info.language_probability

        yield run


def evaluate_clip(transcriber: Transcriber, clip: Clip, options: TranscribeOptions, translate: bool) -> ClipResult:
    """Transcribe `clip` with language detection, score it, and translate it when asked."""
    text, language, probability = transcriber(clip.path, replace(options, language=None))
    translation = None
    if translate:
        translation, _, _ = transcriber(clip.path, replace(options, task="translate"))
    return ClipResult(clip, language, probability, text, character_error_rate(clip.reference, text, clip.language),
                      translation)


def librispeech_wer(transcriber: Transcriber, options: TranscribeOptions) -> float:
    """Corpus-level WER in percent over the 61 LibriSpeech utterances."""
    utterances = load_set("librispeech")
    hypotheses = [transcriber(u.path, options)[0] for u in utterances]
    return word_error_rate([u.reference for u in utterances], hypotheses)


def _print_clips(results: Sequence[ClipResult]) -> None:
    print("| clip | lang | detected | p | CER | transcription | translation |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.clip.id} | {r.clip.language} | {r.language} | {r.probability:.3f} | {r.cer:.1%} | {r.text} | "
              f"{r.translation or ''} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.multilingual", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base", help="model for the multilingual table (default base)")
    parser.add_argument("--librispeech", nargs="+", metavar="MODEL",
                        help="instead: WER of these models on LibriSpeech with the same options")
    parser.add_argument("--language", help="fixed language for --librispeech (default: detect)")
    parser.add_argument("--beam-size", type=int, default=TranscribeOptions().beam_size)
    parser.add_argument("--variant", choices=("int8", "fp32", "fp16"), help="ONNX variant (default int8 on CPU)")
    parser.add_argument("--faster-whisper", metavar="COMPUTE_TYPE",
                        help="run the reference faster-whisper on the same weights instead (e.g. int8, float32)")
    parser.add_argument("--no-translate", action="store_true", help="skip the translation column")
    args = parser.parse_args(argv)
    options = TranscribeOptions(beam_size=args.beam_size, variant=args.variant, device="cpu")
    system = f"faster-whisper {args.faster_whisper}" if args.faster_whisper else f"dictate {args.variant or 'int8'}"
    if args.librispeech:
        print("| model | system | LibriSpeech WER | seconds |")
        print("|---|---|---|---|")
        for name in args.librispeech:
            started = time.perf_counter()
            with ExitStack() as stack:
                wer = librispeech_wer(_transcriber(stack, name, args), replace(options, language=args.language))
            print(f"| {name} | {system} | {wer:.2f} % | {time.perf_counter() - started:.0f} |", flush=True)
        return 0
    with ExitStack() as stack:
        transcriber = _transcriber(stack, args.model, args)
        results = [evaluate_clip(transcriber, clip, options, translate=not args.no_translate) for clip in read_clips()]
    _print_clips(results)
    return 0


def _transcriber(stack: ExitStack, name: str, args: argparse.Namespace) -> Transcriber:
    """dictate, or faster-whisper with --faster-whisper, for model `name` (closed with `stack`)."""
    if args.faster_whisper:
        return stack.enter_context(faster_whisper_peer(name, args.faster_whisper))
    return partial(transcribe_text, Recognizer.load(name, variant=args.variant, device="cpu"))


if __name__ == "__main__":
    sys.exit(main())
