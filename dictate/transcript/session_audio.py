"""The session's audio, kept beside its journal: what the engine heard, on the session's timeline.

While the session records, the audio goes to `<journal>.wav` (16-bit PCM), flushed at least
every second: libsndfile rewrites the WAV header on a flush, so after a kill the file reads
whole up to the last flush. FLAC is not written live: a FLAC stream cut by a kill has no
length, and libsndfile cannot read it back. When the session closes, or at the next start
after a crash, the WAV becomes `<journal>.flac` (about half the size) and is deleted.

    writer = SessionAudioWriter(audio_path_for(journal))
    writer.write(samples, at=session_seconds)     # from the engine's thread, block by block
    writer.close()                                 # -> the .flac

Samples are placed at their session time: the silence between two recordings of one session
is written as zeros, so a word's start and end in the journal are its place in the file.
How long audio is kept is `AudioRetention`; `expire_audio` deletes what is older.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from dictate.constants import SAMPLE_RATE

RECORDING_SUFFIX = ".wav"  # while the session records: readable after a kill
KEPT_SUFFIX = ".flac"  # once the session is closed
FLUSH_EVERY_S = 1.0  # of audio: a kill loses at most this much
CONVERT_BLOCK = SAMPLE_RATE * 60  # samples read at a time when the WAV becomes FLAC
RETENTION_KINDS = ("days", "session", "never")


@dataclass(frozen=True)
class AudioRetention:
    """How long a session's audio is kept: `days` after it was written, until the session is closed, or not
    recorded at all."""

    kind: str = "days"
    days: int = 7

    def __post_init__(self) -> None:
        if self.kind not in RETENTION_KINDS:
            raise ValueError(f"unknown audio retention {self.kind!r}; choose one of {', '.join(RETENTION_KINDS)}")
        if self.days < 1:
            raise ValueError("audio is kept for at least one day")

    @property
    def records(self) -> bool:
        return self.kind != "never"


class SessionAudioError(OSError):
    """The session's audio could not be written (a full disk, a removed folder); the message says why."""


def audio_path_for(journal: Path, suffix: str = RECORDING_SUFFIX) -> Path:
    """The session audio file beside a journal (`2026-11-30_1200.jsonl` -> `2026-11-30_1200.wav`)."""
    return journal.with_suffix(suffix)


def find_session_audio(journal: Path) -> Path | None:
    """The session's audio file, kept (.flac) or still recording or cut short by a crash (.wav); None if none."""
    for suffix in (KEPT_SUFFIX, RECORDING_SUFFIX):
        path = audio_path_for(journal, suffix)
        if path.exists():
            return path
    return None


def read_session_audio(path: Path) -> np.ndarray:
    """The samples of a session audio file (float32, 16 kHz)."""
    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    if rate != SAMPLE_RATE:
        raise SessionAudioError(f"{path}: {rate} Hz session audio, expected {SAMPLE_RATE}")
    return samples


class SessionAudioWriter:
    """Appends a session's audio as it is recorded. Not thread-safe: one thread writes at a time."""

    def __init__(self, path: Path) -> None:
        """Record to `path` (a .wav); the audio a session recovered after a crash already has is kept first."""
        self.path = path
        earlier = find_session_audio(path)
        try:
            kept = read_session_audio(earlier) if earlier is not None else np.zeros(0, np.float32)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = soundfile.SoundFile(str(path), "w", samplerate=SAMPLE_RATE, channels=1, format="WAV",
                                             subtype="PCM_16")
            self._file.write(kept)
            self._file.flush()
        except (OSError, RuntimeError) as error:
            raise SessionAudioError(f"cannot record the session's audio to {path}: {path_error(error)}") from error
        if earlier is not None and earlier != path:
            earlier.unlink()
        self._written = len(kept)  # samples in the file
        self._unflushed = 0

    @property
    def seconds(self) -> float:
        return self._written / SAMPLE_RATE

    def write(self, samples: np.ndarray, at: float) -> None:
        """`samples` whose first one is at `at` seconds of the session; a gap before them is written as silence,
        audio before the end of the file (a block heard twice) is left out."""
        start = int(round(at * SAMPLE_RATE))
        samples = np.asarray(samples, dtype=np.float32)
        if start < self._written:
            samples = samples[self._written - start :]
            start = self._written
        gap = start - self._written
        try:
            if gap > 0:
                self._file.write(np.zeros(gap, np.float32))
            if len(samples):
                self._file.write(samples)
            self._written += gap + len(samples)
            self._unflushed += gap + len(samples)
            if self._unflushed >= FLUSH_EVERY_S * SAMPLE_RATE:
                self._file.flush()
                self._unflushed = 0
        except (OSError, RuntimeError) as error:
            raise SessionAudioError(f"the session's audio stopped at {self.seconds:.0f} s ({path_error(error)})"
                                    ) from error

    def close(self) -> Path:
        """Close the recording and keep it as FLAC; the kept file."""
        self._file.close()
        return keep_as_flac(self.path)


def path_error(error: BaseException) -> str:
    return str(error) or type(error).__name__


def keep_as_flac(wav: Path) -> Path:
    """Turn a session's recorded WAV (maybe cut by a crash) into its FLAC and delete the WAV."""
    flac = copy_as_flac(wav, wav.with_suffix(KEPT_SUFFIX))
    wav.unlink()
    return flac


def copy_as_flac(source: Path, target: Path) -> Path:
    """Write the audio of `source` (a session's .wav, even one still being recorded, or its .flac) to `target`
    as FLAC, whole or not at all; `target`."""
    partial = target.with_name(target.name + ".part")
    try:
        with soundfile.SoundFile(str(source)) as reader, \
                soundfile.SoundFile(str(partial), "w", samplerate=reader.samplerate, channels=1, format="FLAC",
                                    subtype="PCM_16") as writer:
            while len(block := reader.read(CONVERT_BLOCK, dtype="float32")):
                writer.write(block)
        partial.replace(target)
    except (OSError, RuntimeError) as error:
        partial.unlink(missing_ok=True)
        raise SessionAudioError(f"cannot write the session's audio to {target}: {path_error(error)}") from error
    return target


def expire_audio(folder: Path, retention: AudioRetention, now: float | None = None,
                 recording: Path | None = None) -> list[Path]:
    """Delete the session audio in `folder` that `retention` no longer keeps (all of it for "session" and
    "never"), except the one being recorded; a WAV a crash left is kept as FLAC first. The deleted files."""
    now = time.time() if now is None else now
    deleted = []
    for path in sorted(folder.glob(f"*{RECORDING_SUFFIX}")):
        if path != recording:
            keep_as_flac(path)
    for path in sorted(folder.glob(f"*{KEPT_SUFFIX}")):
        old = now - path.stat().st_mtime > retention.days * 86400
        if retention.kind != "days" or old:
            path.unlink()
            deleted.append(path)
    return deleted
