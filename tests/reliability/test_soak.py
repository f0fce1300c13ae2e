"""Long dictation: real speech (the longform chapters, looped) streamed through the VAD-gated processor
with a computation-aware simulated clock (audio arrives in real time; each feed costs its real compute
time, so a slow decode makes the next chunk larger, as live).

Checks: no repetition loop, committed text never rewritten, WER no worse than on the short files,
resident memory flat after warm-up, lag back near zero in every pause. The suite runs 5 minutes (about 2-4 minutes of CPU on two cores);
`DICTATE_SOAK_MINUTES=60 pytest -m slow tests/reliability/test_soak.py` runs the full hour.
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
import numpy as np
import pytest
from whisper_normalizer.english import EnglishTextNormalizer

from dictate.asr.transcribe import Recognizer
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE
from dictate.streaming.backend import WhisperBackend
from dictate.streaming.events import Committed, UtteranceEnd
from dictate.streaming.processor import ProcessorOptions, StreamProcessor
from dictate.transcript.types import Word

SOAK_MINUTES_ENV = "DICTATE_SOAK_MINUTES"
SUITE_MINUTES = 5.0
BLOCK_S = 0.02  # capture block
PAUSE_S = 2.0  # silence between two chapters
CHUNK_S = 1.0  # decode every second of new speech (as the other streaming tests on two cores)
WARM_UP_FRACTION = 0.2  # memory is compared from here on
MEMORY_GROWTH_LIMIT = 0.05
PAUSE_LAG_LIMIT_S = 1.0  # in every pause the feed gets back within this of real time
NGRAM = 5
WER_MARGIN = 0.02  # looping may cut a chapter mid-word at the end: a point or two of slack


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


@dataclass
class Chapter:
    audio: np.ndarray
    reference: str


@dataclass
class SoakResult:
    words: list[Word] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list)  # reference text of the chapters fed, in order
    rss: list[tuple[float, int]] = field(default_factory=list)  # (audio seconds, resident bytes)
    pause_lags: list[float] = field(default_factory=list)  # least lag in each pause, seconds
    max_lag: float = 0.0
    compute_s: float = 0.0
    audio_s: float = 0.0


def chapters(audio_dir: Path) -> list[Chapter]:
    return [Chapter(load_audio(path), path.with_suffix(".txt").read_text())
            for path in sorted((audio_dir / "longform").glob("*.wav"))]


def timeline(parts: list[Chapter], seconds: float) -> Iterator[tuple[np.ndarray, str | None]]:
    """The chapters in a loop, each followed by a pause, until `seconds`: (audio, its reference or None)."""
    total, index = 0, 0
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    while total < seconds * SAMPLE_RATE:
        chapter = parts[index % len(parts)]
        yield chapter.audio, chapter.reference
        yield pause, None
        total += len(chapter.audio) + len(pause)
        index += 1


def soak(processor: StreamProcessor, parts: list[Chapter], seconds: float) -> SoakResult:
    """Feed the timeline at a simulated clock that advances by real time and by each feed's compute time."""
    result = SoakResult()
    block = int(BLOCK_S * SAMPLE_RATE)
    now = 0.0  # simulated wall clock, seconds
    fed = 0  # samples fed so far
    pause_lag = None
    for audio, reference in timeline(parts, seconds):
        if reference is not None:
            result.spoken.append(reference)
        position = 0
        while position < len(audio):
            arrived = max(block, int((now - fed / SAMPLE_RATE) * SAMPLE_RATE) // block * block)
            chunk = audio[position : position + arrived]
            started = time.perf_counter()
            events = processor.feed(chunk)
            spent = time.perf_counter() - started
            result.compute_s += spent
            position += len(chunk)
            fed += len(chunk)
            now = max(now + spent, fed / SAMPLE_RATE)
            lag = now - fed / SAMPLE_RATE
            result.max_lag = max(result.max_lag, lag)
            if reference is None:
                pause_lag = lag if pause_lag is None else min(pause_lag, lag)
            for event in events:
                if isinstance(event, Committed):
                    result.words.extend(event.words)
        if reference is None and pause_lag is not None:
            result.pause_lags.append(pause_lag)
            pause_lag = None
        result.rss.append((fed / SAMPLE_RATE, rss_bytes()))
    for event in processor.flush():
        if isinstance(event, Committed):
            result.words.extend(event.words)
    result.audio_s = fed / SAMPLE_RATE
    return result


def ngram_counts(text: str) -> Counter[tuple[str, ...]]:
    words = text.split()
    return Counter(tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1))


def soak_minutes() -> float:
    return float(os.environ.get(SOAK_MINUTES_ENV, SUITE_MINUTES))


@pytest.fixture(scope="module")
def backend(tiny_model_dir: Path) -> WhisperBackend:
    return WhisperBackend(Recognizer.load(tiny_model_dir))


def run_soak(backend: WhisperBackend, audio_dir: Path, minutes: float) -> SoakResult:
    parts = chapters(audio_dir)
    result = soak(StreamProcessor(backend, ProcessorOptions(min_chunk_s=CHUNK_S)), parts, minutes * 60)
    normalise = EnglishTextNormalizer()
    hypothesis = normalise("".join(w.text for w in result.words))
    reference = normalise(" ".join(result.spoken))
    # the short-file baseline: each chapter streamed on its own, through a fresh processor
    short = soak(StreamProcessor(backend, ProcessorOptions(min_chunk_s=CHUNK_S)), parts[:1], 1.0)
    short_wer = jiwer.wer(normalise(parts[0].reference), normalise("".join(w.text for w in short.words)))
    soak_wer = jiwer.wer(reference, hypothesis)
    warm = [rss for seconds, rss in result.rss if seconds >= WARM_UP_FRACTION * result.audio_s]
    growth = (max(warm) - warm[0]) / warm[0]
    print(f"\nsoak {result.audio_s / 60:.1f} min: {len(result.words)} words, WER {soak_wer:.3f} "
          f"(short files {short_wer:.3f}), RSS after warm-up {warm[0] / 2**20:.0f} -> max {max(warm) / 2**20:.0f} MiB "
          f"({100 * growth:+.1f} %), pause lag max {max(result.pause_lags):.2f} s, lag max {result.max_lag:.2f} s, "
          f"compute {result.compute_s:.0f} s (RTF {result.compute_s / result.audio_s:.2f})")
    # committed text is never rewritten: words come in time order, none re-committed
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(b.start >= a.end - 0.1 for a, b in zip(result.words, result.words[1:]))
    # no repetition loop: no 5-gram more frequent than in what was said
    said = ngram_counts(reference)
    looped = {gram: count for gram, count in ngram_counts(hypothesis).items() if count > max(said[gram], 1) + 1}
    assert not looped, sorted(looped.items(), key=lambda item: -item[1])[:5]
    assert soak_wer <= short_wer + WER_MARGIN, (soak_wer, short_wer)
    assert growth < MEMORY_GROWTH_LIMIT, [(s, r // 2**20) for s, r in result.rss]
    assert max(result.pause_lags) < PAUSE_LAG_LIMIT_S, result.pause_lags
    return result


def test_five_minutes_of_dictation(backend: WhisperBackend, audio_dir: Path) -> None:
    run_soak(backend, audio_dir, SUITE_MINUTES)


@pytest.mark.slow
def test_hour_long_dictation(backend: WhisperBackend, audio_dir: Path) -> None:
    run_soak(backend, audio_dir, soak_minutes() if SOAK_MINUTES_ENV in os.environ else 60.0)
