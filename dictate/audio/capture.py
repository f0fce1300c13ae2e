"""Audio input: a stream callback that only copies into a ring buffer; a consumer that resamples to 16 kHz.

Design: the ring holds mono audio at the DEVICE rate (the callback mixes
channels into a preallocated scratch array when the device gives more than
one). The consumer thread reads the ring by absolute index, so overruns are
counted exactly, and resamples with `soxr.ResampleStream` to 16 kHz.

The stream factory is injected: `MicrophoneSource` uses `sounddevice.InputStream`,
`FileSource` a `FileInputStream` that calls the very same callback with blocks
read from a file, paced at real time or as fast as the consumer takes them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile
import soxr

from dictate.audio.ring_buffer import RingBuffer
from dictate.constants import SAMPLE_RATE

RING_SECONDS = 120.0  # device audio kept for a consumer that falls behind
BLOCK_SECONDS = 0.02  # microphone callback block
FILE_BLOCK_SECONDS = BLOCK_SECONDS  # file "device" block: a file plays as a microphone delivers (0.1 s: +0.05 s waits)
READ_SECONDS = 5.0  # most device audio taken from the ring in one read
MAX_CHANNELS = 32  # widest device the callback's mixing scratch is sized for
RESAMPLE_QUALITY = "HQ"


class CaptureError(Exception):
    """The input failed (device missing or vanished, stream stopped); the message says which."""


@dataclass(frozen=True)
class InputDevice:
    """One input device as the GUI lists it."""

    index: int
    name: str
    channels: int
    default_samplerate: float
    is_default: bool


@dataclass(frozen=True)
class CaptureBlock:
    """16 kHz mono audio the consumer got, and what was lost just before it."""

    samples: np.ndarray
    dropped_s: float = 0.0  # device audio overwritten in the ring before these samples
    overflows: int = 0  # device overflows (status.input_overflow) since the previous block
    ended: bool = False  # the source is exhausted (files only); no more blocks follow


class StreamFactory(Protocol):
    """`sounddevice.InputStream`'s constructor, as far as capture uses it."""

    def __call__(
        self,
        *,
        samplerate: float,
        blocksize: int,
        device: Any,
        channels: int,
        dtype: str,
        callback: Callable[..., None],
        finished_callback: Callable[[], None],
    ) -> Any: ...


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as error:  # the module raises OSError when libportaudio is missing
        raise CaptureError(f"no audio input available: {error} (install libportaudio2)") from error
    return sounddevice


def list_input_devices() -> list[InputDevice]:
    """The input devices PortAudio sees, the default one flagged."""
    sounddevice = _sounddevice()
    default_input = sounddevice.default.device[0]
    return [
        InputDevice(
            index=index,
            name=info["name"],
            channels=info["max_input_channels"],
            default_samplerate=info["default_samplerate"],
            is_default=index == default_input,
        )
        for index, info in enumerate(sounddevice.query_devices())
        if info["max_input_channels"] > 0
    ]


class ConsumerPacer:
    """Lets a fast file stream run at most `lookahead` samples ahead of what the consumer took."""

    def __init__(self, lookahead: int = 0) -> None:
        self._lookahead = lookahead
        self._consumed = 0
        self._closed = False
        self._condition = threading.Condition()

    def consumed(self, total: int) -> None:
        """The consumer has now read `total` samples in all."""
        with self._condition:
            self._consumed = total
            self._condition.notify_all()

    def wait_for_room(self, written: int) -> bool:
        """Block until `written` samples are no more than `lookahead` ahead; False once closed."""
        with self._condition:
            self._condition.wait_for(lambda: self._closed or written - self._consumed <= self._lookahead)
            return not self._closed

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()


@dataclass(frozen=True)
class _NoStatus:
    """The callback status of a file stream: no overflow, no error."""

    input_overflow: bool = False

    def __bool__(self) -> bool:
        return False


