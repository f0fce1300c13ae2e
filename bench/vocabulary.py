"""Vocabulary benchmark: recall of the listed terms and WER, without and with the list, offline and streaming.

Offline is `transcribe` with its defaults (beam 5, as `dictate transcribe`); streaming is the engine fed
through the capture path as fast as it takes the audio (as `dictate stream --input FILE --fast`). Recall
counts the reference's occurrences of listed terms that the text holds too (whole words, any case).
"WER rest" is over the files whose reference holds no listed term, where the list can only do harm.

    python -m bench.vocabulary                                  # bench/librispeech_terms.txt, LibriSpeech
    python -m bench.vocabulary --vocabulary FILE --set longform --modes offline
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import SETS, Utterance, load_set, normalise, word_error_rate
from bench.offline import machine
from dictate.asr.prompting import count_terms
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.audio.capture import FileSource
from dictate.streaming.backend import StreamingDecodeOptions, WhisperBackend
from dictate.streaming.engine import EngineOptions, StreamingEngine
from dictate.streaming.events import Committed, Event
from dictate.text.vocabulary import load_vocabulary

DEFAULT_TERMS = Path(__file__).with_name("librispeech_terms.txt")
MODES = ("offline", "streaming")


def offline_text(recognizer: Recognizer, path: Path, options: TranscribeOptions) -> str:
    """The text `transcribe` gives for the file."""
    segments, _ = transcribe(str(path), recognizer, options)
    return "".join(segment.text for segment in segments)


def streamed_text(recognizer: Recognizer, path: Path, vocabulary: str) -> str:
    """The committed text of the file fed through the capture path as fast as the engine takes it."""
    events: list[Event] = []
    backend = WhisperBackend(recognizer, StreamingDecodeOptions(vocabulary=vocabulary))
    StreamingEngine(EngineOptions(), FileSource(path, realtime=False), events.append, backend=backend).run()
    return "".join(word.text for event in events if isinstance(event, Committed) for word in event.words)


def term_hits(reference: str, text: str, terms: Sequence[str]) -> tuple[int, int]:
    """(occurrences of the terms in the reference that `text` holds too, occurrences in the reference)."""
    in_reference = [count_terms(reference, term) for term in terms]
    found = [min(wanted, count_terms(text, term)) for term, wanted in zip(terms, in_reference)]
    return sum(found), sum(in_reference)


def without_terms(utterances: Sequence[Utterance], terms: Sequence[str]) -> list[int]:
    """Indices of the files whose reference holds none of the terms."""
    return [i for i, u in enumerate(utterances) if not any(count_terms(u.reference, term) for term in terms)]


@dataclass(frozen=True)
class Row:
    """One mode without or with the list, over the whole set."""

    mode: str
    listed: bool
    found: int  # reference occurrences of listed terms the texts hold
    occurrences: int
    wer_all: float  # percent
    wer_rest: float  # percent, files without a listed term
    rest_changed: int  # files without a listed term whose normalised text differs from the run without the list
    wall_s: float


def run_mode(mode: str, decode: Callable[[Path, str], str], utterances: Sequence[Utterance], vocabulary: str,
             terms: Sequence[str]) -> tuple[Row, Row]:
    """The mode without and with the vocabulary."""
    rest = without_terms(utterances, terms)
    references = [u.reference for u in utterances]
    rows, plain = [], []
    for listed in (False, True):
        started = time.perf_counter()
        texts = [decode(u.path, vocabulary if listed else "") for u in utterances]
        wall = time.perf_counter() - started
        plain = plain or texts
        hits = [term_hits(u.reference, text, terms) for u, text in zip(utterances, texts)]
        rows.append(Row(
            mode=mode, listed=listed, found=sum(h[0] for h in hits), occurrences=sum(h[1] for h in hits),
            wer_all=word_error_rate(references, texts),
            wer_rest=word_error_rate([references[i] for i in rest], [texts[i] for i in rest]),
            rest_changed=sum(normalise(texts[i]) != normalise(plain[i]) for i in rest), wall_s=wall))
    return rows[0], rows[1]


def table(rows: Sequence[Row], rest_files: int) -> str:
    lines = ["| mode | vocabulary | terms found | recall % | WER all % | WER rest % | rest files changed | wall s |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        recall = f"{100.0 * row.found / row.occurrences:.0f}" if row.occurrences else "-"
        lines.append(f"| {row.mode} | {'listed' if row.listed else 'none'} | {row.found}/{row.occurrences} "
                     f"| {recall} | {row.wer_all:.2f} | {row.wer_rest:.2f} "
                     f"| {row.rest_changed}/{rest_files} | {row.wall_s:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.vocabulary", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocabulary", type=Path, default=DEFAULT_TERMS, metavar="FILE",
                        help=f"vocabulary file (default {DEFAULT_TERMS.name})")
    parser.add_argument("--set", choices=SETS, default="librispeech", help="speech set (default librispeech)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--beam-size", type=int, default=TranscribeOptions().beam_size, help="offline beam")
    parser.add_argument("--limit", type=int, help="only the first N files of the set")
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args(argv)
    print("$ " + shlex.join([Path(sys.executable).name, "-m", "bench.vocabulary", *sys.argv[1:]]), flush=True)
    info = machine()
    print(f"{datetime.date.today()}, {info['cpu']}, {info['cores']} cores, load {info['load_average_1min']}")

    vocabulary = load_vocabulary(args.vocabulary)
    prompt, terms = vocabulary.prompt(), [*vocabulary.terms, *(rule.written for rule in vocabulary.replacements)]
    utterances = load_set(args.set)[: args.limit]
    recognizer = Recognizer.load(args.model)
    decoders: dict[str, Callable[[Path, str], str]] = {
        "offline": lambda path, listed: offline_text(
            recognizer, path, TranscribeOptions(beam_size=args.beam_size, vocabulary=listed)),
        "streaming": lambda path, listed: streamed_text(recognizer, path, listed),
    }
    rows = [row for mode in args.modes for row in run_mode(mode, decoders[mode], utterances, prompt, terms)]
    rest_files = len(without_terms(utterances, terms))
    print(f"\n{args.set}: {len(utterances)} files, {rest_files} without a listed term; "
          f"vocabulary: {prompt}; offline beam {args.beam_size}; load after {machine()['load_average_1min']}\n")
    print(table(rows, rest_files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
