"""Log-mel of a stream computed once per sample: windows are cut from cached frames and normalised per window.

A window equals `dictate.asr.transcribe.window_mel` of its audio (the audio
followed by silence to 30 s, clamped to max - 8 over the window), except that
its first frames see the real audio before the window instead of a reflection.
"""

from __future__ import annotations

import numpy as np

from dictate.audio.features import (
    DYNAMIC_RANGE_LOG10,
    LOG_FLOOR,
    LOG_OFFSET,
    LOG_SCALE,
    IncrementalLogMel,
    log_mel_frames,
)
from dictate.constants import HOP_LENGTH, N_FRAMES, N_SAMPLES, SAMPLE_RATE

SILENT_FRAME = float(np.log10(LOG_FLOOR))  # raw value of a frame of digital silence
EDGE_HOPS = 2  # the edge computation starts this many hops before its first frame (no reflection reaches it)
EDGE_FRAMES = 3  # frames after the last whole one that still see some audio (N_FFT // 2 reaches 1.25 hops)


class StreamMel:
    """Raw frames of the stream by absolute frame index; `window(audio, offset)` -> normalised [n_mels, 3000]."""

    def __init__(self, n_mels: int) -> None:
        self.n_mels = n_mels
        self._restart(0)

    def _restart(self, start_sample: int) -> None:
        self._incremental = IncrementalLogMel(self.n_mels)
        self._origin = start_sample  # absolute sample of the incremental computation's first sample
        self._pushed = start_sample  # absolute sample one past the last pushed
        self._frames = np.zeros((self.n_mels, 0), np.float32)
        self._first_frame = start_sample // HOP_LENGTH  # absolute index of self._frames[:, 0]

    def window(self, audio: np.ndarray, offset: float) -> tuple[np.ndarray, int]:
        """The normalised 30-s mel window of `audio` starting at `offset` s, and its frames holding audio."""
        start = int(round(offset * SAMPLE_RATE))
        content = min(N_FRAMES, len(audio) // HOP_LENGTH)
        if start % HOP_LENGTH:  # off the hop grid: no cached frame lines up, compute the window whole
            return _normalise(log_mel_frames(audio, self.n_mels, padding=N_SAMPLES)), content
        if not self._origin <= start <= self._pushed or start // HOP_LENGTH < self._first_frame:
            self._restart(start)
        new = audio[self._pushed - start :]
        if len(new):
            self._frames = np.concatenate([self._frames, self._incremental.push(new)], axis=1)
            self._pushed += len(new)
        first = start // HOP_LENGTH
        self._frames = self._frames[:, first - self._first_frame :]
        self._first_frame = first
        cached = self._frames[:, :content]
        return _normalise(np.concatenate([cached, self._edge(audio, cached.shape[1], content)], axis=1)), content

    def _edge(self, audio: np.ndarray, have: int, content: int) -> np.ndarray:
        """Window frames [have, content + EDGE_FRAMES): they reach past the audio into the silence after it."""
        count = min(N_FRAMES, content + EDGE_FRAMES) - have
        if count <= 0:
            return np.zeros((self.n_mels, 0), np.float32)
        begin = (have - EDGE_HOPS) * HOP_LENGTH
        padding = (count + EDGE_HOPS + 1) * HOP_LENGTH
        if begin < 0:  # at the window's own start: reflect like the batch computation
            return log_mel_frames(audio, self.n_mels, padding=padding)[:, have : have + count]
        return log_mel_frames(audio[begin:], self.n_mels, padding=padding)[:, EDGE_HOPS : EDGE_HOPS + count]


def _normalise(raw: np.ndarray) -> np.ndarray:
    """openai-whisper's normalisation of a window padded with silence frames to 3000."""
    full = np.full((raw.shape[0], N_FRAMES), SILENT_FRAME, np.float32)
    full[:, : raw.shape[1]] = raw[:, :N_FRAMES]
    clamped = np.maximum(full, full.max() - DYNAMIC_RANGE_LOG10)
    return ((clamped + LOG_OFFSET) / LOG_SCALE).astype(np.float32)