class FileInputStream:
    """A fake `sounddevice.InputStream` that plays a file into the callback from its own thread."""

    def __init__(
        self,
        path: Path,
        realtime: bool,
        pacer: ConsumerPacer | None,
        *,
        samplerate: float,
        blocksize: int,
        device: Any,
        channels: int,
        dtype: str,
        callback: Callable[..., None],
        finished_callback: Callable[[], None],
    ) -> None:
        self._path, self._realtime, self._pacer = path, realtime, pacer
        self._samplerate, self._blocksize, self._channels = samplerate, blocksize, channels
        self._callback, self._finished_callback = callback, finished_callback
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._play, name="file-input", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._pacer is not None:
            self._pacer.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    close = stop

    def _play(self) -> None:
        started = time.monotonic()
        written = 0
        with soundfile.SoundFile(self._path) as handle:
            for block in handle.blocks(blocksize=self._blocksize, dtype="float32", always_2d=True):
                if self._pacer is not None and not self._pacer.wait_for_room(written):
                    break
                if self._realtime and self._stopping.wait(max(0.0, started + written / self._samplerate - time.monotonic())):
                    break
                if self._stopping.is_set():
                    break
                self._callback(block[:, : self._channels], len(block), None, _NoStatus())
                written += len(block)
        self._finished_callback()


