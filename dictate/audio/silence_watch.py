"""Notices a live input that has gone digitally silent: only exact-zero samples after real audio.

A working microphone never delivers exact zeros for long: even a quiet room is
non-zero noise (the real recordings in the test audio have exact-zero runs of
under 1 ms). A run of exact zeros means the audio no longer comes from a
microphone: PulseAudio moved the stream to a fallback source after the device
was pulled, the OS keeps a stream to an unplugged USB device alive, or a
hardware mute switch is on.

An input that has been exact-zero from the start is never reported: some
virtual devices (a loopback or null-sink monitor with nothing playing) are
silent until something plays, and with no real audio yet heard there is no
lost microphone to tell the user about.
"""

from __future__ import annotations

import numpy as np

from dictate.constants import SAMPLE_RATE

DEAD_INPUT_SECONDS = 3.0  # exact-zero audio after real audio that counts as a microphone gone silent


class DigitalSilenceWatch:
    """Fed every block of a live input; says once per silent stretch when it has lasted `limit_s`.

    Re-armed by the next non-zero sample, so a microphone that comes back and goes
    silent again is reported again.
    """

    def __init__(self, limit_s: float = DEAD_INPUT_SECONDS, samplerate: int = SAMPLE_RATE) -> None:
        self.limit_s = limit_s
        self._limit = round(limit_s * samplerate)  # samples
        self._heard = False  # the input has delivered a non-zero sample
        self._zeros = 0  # exact-zero samples since the last non-zero one
        self._told = False  # the current silent stretch was reported

    def update(self, samples: np.ndarray) -> bool:
        """Take the next block; True when a silent stretch reaches `limit_s` (once per stretch and block).

        A long block (a consumer that fell behind reads seconds at once) may hold a
        whole stretch between two sounds: that counts as well.
        """
        nonzero = np.flatnonzero(samples)
        if len(nonzero) == 0:
            self._zeros += len(samples)
            return self._reached()
        ended = int(np.diff(nonzero).max(initial=1)) - 1  # longest stretch between two sounds of the block
        if self._heard and not self._told:  # the stretch before the block's first sound, not yet reported
            ended = max(ended, self._zeros + int(nonzero[0]))
        self._heard, self._told = True, False
        self._zeros = len(samples) - 1 - int(nonzero[-1])
        return self._reached() or ended >= self._limit

    def _reached(self) -> bool:
        """The current stretch has just reached the limit (after real audio); marks it reported."""
        if self._heard and not self._told and self._zeros >= self._limit:
            self._told = True
            return True
        return False

    @property
    def message(self) -> str:
        """What the user is told: one sentence that fits a banner and a terminal line."""
        return f"No sound from the microphone for {self.limit_s:g} s: it may have been unplugged or muted."
