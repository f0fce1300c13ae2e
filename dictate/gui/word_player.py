"""Hear a word again: its stretch of the session's audio, with a short margin, on the default output.

One output stream, opened on the first request and closed after a minute without one, is
written from a thread of the player's own, so the window never waits for the device; while
it is open the device list is not rescanned (portaudio_guard: that would close it). A
freshly opened stream first plays PRIME_S of silence: measured through ALSA's PulseAudio
plugin, the first ~2 s a new stream receives come out garbled or not at all (the same
stretch then plays with a correlation of 0.99 to the file).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from dictate.audio.portaudio_guard import stream_open
from dictate.constants import SAMPLE_RATE

MARGIN_S = 0.15  # before and after the word: its first and last sounds are not clipped
PRIME_S = 1.0  # silence a new output stream plays first
IDLE_CLOSE_S = 60.0  # the stream is closed after this long without a request
JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Stretch:
    """Seconds of the session's audio to play."""

    start: float
    end: float

    def padded(self) -> Stretch:
        return Stretch(max(self.start - MARGIN_S, 0.0), self.end + MARGIN_S)


def read_stretch(path: Path, stretch: Stretch) -> np.ndarray:
    """The samples of `stretch` in a session audio file (.wav while it records, .flac once kept)."""
    with soundfile.SoundFile(str(path)) as audio:
        first = int(stretch.start * audio.samplerate)
        audio.seek(min(first, audio.frames))
        return audio.read(max(int(stretch.end * audio.samplerate) - first, 0), dtype="float32")


class WordPlayer:
    """Plays stretches of session audio one after another on the default output."""

    def __init__(self) -> None:
        self.problem = ""  # why the last playback failed ("" if it did not)
        self._requests: queue.Queue[np.ndarray | None] = queue.Queue()
        self._thread: threading.Thread | None = None  # None once it has ended (it says so under the lock)
        self._lock = threading.Lock()

    def play(self, path: Path, stretch: Stretch) -> str | None:
        """Play `stretch` (with its margin) of the session audio in `path`; why it cannot, or None."""
        try:
            samples = read_stretch(path, stretch.padded())
        except (OSError, RuntimeError) as error:
            return f"cannot read the session's audio: {error}"
        if not len(samples):
            return "the session's audio does not reach that far"
        if self.problem:
            problem, self.problem = self.problem, ""
            return problem
        with self._lock:  # a thread ending after a minute's idling cannot leave this request unplayed
            self._requests.put(samples)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="word-player", daemon=True)
                self._thread.start()
        return None

    def close(self) -> None:
        """Stop the output (at the end of what it plays) and its thread."""
        with self._lock:
            thread = self._thread
            if thread is not None:
                self._requests.put(None)
        if thread is not None:
            thread.join(JOIN_TIMEOUT_S)

    def _run(self) -> None:
        try:
            import sounddevice

            with stream_open(), sounddevice.OutputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32") as stream:
                stream.write(np.zeros(int(PRIME_S * SAMPLE_RATE), np.float32))
                while (samples := self._next_request()) is not None:
                    stream.write(samples)
        except Exception as error:  # noqa: BLE001 - PortAudio missing, no output device: told at the next play
            self.problem = f"cannot play the audio: {error}"
            with self._lock:
                self._thread = None

    def _next_request(self) -> np.ndarray | None:
        """The next stretch to play; None when closed, or after IDLE_CLOSE_S without one (the thread then ends)."""
        while True:
            try:
                samples = self._requests.get(timeout=IDLE_CLOSE_S)
            except queue.Empty:
                with self._lock:
                    if self._requests.empty():
                        self._thread = None
                        return None
                continue
            if samples is None:
                with self._lock:
                    self._thread = None
            return samples
