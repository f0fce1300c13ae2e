"""Stopping the engine while a live input goes on delivering (Ctrl-C in `dictate stream`, the window's stop).

The engine processes the audio captured before the stop, then returns; a microphone never stops delivering,
so a stop that waited until nothing was pending would never return on a loop that takes as long per read as
the device takes per block.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from dictate.audio.capture import BLOCK_SECONDS, MicrophoneSource
from dictate.constants import SAMPLE_RATE
from dictate.streaming.engine import EngineOptions, StreamingEngine
from dictate.streaming.events import Event
from dictate.transcript.types import Word
from tests.injected_stream import SPEED, InjectedStream

STOP_WAIT_S = 30.0  # far longer than the backlog takes: only a stop that never returns fails


class EndlessRoom(InjectedStream):
    """A microphone in a quiet room: delivers until the stream is stopped."""

    def play(self) -> None:
        room = np.random.default_rng(0).normal(0.0, 0.003, SAMPLE_RATE).astype(np.float32)
        while self.deliver(room):
            pass


class NoWords:
    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        return []


def test_stop_returns_after_the_audio_captured_before_it_while_the_input_goes_on() -> None:
    source = MicrophoneSource(device="USB mic", samplerate=SAMPLE_RATE,
                              stream_factory=lambda **kwargs: EndlessRoom(**kwargs))
    reads: list[float] = []  # audio time of each read

    def slow_consumer(samples: np.ndarray, at: float) -> None:  # each read takes longer than a device block
        reads.append(at)
        time.sleep(2 * BLOCK_SECONDS / SPEED)

    events: list[Event] = []
    engine = StreamingEngine(EngineOptions(), source, events.append, backend=NoWords(), on_audio=slow_consumer)
    worker = threading.Thread(target=engine.run, daemon=True)
    worker.start()
    deadline = time.monotonic() + STOP_WAIT_S
    while len(reads) < 50:
        assert time.monotonic() < deadline, f"the engine read {len(reads)} blocks in {STOP_WAIT_S} s"
        time.sleep(0.01)
    processed_at_stop = engine.processor.audio_time
    engine.stop()
    worker.join(STOP_WAIT_S)
    assert not worker.is_alive()  # it returned, with the device still delivering
    assert engine.processor.audio_time > processed_at_stop  # the audio pending at the stop was processed