class Capture:
    """A running input: the callback side fills the ring; `read` (the consumer side) gives 16 kHz blocks."""

    def __init__(
        self,
        stream_factory: StreamFactory,
        *,
        device: Any,
        samplerate: int,
        channels: int,
        blocksize: int,
        ends: bool,
        pacer: ConsumerPacer | None = None,
        ring_seconds: float = RING_SECONDS,
    ) -> None:
        if channels > MAX_CHANNELS:
            raise CaptureError(f"{channels} input channels; at most {MAX_CHANNELS} are supported")
        self.samplerate = samplerate
        self._ends = ends  # the stream stopping is the normal end (a file), not a failure
        self._pacer = pacer
        self._ring = RingBuffer(max(1, int(ring_seconds * samplerate)))
        self._scratch = np.zeros(max(blocksize, int(samplerate)), np.float32)  # mixing space for the callback
        self._cursor = 0  # absolute device sample the consumer reads next
        self._overflows = 0  # written by the callback only
        self._overflows_reported = 0
        self._status_error = ""  # the last callback status that was more than an overflow
        self._stream_finished = False
        self._wake = threading.Event()
        self._resampler = (
            soxr.ResampleStream(samplerate, SAMPLE_RATE, 1, dtype="float32", quality=RESAMPLE_QUALITY)
            if samplerate != SAMPLE_RATE
            else None
        )
        try:
            self._stream = stream_factory(
                samplerate=samplerate,
                blocksize=blocksize,
                device=device,
                channels=channels,
                dtype="float32",
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._stream.start()
        except CaptureError:
            raise
        except Exception as error:  # PortAudioError and friends: name the device and the cause
            raise CaptureError(f"cannot open input device {device!r}: {error}") from error

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """Audio thread: copy (mixing channels in place) into the ring; count trouble. Nothing else."""
        if status:
            if status.input_overflow:
                self._overflows += 1
            else:
                self._status_error = str(status)
        if indata.shape[1] == 1:
            self._ring.write(indata)
        else:
            mixed = self._scratch[:frames]
            np.sum(indata, axis=1, out=mixed)
            mixed *= 1.0 / indata.shape[1]
            self._ring.write(mixed)
        self._wake.set()

    def _finished(self) -> None:
        self._stream_finished = True
        self._wake.set()

    def read(self, timeout: float) -> CaptureBlock:
        """Wait up to `timeout` s for audio; return all there is (16 kHz), with losses and overflows counted.

        Raises CaptureError when the device stream failed or stopped on its own.
        """
        if self._ring.write_index == self._cursor and not self._stream_finished:
            self._wake.wait(timeout)
        self._wake.clear()
        finished = self._stream_finished  # read before the ring: audio written before the end is taken below
        if self._status_error and not self._ends:
            raise CaptureError(f"input stream error: {self._status_error}")
        start, device_audio = self._ring.read(self._cursor, int(READ_SECONDS * self.samplerate))
        dropped = start - self._cursor
        self._cursor = start + len(device_audio)
        if self._pacer is not None:
            self._pacer.consumed(self._cursor)
        ended = finished and self._cursor == self._ring.write_index
        if ended and not self._ends and len(device_audio) == 0:  # before resampling: soxr was flushed already
            raise CaptureError("the input stream stopped (device unplugged or taken by another program?)")
        samples = self._resample(device_audio, last=ended)
        overflows, self._overflows_reported = self._overflows - self._overflows_reported, self._overflows
        return CaptureBlock(samples, dropped / self.samplerate, overflows, ended and self._ends)

    def _resample(self, audio: np.ndarray, last: bool) -> np.ndarray:
        if self._resampler is None:
            return audio
        return self._resampler.resample_chunk(audio, last=last)

    @property
    def live(self) -> bool:
        """A device delivering as long as it works (not a file that ends)."""
        return not self._ends

    @property
    def pending_s(self) -> float:
        """Seconds of device audio waiting in the ring for the consumer."""
        return (self._ring.write_index - self._cursor) / self.samplerate

    def skip_to_now(self, keep_s: float = 0.0) -> None:
        """Forget the audio captured so far but its last `keep_s` seconds (the pre-roll after a pause).

        A paced file waited, so it loses nothing."""
        if self._pacer is None:
            keep = min(int(keep_s * self.samplerate), self._ring.capacity)
            self._cursor = max(self._cursor, self._ring.write_index - keep)

    def close(self) -> None:
        """Stop and close the stream (idempotent)."""
        if self._pacer is not None:
            self._pacer.close()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - a vanished device may fail to stop; it is gone either way
                pass


class AudioSource(Protocol):
    """Something the engine can open into a running `Capture`."""

    def open(self) -> Capture: ...


@dataclass(frozen=True)
class MicrophoneSource:
    """A live input device (None = the system default)."""

    device: int | str | None = None
    stream_factory: StreamFactory | None = None  # None = sounddevice.InputStream
    samplerate: int | None = None  # None = the device's default rate
    channels: int = 1

    def open(self) -> Capture:
        factory = self.stream_factory
        samplerate = self.samplerate
        if factory is None or samplerate is None:
            sounddevice = _sounddevice()
            factory = factory or sounddevice.InputStream
            if samplerate is None:
                try:
                    samplerate = int(sounddevice.query_devices(self.device, "input")["default_samplerate"])
                except Exception as error:  # noqa: BLE001 - PortAudioError / ValueError: no such device
                    raise CaptureError(f"no input device {self.device!r}: {error}") from error
        return Capture(
            factory,
            device=self.device,
            samplerate=samplerate,
            channels=self.channels,
            blocksize=max(1, int(BLOCK_SECONDS * samplerate)),
            ends=False,
        )


@dataclass(frozen=True)
class FileSource:
    """A file played through the capture path: at real time, or as fast as the consumer takes it."""

    path: Path
    realtime: bool = True

    def open(self) -> Capture:
        try:
            info = soundfile.info(str(self.path))
        except (soundfile.SoundFileError, RuntimeError) as error:
            raise CaptureError(f"cannot read {self.path}: {error}") from error
        pacer = None if self.realtime else ConsumerPacer()

        def factory(**kwargs: Any) -> FileInputStream:
            return FileInputStream(Path(self.path), self.realtime, pacer, **kwargs)

        return Capture(
            factory,
            device=str(self.path),
            samplerate=info.samplerate,
            channels=info.channels,
            blocksize=max(1, int(FILE_BLOCK_SECONDS * info.samplerate)),
            ends=True,
            pacer=pacer,
        )
