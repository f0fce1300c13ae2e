"""Capture path: callback -> ring -> consumer resampling, driven by a file and by a scripted device stream."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
import soxr

from dictate.audio.capture import Capture, CaptureBlock, CaptureError, FileSource, MicrophoneSource
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE


def read_all(capture: Capture) -> list[CaptureBlock]:
    blocks = []
    while not (blocks and blocks[-1].ended):
        blocks.append(capture.read(timeout=5.0))
    capture.close()
    return blocks


@pytest.fixture(scope="module")
def jfk(jfk_wav: Path) -> np.ndarray:
    return load_audio(jfk_wav)


def test_a_48k_stereo_file_comes_out_as_the_same_16k_mono_audio(jfk: np.ndarray, tmp_path: Path) -> None:
    mono48 = soxr.resample(jfk, SAMPLE_RATE, 48_000)
    path = tmp_path / "jfk48_stereo.wav"
    soundfile.write(path, np.stack([mono48, mono48], axis=1), 48_000, subtype="FLOAT")
    blocks = read_all(FileSource(path, realtime=False).open())
    audio = np.concatenate([b.samples for b in blocks])
    assert abs(len(audio) - len(jfk)) <= 2
    n = min(len(audio), len(jfk))
    error = np.sqrt(np.mean((audio[:n] - jfk[:n]) ** 2)) / np.sqrt(np.mean(jfk**2))
    assert error < 0.01
    assert sum(b.dropped_s for b in blocks) == 0 and sum(b.overflows for b in blocks) == 0


def test_a_fast_16k_file_is_delivered_sample_exact_in_lockstep(jfk_wav: Path, jfk: np.ndarray) -> None:
    capture = FileSource(jfk_wav, realtime=False).open()
    blocks = read_all(capture)
    assert np.array_equal(np.concatenate([b.samples for b in blocks]), jfk)
    assert max(len(b.samples) for b in blocks) <= 0.1 * SAMPLE_RATE  # one file block per read: no drift ahead


@dataclass
class ScriptedStream:
    """Stands in for the sound card: the test calls the capture callback as PortAudio would."""

    kwargs: dict[str, Any]
    started: bool = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        pass

    def feed(self, block: np.ndarray, **status: bool) -> None:
        flags = Status(**status)
        self.kwargs["callback"](block, len(block), None, flags)


@dataclass
class Status:
    input_overflow: bool = False
    input_underflow: bool = False

    def __bool__(self) -> bool:
        return self.input_overflow or self.input_underflow

    def __str__(self) -> str:
        return "input underflow" if self.input_underflow else "input overflow"


def open_scripted(samplerate: int, channels: int = 1, ring_seconds: float = 120.0) -> tuple[Capture, ScriptedStream]:
    streams: list[ScriptedStream] = []

    def factory(**kwargs: Any) -> ScriptedStream:
        streams.append(ScriptedStream(kwargs))
        return streams[-1]

    source = MicrophoneSource(device=3, stream_factory=factory, samplerate=samplerate, channels=channels)
    capture = source.open() if ring_seconds == 120.0 else Capture(
        factory, device=3, samplerate=samplerate, channels=channels, blocksize=960, ends=False, ring_seconds=ring_seconds
    )
    assert streams[0].started and streams[0].kwargs["device"] == 3
    return capture, streams[0]


def test_device_overflows_are_counted_and_reported() -> None:
    capture, stream = open_scripted(48_000)
    block = np.zeros((960, 1), np.float32)
    stream.feed(block, input_overflow=True)
    stream.feed(block)
    stream.feed(block, input_overflow=True)
    got = capture.read(timeout=1.0)
    assert got.overflows == 2 and not got.ended
    assert 0 < len(got.samples) <= 3 * 320  # 48 kHz -> 16 kHz; the resampler holds back its filter delay


def test_ring_overrun_is_measured_not_silent() -> None:
    capture, stream = open_scripted(16_000, channels=2, ring_seconds=1.0)
    for _ in range(50):  # 3 s of stereo audio into a 1 s ring before the consumer reads
        stream.feed(np.ones((960, 2), np.float32) * 0.5)
    got = capture.read(timeout=1.0)
    assert got.dropped_s == pytest.approx(2.0)
    assert len(got.samples) == SAMPLE_RATE and np.allclose(got.samples, 0.5)


def test_a_vanished_device_raises_a_capture_error() -> None:
    capture, stream = open_scripted(16_000)
    stream.feed(np.zeros((320, 1), np.float32))
    stream.kwargs["finished_callback"]()
    assert len(capture.read(timeout=1.0).samples) == 320  # the audio before the end is kept
    with pytest.raises(CaptureError, match="stopped"):
        capture.read(timeout=1.0)


def test_a_callback_status_error_raises_a_capture_error() -> None:
    capture, stream = open_scripted(16_000)
    stream.feed(np.zeros((320, 1), np.float32), input_underflow=True)
    with pytest.raises(CaptureError, match="underflow"):
        capture.read(timeout=1.0)


def test_a_device_that_cannot_open_raises_a_capture_error() -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("Invalid number of channels")

    with pytest.raises(CaptureError, match="Invalid number of channels"):
        MicrophoneSource(device=7, stream_factory=broken, samplerate=44_100).open()


def test_a_missing_file_raises_a_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError):
        FileSource(tmp_path / "missing.wav").open()


def test_resuming_with_a_pre_roll_keeps_the_last_half_second_heard_while_paused() -> None:
    capture, stream = open_scripted(16_000)
    stream.feed(np.full((16_000, 1), 0.1, np.float32))  # heard before the pause, then read
    capture.read(timeout=1.0)
    stream.feed(np.full((16_000, 1), 0.2, np.float32))  # 1 s while paused: not wanted...
    stream.feed(np.full((8_000, 1), 0.3, np.float32))  # ...but the last 0.5 s is the word said with the key press
    capture.skip_to_now(keep_s=0.5)
    got = capture.read(timeout=1.0)
    assert len(got.samples) == 8_000 and np.allclose(got.samples, 0.3) and got.dropped_s == 0
    stream.feed(np.full((320, 1), 0.4, np.float32))
    capture.skip_to_now(keep_s=0.5)  # never goes back before what was read already
    assert len(capture.read(timeout=1.0).samples) == 320
