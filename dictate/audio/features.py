"""Whisper's log-mel spectrogram in numpy: the batch computation and an incremental one.

Both follow openai-whisper's `log_mel_spectrogram`: a periodic Hann window of
`N_FFT` samples every `HOP_LENGTH` samples over the audio reflect-padded by
`N_FFT // 2` at both ends (`torch.stft(center=True)`), the last STFT frame
dropped, power spectrum, Slaney mel filters, `log10`. Those are the *raw*
frames; `normalize_log_mel` then applies Whisper's window-wide dynamic-range
clamp and scaling. The incremental path produces the same raw frames piece by
piece, so a streaming caller can normalise any window of them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dictate.constants import HOP_LENGTH, N_FFT, N_FRAMES, SAMPLE_RATE

N_FREQS = N_FFT // 2 + 1  # rfft bins
STFT_PAD = N_FFT // 2  # samples of reflect padding at each end (center=True)
LOG_FLOOR = 1e-10  # mel power floor before log10
DYNAMIC_RANGE_LOG10 = 8.0  # log10 units kept below the window's maximum (80 dB)
LOG_OFFSET = 4.0  # Whisper's normalisation: (log10 + 4) / 4
LOG_SCALE = 4.0
MEL_BLOCK_FRAMES = 1000  # frames per FFT block: bounds the transient spectrum to ~2 MB

# Slaney's mel scale (librosa htk=False): linear below 1 kHz, logarithmic above.
_SLANEY_HZ_PER_MEL = 200.0 / 3.0
_SLANEY_LOG_START_HZ = 1000.0
_SLANEY_LOG_START_MEL = _SLANEY_LOG_START_HZ / _SLANEY_HZ_PER_MEL
_SLANEY_LOG_STEP = np.log(6.4) / 27.0  # mel step per e-fold of frequency in the log region


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _SLANEY_HZ_PER_MEL
    log = _SLANEY_LOG_START_MEL + np.log(np.maximum(hz, _SLANEY_LOG_START_HZ) / _SLANEY_LOG_START_HZ) / _SLANEY_LOG_STEP
    return np.where(hz >= _SLANEY_LOG_START_HZ, log, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * _SLANEY_HZ_PER_MEL
    log = _SLANEY_LOG_START_HZ * np.exp(
        _SLANEY_LOG_STEP * (np.maximum(mel, _SLANEY_LOG_START_MEL) - _SLANEY_LOG_START_MEL)
    )
    return np.where(mel >= _SLANEY_LOG_START_MEL, log, linear)


@lru_cache(maxsize=4)
def mel_filters(n_mels: int) -> np.ndarray:
    """Slaney-normalised mel filter bank float32 [n_mels, N_FREQS], as librosa's `mel(sr=16000, n_fft=400)`."""
    if n_mels <= 0:
        raise ValueError(f"n_mels must be positive, got {n_mels}")
    fft_hz = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), n_mels + 2))
    widths_hz = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths_hz[:-1, None]
    falling = ramps[2:] / widths_hz[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]  # norm="slaney": equal area per band
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


# The raw value of a frame of zeros (the log floor), computed as the frames are.
_SILENT_LOG_MEL = np.log10(np.maximum(np.zeros(1, dtype=np.float32), LOG_FLOOR))[0]


@lru_cache(maxsize=1)
def _hann_window() -> np.ndarray:
    """Periodic Hann window of N_FFT samples (torch.hann_window(N_FFT))."""
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    window.flags.writeable = False
    return window


def _log_mel_into(padded: np.ndarray, out: np.ndarray) -> None:
    """Raw log10 mel of the out.shape[1] frames starting every HOP_LENGTH in `padded`, written into
    `out` float32 [n_mels, n_frames]; the FFT runs MEL_BLOCK_FRAMES frames at a time."""
    frames = np.lib.stride_tricks.as_strided(
        padded,
        shape=(out.shape[1], N_FFT),
        strides=(HOP_LENGTH * padded.strides[0], padded.strides[0]),
        writeable=False,
    )
    filters = mel_filters(out.shape[0])
    for start in range(0, out.shape[1], MEL_BLOCK_FRAMES):
        stop = min(start + MEL_BLOCK_FRAMES, out.shape[1])
        spectrum = np.fft.rfft(frames[start:stop] * _hann_window(), axis=-1)  # complex64
        np.matmul(filters, (spectrum.real**2 + spectrum.imag**2).T, out=out[:, start:stop])
    np.maximum(out, LOG_FLOOR, out=out)
    np.log10(out, out=out)


def _frames_to_log_mel(padded: np.ndarray, n_frames: int, n_mels: int) -> np.ndarray:
    """Raw log10 mel float32 [n_mels, n_frames] of the frames starting every HOP_LENGTH in `padded`."""
    out = np.empty((n_mels, max(n_frames, 0)), dtype=np.float32)
    _log_mel_into(padded, out)
    return out


