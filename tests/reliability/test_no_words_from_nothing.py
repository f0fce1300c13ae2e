"""Silence, room noise and music without speech give no words (no "Thank you.", no subtitle credits),
in `dictate stream --fast` (10 minutes each) and `dictate transcribe` (3 minutes each, to keep the suite short)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dictate.constants import SAMPLE_RATE
from tests.reliability.conftest import brown_noise, run_dictate, write_wav

STREAM_SECONDS = 600
TRANSCRIBE_SECONDS = 180
CHORDS = ((261.63, 329.63, 392.00), (220.00, 261.63, 329.63), (174.61, 220.00, 261.63), (196.00, 246.94, 293.66))
CHORD_S = 2.0


def silence(seconds: int) -> np.ndarray:
    return np.zeros(seconds * SAMPLE_RATE, np.float32)


def chords(seconds: int) -> np.ndarray:
    """Triads of sine tones with harmonics, each with an attack/decay envelope."""
    t = np.arange(int(CHORD_S * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.minimum(t / 0.05, 1.0) * np.exp(-1.5 * t)
    bars = []
    for chord in CHORDS:
        tone = sum(np.sin(2 * np.pi * f * k * t) / k for f in chord for k in (1, 2, 3))
        bars.append(0.1 * envelope * tone / len(chord))
    loop = np.concatenate(bars)
    return np.resize(loop, seconds * SAMPLE_RATE).astype(np.float32)


SIGNALS = {"silence": silence, "room-noise": brown_noise, "music": chords}


@pytest.mark.parametrize("kind", SIGNALS)
def test_stream_writes_no_words(tmp_path: Path, kind: str) -> None:
    path = write_wav(tmp_path / f"{kind}.wav", SIGNALS[kind](STREAM_SECONDS))
    result = run_dictate("stream", "--fast", "--input", path, "--format", "txt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_transcribe_writes_no_words(tmp_path: Path) -> None:
    files = [write_wav(tmp_path / f"{kind}.wav", make(TRANSCRIBE_SECONDS)) for kind, make in SIGNALS.items()]
    result = run_dictate("transcribe", "--beam-size", "1", "-o", tmp_path / "out", *files)
    assert result.returncode == 0, result.stderr
    texts = {path.stem: (tmp_path / "out" / f"{path.stem}.txt").read_text().strip() for path in files}
    assert texts == {kind: "" for kind in SIGNALS}
