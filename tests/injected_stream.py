"""A `sounddevice.InputStream` stand-in for the capture's stream factory (the seam the hardware is reached
by): a thread plays audio into the capture's callback, faster than real time, as a device would deliver it."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import sounddevice

SPEED = 4.0  # injected streams run four times faster than real time


class InjectedStream:
    """Opened with the capture's keyword arguments; `play` (run on the stream's thread) says what it delivers."""

    def __init__(self, **kwargs: Any) -> None:
        self._callback, self._block = kwargs["callback"], int(kwargs["blocksize"])
        self._rate = int(kwargs["samplerate"])
        self._finished = kwargs.get("finished_callback")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.play, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def play(self) -> None:
        raise NotImplementedError

    def deliver(self, audio: np.ndarray) -> bool:
        """Play `audio` block by block at SPEED times real time; False once the stream is stopped."""
        for start in range(0, len(audio), self._block):
            if self._stop.wait(self._block / self._rate / SPEED):
                return False
            block = audio[start : start + self._block, None]
            self._callback(block, len(block), None, sounddevice.CallbackFlags())
        return True

    def stopped(self, seconds: float) -> bool:
        """Wait up to `seconds`; True once the stream is stopped."""
        return self._stop.wait(seconds)

    def stop(self) -> None:
        self._stop.set()

    close = stop
