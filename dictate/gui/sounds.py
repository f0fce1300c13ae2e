"""Start and stop cues: two short tones played through sounddevice (PySide6-Essentials has no multimedia)."""

from __future__ import annotations

import numpy as np

CUE_RATE = 48_000  # Hz
CUE_SECONDS = 0.09
CUE_VOLUME = 0.2  # of full scale: audible, never startling
START_HZ, STOP_HZ = 880.0, 587.0  # a rising pair would need two tones; one high, one low says it
FADE_SECONDS = 0.01  # no click at either end


def cue(frequency: float) -> np.ndarray:
    """A short sine tone with faded ends, float32 mono at CUE_RATE."""
    t = np.arange(int(CUE_SECONDS * CUE_RATE)) / CUE_RATE
    tone = CUE_VOLUME * np.sin(2 * np.pi * frequency * t)
    fade = min(int(FADE_SECONDS * CUE_RATE), len(t) // 2)
    envelope = np.ones_like(t)
    envelope[:fade] = np.linspace(0.0, 1.0, fade)
    envelope[len(t) - fade :] = np.linspace(1.0, 0.0, fade)
    return (tone * envelope).astype(np.float32)


def play_cue(start: bool) -> str | None:
    """Play the start (or stop) cue on the default output without waiting; why it could not, or None."""
    try:
        import sounddevice

        sounddevice.play(cue(START_HZ if start else STOP_HZ), CUE_RATE, blocking=False)
    except Exception as error:  # noqa: BLE001 - PortAudio missing, no output device: the cue is optional
        return f"cannot play the {'start' if start else 'stop'} sound: {error}"
    return None
