"""Helpers shared by the benchmarks: the speech sets with their references, normalised WER, peak RSS.

    from bench.common import load_set, word_error_rate, peak_rss_mb
    utterances = load_set("longform")                  # [Utterance(id, path, reference), ...]
    wer = word_error_rate([u.reference for u in utterances], hypotheses)   # percent
"""

from __future__ import annotations

import csv
import functools
import resource
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SHARED_AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "audio"
SETS = ("longform", "librispeech")
KIB = 1024  # ru_maxrss unit on Linux (bytes on macOS)
MIB = 1024 * 1024


@dataclass(frozen=True)
class Utterance:
    """One audio file and its reference transcript."""

    id: str
    path: Path
    reference: str


def load_set(name: str, audio_dir: Path = SHARED_AUDIO) -> list[Utterance]:
    """The files of a speech set, sorted by id.

    "longform": `longform/*.wav` with `<stem>.txt` references; "librispeech":
    `librispeech/wav/<id>.wav` with `librispeech/refs.tsv` (`id<TAB>reference`).
    """
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; choose one of {SETS}")
    folder = audio_dir / name
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} not found: ../shared/audio must stand beside the repo")
    if name == "longform":
        return [Utterance(path.stem, path, path.with_suffix(".txt").read_text(encoding="utf-8").strip())
                for path in sorted(folder.glob("*.wav"))]
    with (folder / "refs.tsv").open(encoding="utf-8") as handle:
        refs = {row[0]: row[-1] for row in csv.reader(handle, delimiter="\t") if row}
    return [Utterance(key, folder / "wav" / f"{key}.wav", refs[key]) for key in sorted(refs)]


@functools.cache
def _normalizer():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalise(text: str) -> str:
    """Whisper's English normaliser: lower case, no punctuation, spelled-out forms unified."""
    return _normalizer()(text)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER in percent over normalised text: all edits over all reference words."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    import jiwer

    return 100.0 * jiwer.wer([normalise(r) for r in references], [normalise(h) for h in hypotheses])


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak * KIB / MIB
