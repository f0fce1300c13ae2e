"""RingBuffer against a plain-list model: any write/read sequence, wrap-around, overrun accounting."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from dictate.audio.ring_buffer import DEFAULT_CAPACITY_SAMPLES, RingBuffer
from dictate.constants import SAMPLE_RATE


class ListModel:
    """Everything ever written kept in a list; the newest `capacity` samples are the readable ones."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.history: list[float] = []
        self.cursor = 0  # end of the newest audio the reader took
        self.dropped = 0

    def oldest(self) -> int:
        return max(0, len(self.history) - self.capacity)

    def write(self, values: list[float]) -> int:
        before = self.oldest()
        self.history.extend(values)
        overwritten = range(before, self.oldest())
        lost = sum(1 for index in overwritten if index >= self.cursor)
        self.dropped += lost
        return lost

    def read(self, start_index: int, max_samples: int) -> tuple[int, list[float]]:
        start = max(start_index, self.oldest())
        end = min(len(self.history), start + max_samples)
        self.cursor = max(self.cursor, end)
        return start, self.history[start:end]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(0, 40)),
        st.tuples(st.just("read"), st.integers(-30, 5), st.integers(0, 40)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(1, 32), ops=operations)
def test_matches_list_model(capacity: int, ops: list[tuple]) -> None:
    ring, model = RingBuffer(capacity), ListModel(capacity)
    next_value = 0
    for op in ops:
        if op[0] == "write":
            values = np.arange(next_value, next_value + op[1], dtype=np.float32)
            next_value += op[1]
            assert ring.write(values) == model.write(values.tolist())
        else:
            # read relative to the reader's cursor: behind it (re-read or lost audio) or at it
            start_index = min(len(model.history), max(0, model.cursor + op[1]))
            start, samples = ring.read(start_index, op[2])
            expected_start, expected = model.read(start_index, op[2])
            assert start == expected_start
            assert samples.dtype == np.float32
            assert samples.tolist() == expected
        assert ring.write_index == len(model.history)
        assert ring.dropped_samples == model.dropped
        assert ring.available_from(model.cursor) == len(model.history) - max(model.cursor, model.oldest())


def test_wraps_around_and_reports_lost_audio_by_index() -> None:
    ring = RingBuffer(10)
    ring.write(np.arange(8, dtype=np.float32))
    start, samples = ring.read(0, 5)
    assert (start, samples.tolist()) == (0, [0, 1, 2, 3, 4])
    assert ring.write(np.arange(8, 14, dtype=np.float32)) == 0  # overwrites 0..3, all already read
    assert ring.write(np.arange(14, 17, dtype=np.float32)) == 2  # overwrites 5 and 6, never read
    start, samples = ring.read(5, 100)
    assert start == 7  # the reader learns that samples 5 and 6 are gone
    assert samples.tolist() == list(range(7, 17))
    assert ring.dropped_samples == 2


def test_a_write_longer_than_the_capacity_keeps_the_newest_audio() -> None:
    ring = RingBuffer(4)
    assert ring.write(np.arange(10, dtype=np.float32).reshape(10, 1)) == 6  # sounddevice's [frames, 1] blocks
    assert ring.read(0, 10)[0] == 6
    assert ring.read(6, 10)[1].tolist() == [6, 7, 8, 9]


def test_read_rejects_the_future() -> None:
    ring = RingBuffer(4)
    ring.write(np.ones(2, np.float32))
    with pytest.raises(ValueError):
        ring.read(3, 1)


def test_default_capacity_is_two_minutes_at_16k() -> None:
    assert DEFAULT_CAPACITY_SAMPLES == 120 * SAMPLE_RATE


def test_concurrent_reader_gets_only_untorn_audio(jfk_wav: Path) -> None:
    """A producer thread writes real speech in callback-sized blocks into a small ring while the reader
    keeps up only partly: every returned sample is the source sample at its index, and received + dropped
    covers the whole recording."""
    audio, _ = soundfile.read(jfk_wav, dtype="float32")
    ring = RingBuffer(2048)
    block = 256

    def produce() -> None:
        for position in range(0, len(audio), block):
            ring.write(audio[position : position + block])
            time.sleep(0)  # let the reader run between callbacks

    producer = threading.Thread(target=produce)
    producer.start()
    received, next_index = 0, 0
    while producer.is_alive() or next_index < ring.write_index:
        start, samples = ring.read(next_index, 700)
        np.testing.assert_array_equal(samples, audio[start : start + len(samples)])
        received += len(samples)
        next_index = start + len(samples)
        time.sleep(0)
    producer.join()
    assert ring.write_index == len(audio)
    assert received + ring.dropped_samples == len(audio)
