"""Fixtures for the fault tests: real subprocesses of the CLI, a small real filesystem, a model cache to damage,
the real model driven by an engine on its own thread, room noise."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from dictate.asr.transcribe import Recognizer
from dictate.constants import SAMPLE_RATE
from dictate.streaming.backend import WhisperBackend
from dictate.streaming.collect import TranscriptCollector
from dictate.streaming.engine import EngineOptions, StreamingEngine
from dictate.streaming.events import Event
from dictate.transcript.types import TranscriptInfo

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 300  # the longest a CLI run in these tests may take before it counts as hung
PULSE_DEVICE = "pulse"  # PortAudio's device for the test PulseAudio server (tests/conftest.py `pulse_server`)
CHUNK_S = 1.0  # an engine decodes every second of speech: enough on two busy cores
EVENT_WAIT_S = 60.0  # longest wait for an engine event
ROOM_NOISE_RMS = 0.003  # about -50 dBFS: a quiet room through a laptop microphone


def dictate_env(**overrides: str) -> dict[str, str]:
    """The environment of a `dictate` subprocess: this checkout importable, no TTY tricks."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    env.update(overrides)
    return env


def run_dictate(*args: str | Path, env: dict[str, str] | None = None,
                timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """`python -m dictate ARGS` as a real process; stdout and stderr captured as text."""
    return subprocess.run([sys.executable, "-m", "dictate", *map(str, args)], capture_output=True, text=True,
                          env=env or dictate_env(), timeout=timeout, cwd=REPO_ROOT)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The failure message of a CLI run that must fail cleanly: exit 2, one line, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def write_wav(path: Path, audio: np.ndarray, rate: int = SAMPLE_RATE, subtype: str = "PCM_16") -> Path:
    soundfile.write(path, audio, rate, subtype=subtype)
    return path


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """`tmpfs(name, "size=64k")` mounts a small real filesystem under tmp_path (needs root, as on our machines).

    Unmounted after the test. (The same helper lives in tests/unit/test_exporters.py; a shared fixture
    in tests/conftest.py is up to the lead.)
    """
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs to make a full or read-only disk here: {result.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=True)


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


@pytest.fixture
def model_cache(tmp_path: Path, tiny_model_dir: Path) -> Path:
    """A private DICTATE_CACHE_DIR whose tiny.en is hard links to the prepared one (cheap; damage by replacing)."""
    cache = tmp_path / "cache"
    folder = cache / "models" / tiny_model_dir.name
    folder.mkdir(parents=True)
    for source in tiny_model_dir.iterdir():
        try:
            os.link(source, folder / source.name)
        except OSError:  # another filesystem: a symbolic link reads the same
            (folder / source.name).symlink_to(source)
    return cache


def replace_file(path: Path, data: bytes) -> None:
    """Give `path` new contents in a new inode, so the linked original stays intact."""
    path.unlink()
    path.write_bytes(data)


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir)


class Session:
    """An engine on its own thread; every event is queued for the test and collected into a transcript."""

    def __init__(self, recognizer: Recognizer, source: Any) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.collector = TranscriptCollector()
        self.engine = StreamingEngine(EngineOptions(min_chunk_s=CHUNK_S), source, self._on_event,
                                      backend=WhisperBackend(recognizer))
        self.thread = threading.Thread(target=self.engine.run, name="engine")
        self.thread.start()

    def _on_event(self, event: Event) -> None:
        self.collector(event)
        self.events.put(event)

    def wait_for(self, wanted: Callable[[Event], bool], what: str) -> list[Event]:
        """Events up to and including the first `wanted` one."""
        seen: list[Event] = []
        deadline = time.monotonic() + EVENT_WAIT_S
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(event)
            if wanted(event):
                return seen
        pytest.fail(f"no {what} within {EVENT_WAIT_S} s; got {seen[-5:]}")

    def text(self) -> str:
        return "".join(s.text for s in self.collector.transcript(TranscriptInfo(duration=0.0)).segments).strip()

    def close(self) -> None:
        self.engine.stop()
        self.thread.join(timeout=60)


def brown_noise(seconds: int) -> np.ndarray:
    """Room noise: integrated white noise, high-passed a little (a leaky integrator), scaled to room level."""
    white = np.random.default_rng(7).standard_normal(seconds * SAMPLE_RATE)
    brown = np.empty_like(white)
    level = 0.0
    for start in range(0, len(white), SAMPLE_RATE):  # leaky integration in one-second pieces
        block = white[start : start + SAMPLE_RATE]
        steps = np.cumsum(block)
        brown[start : start + len(block)] = level * 0.999 ** np.arange(1, len(block) + 1) + steps * 0.02
        level = brown[start + len(block) - 1]
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")
    return (brown / np.sqrt(np.mean(brown**2)) * ROOM_NOISE_RMS).astype(np.float32)
