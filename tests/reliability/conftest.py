"""Fixtures for the fault tests: real subprocesses of the CLI, a small real filesystem, a model cache to damage."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile

from dictate.constants import SAMPLE_RATE

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 300  # the longest a CLI run in these tests may take before it counts as hung


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
