"""Long dictation: real speech (the longform chapters, looped) streamed through the VAD-gated processor
with the fast simulated clock: 20-ms blocks, each fed as soon as the previous feed returns, so the
results do not depend on the machine's speed or load (compute time is only reported).

Checks: no repetition loop, committed text never rewritten, WER no worse than on the first pass (each
chapter heard once by a fresh processor: the pause between chapters is longer than the context kept),
resident memory flat after warm-up, lag (speech not yet decoded) back to zero in every pause. The suite runs
three plays of one chapter (3.7 minutes of audio);
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
from dictate.streaming.events import Committed
from dictate.streaming.processor import ProcessorOptions, StreamProcessor
from dictate.transcript.types import Word

SOAK_MINUTES_ENV = "DICTATE_SOAK_MINUTES"
SUITE_MINUTES = 3.0  # the chapter (72 s) and its pause are fed until this is reached: three plays
BLOCK_S = 0.02  # capture block
PAUSE_S = 2.0  # silence between two chapters
CHUNK_S = 1.0  # decode every second of new speech (as the other streaming tests on two cores)
WARM_UP_PASSES = 1  # memory is compared after every chapter was heard this often
RSS_EVERY_S = 5.0  # resident memory is sampled every this many seconds of audio
MEMORY_GROWTH_LIMIT = 0.05
PAUSE_LAG_LIMIT_S = 0.0  # in every pause all speech has been decoded
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
    rss: list[tuple[float, int]] = field(default_factory=list)  # (audio seconds, resident bytes) every RSS_EVERY_S
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
    """Feed the timeline block by block; lag is the speech audio no decode has seen yet."""
    result = SoakResult()
    block = int(BLOCK_S * SAMPLE_RATE)
    fed = 0  # samples fed so far
    pause_lag = None
    for audio, reference in timeline(parts, seconds):
        if reference is not None:
            result.spoken.append(reference)
        for position in range(0, len(audio), block):
            chunk = audio[position : position + block]
            started = time.perf_counter()
            events = processor.feed(chunk)
            result.compute_s += time.perf_counter() - started
            fed += len(chunk)
            if fed >= (len(result.rss) + 1) * RSS_EVERY_S * SAMPLE_RATE:
                result.rss.append((fed / SAMPLE_RATE, rss_bytes()))
            lag = processor.undecoded_s
            result.max_lag = max(result.max_lag, lag)
            if reference is None:
                pause_lag = lag if pause_lag is None else min(pause_lag, lag)
            for event in events:
                if isinstance(event, Committed):
                    result.words.extend(event.words)
        if reference is None and pause_lag is not None:
            result.pause_lags.append(pause_lag)
            pause_lag = None
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


def run_soak(backend: WhisperBackend, parts: list[Chapter], minutes: float) -> SoakResult:
    """Stream `parts` in a loop for `minutes`; compare with each part streamed once on its own."""
    result = soak(StreamProcessor(backend, ProcessorOptions(min_chunk_s=CHUNK_S)), parts, minutes * 60)
    normalise = EnglishTextNormalizer()
    hypothesis = normalise("".join(w.text for w in result.words))
    reference = normalise(" ".join(result.spoken))
    # the short-file baseline: the first pass, where each chapter is heard once by a processor with no context
    first_pass_s = sum(len(part.audio) / SAMPLE_RATE + PAUSE_S for part in parts)
    first_pass = [w for w in result.words if w.start < first_pass_s]
    short_wer = jiwer.wer(normalise(" ".join(part.reference for part in parts)),
                          normalise("".join(w.text for w in first_pass)))
    soak_wer = jiwer.wer(reference, hypothesis)
    warm = [rss for seconds, rss in result.rss if seconds > WARM_UP_PASSES * first_pass_s]
    third = max(1, len(warm) // 3)  # RSS swings by tens of MB with each decode: compare medians, not samples
    early, late = float(np.median(warm[:third])), float(np.median(warm[-third:]))
    growth = (late - early) / early
    print(f"\nsoak {result.audio_s / 60:.1f} min: {len(result.words)} words, WER {soak_wer:.3f} "
          f"(first pass {short_wer:.3f}), RSS median after warm-up {early / 2**20:.0f} -> at the end {late / 2**20:.0f} MiB "
          f"({100 * growth:+.1f} %), pause lag max {max(result.pause_lags):.2f} s, lag max {result.max_lag:.2f} s, "
          f"compute {result.compute_s:.0f} s (RTF {result.compute_s / result.audio_s:.2f})")
    # committed text is never rewritten: words come in time order, none re-committed
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(b.start >= a.end - 0.1 for a, b in zip(result.words, result.words[1:]))
    # no repetition loop: no 5-gram more frequent than in what was said
    said = ngram_counts(reference)
    plays = max(Counter(result.spoken).values())  # a misheard phrase may come back once per play
    looped = {gram: count for gram, count in ngram_counts(hypothesis).items() if count > max(said[gram], plays)}
    assert not looped, sorted(looped.items(), key=lambda item: -item[1])[:5]
    assert soak_wer <= short_wer + WER_MARGIN, (soak_wer, short_wer)
    assert growth < MEMORY_GROWTH_LIMIT, [rss // 2**20 for rss in warm]  # MiB, every RSS_EVERY_S after warm-up
    assert max(result.pause_lags) <= PAUSE_LAG_LIMIT_S, result.pause_lags
    return result


def test_a_chapter_dictated_three_times_in_a_row(backend: WhisperBackend, audio_dir: Path) -> None:
    run_soak(backend, chapters(audio_dir)[:1], SUITE_MINUTES)  # one chapter looped: a fair short baseline


@pytest.mark.slow
def test_hour_long_dictation(backend: WhisperBackend, audio_dir: Path) -> None:
    run_soak(backend, chapters(audio_dir), soak_minutes() if SOAK_MINUTES_ENV in os.environ else 60.0)
