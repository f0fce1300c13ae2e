"""Compute slower than real time: a real Whisper backend deliberately slowed down behind a real-time file
source. With room in the ring buffer nothing is dropped and the engine catches up with larger chunks;
beyond its capacity the loss is reported (AudioDropped) with its length, and the timeline keeps it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from dictate.asr.transcribe import Recognizer
from dictate.audio.capture import FILE_BLOCK_SECONDS, Capture, FileInputStream
from dictate.constants import SAMPLE_RATE
from dictate.streaming.backend import WhisperBackend
from dictate.streaming.collect import TranscriptCollector
from dictate.streaming.engine import EngineOptions, StreamingEngine
from dictate.streaming.events import AudioDropped, Committed, Event
from dictate.transcript.exporters import export_text
from dictate.transcript.types import TranscriptInfo, Word

DECODE_DELAY_S = 1.5  # added to every decode: the engine runs well below real time
CHUNK_S = 0.3


@dataclass(frozen=True)
class RealTimeFile:
    """A file played at real time through the capture path with a ring of `ring_seconds`."""

    path: Path
    ring_seconds: float

    def open(self) -> Capture:
        rate = soundfile.info(str(self.path)).samplerate

        def factory(**kwargs: Any) -> FileInputStream:
            return FileInputStream(self.path, True, None, **kwargs)

        return Capture(factory, device=str(self.path), samplerate=rate, channels=1,
                       blocksize=int(FILE_BLOCK_SECONDS * rate), ends=True, ring_seconds=self.ring_seconds)


class SlowBackend:
    """The real backend, `delay` seconds slower per window; remembers how much new audio each call saw."""

    def __init__(self, backend: WhisperBackend, delay: float) -> None:
        self._backend, self._delay = backend, delay
        self.window_ends: list[float] = []

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        time.sleep(self._delay)
        self.window_ends.append(offset + len(audio) / SAMPLE_RATE)
        return self._backend.transcribe(audio, prompt, offset)


@pytest.fixture(scope="module")
def whisper(tiny_model_dir: Path) -> WhisperBackend:
    return WhisperBackend(Recognizer.load(tiny_model_dir))


def run(source: RealTimeFile, backend: SlowBackend) -> tuple[list[Event], StreamingEngine]:
    events: list[Event] = []
    engine = StreamingEngine(EngineOptions(min_chunk_s=CHUNK_S), source, events.append, backend=backend)
    engine.run()
    return events, engine


def test_slow_engine_with_room_in_the_ring_drops_nothing_and_takes_larger_chunks(whisper: WhisperBackend,
                                                                                 jfk_wav: Path) -> None:
    slow = SlowBackend(whisper, DECODE_DELAY_S)
    events, engine = run(RealTimeFile(jfk_wav, ring_seconds=120.0), slow)
    assert not [e for e in events if isinstance(e, AudioDropped)]
    duration = soundfile.info(str(jfk_wav)).duration
    assert engine.processor.audio_time == pytest.approx(duration, abs=0.01)  # every sample reached the engine
    # it skipped grid points (larger chunks, not a growing lag): a decode every chunk would take 36
    assert len(slow.window_ends) < 0.5 * duration / CHUNK_S
    text = "".join(w.text for e in events if isinstance(e, Committed) for w in e.words).lower()
    assert "what your country can do for you ask what you can do for your country" in text.replace(",", ""), text


def dropped_run(whisper: WhisperBackend, jfk_wav: Path) -> tuple[list[Event], StreamingEngine]:
    return run(RealTimeFile(jfk_wav, ring_seconds=1.0), SlowBackend(whisper, 2 * DECODE_DELAY_S))


def test_slow_engine_beyond_the_ring_reports_every_lost_second(whisper: WhisperBackend, jfk_wav: Path) -> None:
    events, engine = dropped_run(whisper, jfk_wav)
    drops = [e for e in events if isinstance(e, AudioDropped)]
    assert drops and all(d.seconds > 0 for d in drops)
    duration = soundfile.info(str(jfk_wav)).duration
    # the timeline keeps the lost audio as a gap: received + dropped = the whole file
    assert engine.processor.audio_time == pytest.approx(duration, abs=0.05)
    starts = [d.start for d in drops]
    assert starts == sorted(starts) and sum(d.seconds for d in drops) < duration


def test_lost_audio_is_marked_in_the_transcript(whisper: WhisperBackend, jfk_wav: Path) -> None:
    events, engine = dropped_run(whisper, jfk_wav)
    collector = TranscriptCollector()
    for event in events:
        collector(event)
    text = export_text(collector.transcript(TranscriptInfo(duration=engine.processor.audio_time)), "txt")
    lost = [e for e in events if isinstance(e, AudioDropped)]
    assert lost and f"[audio dropped {lost[0].seconds:.1f} s]" in text
