"""Single-producer single-consumer float32 ring buffer addressed by absolute sample index.

The producer (an audio callback) only copies into a preallocated array and then
publishes the new write index; it never allocates or blocks. On overrun it
overwrites the oldest audio and counts the samples the consumer had not read
yet. The consumer reads by absolute index, so it always knows which audio it got
and, when it fell behind, how much was lost.
"""

from __future__ import annotations

import numpy as np

from dictate.constants import SAMPLE_RATE

DEFAULT_CAPACITY_SECONDS = 120  # seconds of audio kept for a slow consumer
DEFAULT_CAPACITY_SAMPLES = DEFAULT_CAPACITY_SECONDS * SAMPLE_RATE


class RingBuffer:
    """Preallocated float32 ring of `capacity_samples` mono samples; one writer thread, one reader thread."""

    def __init__(self, capacity_samples: int = DEFAULT_CAPACITY_SAMPLES) -> None:
        if capacity_samples <= 0:
            raise ValueError(f"capacity_samples must be positive, got {capacity_samples}")
        self.capacity = capacity_samples
        self._data = np.zeros(capacity_samples, dtype=np.float32)
        self._write_index = 0  # samples published to the reader
        self._claimed_index = 0  # samples whose slots the writer may be overwriting right now
        self._read_cursor = 0  # end of the newest audio the reader has taken
        self._dropped = 0

    @property
    def write_index(self) -> int:
        """Total samples ever written (the absolute index one past the newest sample)."""
        return self._write_index

    @property
    def oldest_index(self) -> int:
        """Absolute index of the oldest sample still held."""
        return max(0, self._write_index - self.capacity)

    @property
    def dropped_samples(self) -> int:
        """Samples overwritten before the reader took them (overruns), since the start."""
        return self._dropped

    def available_from(self, index: int) -> int:
        """How many samples a read from `index` can return now (from the oldest held if `index` fell out)."""
        return self._write_index - max(index, self.oldest_index)

    def write(self, samples: np.ndarray) -> int:
        """Append mono samples (1-D or [n, 1]); return how many unread samples this write overwrote.

        Only slice copies into the preallocated array: safe in a PortAudio callback.
        """
        flat = samples.reshape(-1)
        count = flat.shape[0]
        start = self._write_index
        end = start + count
        if count > self.capacity:  # only the newest `capacity` samples can be kept
            flat = flat[count - self.capacity :]
        kept_start = end - flat.shape[0]
        lost = max(0, max(0, end - self.capacity) - max(self._read_cursor, max(0, start - self.capacity)))
        self._claimed_index = end  # tell the reader these slots are being overwritten before touching them
        offset = kept_start % self.capacity
        first = min(flat.shape[0], self.capacity - offset)
        self._data[offset : offset + first] = flat[:first]
        self._data[: flat.shape[0] - first] = flat[first:]
        self._dropped += lost
        self._write_index = end
        return lost

    def read(self, start_index: int, max_samples: int) -> tuple[int, np.ndarray]:
        """Copy up to `max_samples` from absolute `start_index` on; return (absolute start, samples).

        If `start_index` was overwritten, the read starts at the oldest sample still held:
        the returned start tells the reader how much it lost.
        """
        if start_index < 0 or max_samples < 0:
            raise ValueError(f"read needs start_index >= 0 and max_samples >= 0, got {start_index}, {max_samples}")
        written = self._write_index
        if start_index > written:
            raise ValueError(f"read from sample {start_index}, but only {written} samples were written")
        start = max(start_index, written - self.capacity)
        end = min(written, start + max_samples)
        offset = start % self.capacity
        first = min(end - start, self.capacity - offset)
        samples = np.concatenate([self._data[offset : offset + first], self._data[: end - start - first]])
        # the writer may have claimed slots during the copy: drop what it may have overwritten
        valid_from = self._claimed_index - self.capacity
        if valid_from > start:
            cut = min(valid_from, end) - start
            samples = samples[cut:]
            start += cut
        self._read_cursor = max(self._read_cursor, end)
        return start, samples
