"""Decode audio files into 16 kHz mono float32: whole files or bounded-memory blocks.

Any format libsndfile reads (wav, flac, ogg/opus, mp3 with libsndfile >= 1.1, ...)
is decoded with soundfile, mixed to mono by the channel mean and resampled with
soxr. Every failure a person can cause (missing file, not audio, empty) is an
`AudioFileError` whose message is one sentence naming the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile
import soxr

from dictate.constants import SAMPLE_RATE

RESAMPLE_QUALITY = "HQ"  # soxr's high quality: < 0.01 dB passband ripple, >= 120 dB rejection
DEFAULT_BLOCK_SECONDS = 30.0  # seconds of audio per block from iter_audio_blocks


class AudioFileError(Exception):
    """An audio file that cannot be used; the message is one sentence that names the file."""


@contextmanager
def _open_audio(path: str | Path) -> Iterator[soundfile.SoundFile]:
    """Open `path` for reading, turning every failure into an AudioFileError."""
    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"The audio file {path} does not exist.")
    if path.is_dir():
        raise AudioFileError(f"{path} is a folder, not an audio file.")
    try:
        size = path.stat().st_size
        handle = soundfile.SoundFile(path) if size else None
    except soundfile.SoundFileError as error:
        raise AudioFileError(f"{path} is not an audio file that can be read ({_reason(error)}).") from error
    except OSError as error:
        raise AudioFileError(f"The audio file {path} cannot be read ({error.strerror}).") from error
    if handle is None:
        raise AudioFileError(f"The audio file {path} is empty (0 bytes).")
    with handle:
        if handle.frames == 0:
            raise AudioFileError(f"The audio file {path} holds no audio (zero length).")
        try:
            yield handle
        except soundfile.SoundFileError as error:
            raise AudioFileError(
                f"The audio file {path} is damaged and could not be decoded ({_reason(error)})."
            ) from error


def _reason(error: soundfile.SoundFileError) -> str:
    return getattr(error, "error_string", None) or str(error)


def _to_mono(frames: np.ndarray) -> np.ndarray:
    """[n, channels] -> [n] float32 by the channel mean."""
    if frames.shape[1] == 1:
        return np.ascontiguousarray(frames[:, 0])
    return frames.mean(axis=1, dtype=np.float32)


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole file as mono float32 samples at `sample_rate` Hz."""
    with _open_audio(path) as handle:
        mono = _to_mono(handle.read(dtype="float32", always_2d=True))
        file_rate = handle.samplerate
    if file_rate != sample_rate:
        mono = soxr.resample(mono, file_rate, sample_rate, quality=RESAMPLE_QUALITY)
    return np.ascontiguousarray(mono, dtype=np.float32)


def iter_audio_blocks(
    path: str | Path, block_seconds: float = DEFAULT_BLOCK_SECONDS, sample_rate: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Mono float32 blocks of about `block_seconds` at `sample_rate` Hz, read and resampled in bounded memory.

    Concatenated, the blocks equal `load_audio(path, sample_rate)` up to resampler rounding.
    """
    if block_seconds <= 0:
        raise ValueError(f"block_seconds must be positive, got {block_seconds}")
    with _open_audio(path) as handle:
        file_rate = handle.samplerate
        resampler = None
        if file_rate != sample_rate:
            resampler = soxr.ResampleStream(file_rate, sample_rate, 1, dtype="float32", quality=RESAMPLE_QUALITY)
        block_frames = max(1, round(block_seconds * file_rate))
        for frames in handle.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
            mono = _to_mono(frames)
            block = resampler.resample_chunk(mono, last=False) if resampler else mono
            if len(block):
                yield block
        if resampler:
            tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            if len(tail):
                yield tail