def _audible_frames(n_samples: int, padding: int, n_frames: int) -> int:
    """Frames that can see one of the `n_samples` audio samples; the later ones see only appended zeros
    (the end reflection mirrors zeros too when `padding` > STFT_PAD)."""
    if padding <= STFT_PAD:
        return n_frames
    return min(n_frames, -(-(n_samples + STFT_PAD) // HOP_LENGTH))


def log_mel_frames(audio: np.ndarray, n_mels: int = 80, padding: int = 0) -> np.ndarray:
    """Raw log10 mel frames float32 [n_mels, (len(audio) + padding) // HOP_LENGTH], before normalisation.

    `padding` zero samples are appended to the audio first, as openai-whisper does. Frames whose
    whole window is appended zeros get the silent value without an FFT (30 s of them per file).
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if padding < 0:
        raise ValueError(f"padding must be >= 0 samples, got {padding}")
    n_frames = (len(audio) + padding) // HOP_LENGTH  # STFT frames minus the dropped last one
    out = np.empty((n_mels, n_frames), dtype=np.float32)
    if n_frames == 0:
        return out
    audible = _audible_frames(len(audio), padding, n_frames)
    # The audible frames read the padded audio up to sample (audible - 1) * HOP_LENGTH + STFT_PAD - 1;
    # keeping more than STFT_PAD samples makes the start reflection that of the whole signal.
    kept = min(len(audio) + padding, max((audible - 1) * HOP_LENGTH + STFT_PAD, STFT_PAD + 1))
    if kept > len(audio):
        audio = np.concatenate([audio, np.zeros(kept - len(audio), dtype=np.float32)])
    _log_mel_into(np.pad(audio[:kept], STFT_PAD, mode="reflect"), out[:, :audible])
    out[:, audible:] = _SILENT_LOG_MEL
    return out


def normalize_log_mel(raw: np.ndarray) -> np.ndarray:
    """Whisper's normalisation of raw log10 frames: clamp to (max - 8) over the given window, then (x + 4) / 4."""
    raw = np.asarray(raw, dtype=np.float32)
    if raw.size == 0:
        return raw.copy()
    clamped = np.maximum(raw, raw.max() - DYNAMIC_RANGE_LOG10)
    return ((clamped + LOG_OFFSET) / LOG_SCALE).astype(np.float32)


def log_mel_spectrogram(audio: np.ndarray, n_mels: int = 80, padding: int = 0) -> np.ndarray:
    """Whisper's log-mel spectrogram float32 [n_mels, n_frames] of 16 kHz mono audio (openai-whisper's semantics)."""
    return normalize_log_mel(log_mel_frames(audio, n_mels=n_mels, padding=padding))


def pad_or_trim(array: np.ndarray, length: int = N_FRAMES, axis: int = -1) -> np.ndarray:
    """Zero-pad or cut `array` along `axis` to exactly `length` entries."""
    size = array.shape[axis]
    if size > length:
        return np.take(array, np.arange(length), axis=axis)
    if size < length:
        widths = [(0, 0)] * array.ndim
        widths[axis] = (0, length - size)
        return np.pad(array, widths)
    return array


class IncrementalLogMel:
    """Raw log10 mel frames of a growing signal, equal to `log_mel_frames` of all the samples pushed.

    `push` returns the frames the new samples complete (a frame needs the
    samples up to N_FFT // 2 after its centre); `finish` returns the last ones,
    computed with the end reflect padding of the batch computation.
    """

    def __init__(self, n_mels: int = 80) -> None:
        self.n_mels = n_mels
        self._head: list[np.ndarray] = []  # samples before the start padding can be built
        self._head_samples = 0
        self._padded = np.zeros(0, dtype=np.float32)  # padded signal from the next frame's first sample
        self._started = False
        self._finished = False
        self.frames_emitted = 0
        self.samples_pushed = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add 16 kHz samples; return the new raw frames float32 [n_mels, k] (k may be 0)."""
        if self._finished:
            raise RuntimeError("IncrementalLogMel.push after finish()")
        samples = np.array(samples, dtype=np.float32).reshape(-1)  # a copy: callers may reuse their buffer
        self.samples_pushed += len(samples)
        if not self._started:
            self._head.append(samples)
            self._head_samples += len(samples)
            if self._head_samples <= STFT_PAD:  # the start reflection needs samples 1..STFT_PAD
                return np.zeros((self.n_mels, 0), dtype=np.float32)
            head = np.concatenate(self._head)
            self._head = []
            self._started = True
            samples = np.concatenate([head[STFT_PAD:0:-1], head])
        self._padded = np.concatenate([self._padded, samples]) if len(self._padded) else samples
        n_frames = 1 + (len(self._padded) - N_FFT) // HOP_LENGTH if len(self._padded) >= N_FFT else 0
        return self._emit(self._padded, n_frames)

    def finish(self) -> np.ndarray:
        """The remaining frames, with the end reflect padding; the object accepts no more samples."""
        if self._finished:
            return np.zeros((self.n_mels, 0), dtype=np.float32)
        self._finished = True
        if not self._started:  # too short for any frame to be complete: the batch path handles it
            head = np.concatenate(self._head) if self._head else np.zeros(0, dtype=np.float32)
            return self._count(log_mel_frames(head, n_mels=self.n_mels))
        remaining = self.samples_pushed // HOP_LENGTH - self.frames_emitted
        tail = np.concatenate([self._padded, self._padded[-2 : -STFT_PAD - 2 : -1]])
        return self._emit(tail, remaining)

    def _emit(self, padded: np.ndarray, n_frames: int) -> np.ndarray:
        frames = _frames_to_log_mel(np.ascontiguousarray(padded), n_frames, self.n_mels)
        self._padded = padded[n_frames * HOP_LENGTH :]
        return self._count(frames)

    def _count(self, frames: np.ndarray) -> np.ndarray:
        self.frames_emitted += frames.shape[1]
        return frames
