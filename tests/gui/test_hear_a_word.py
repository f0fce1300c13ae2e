"""Hearing a word again, for real: jfk.wav dictated in the window, then Ctrl+click on a word plays its stretch
of the session's audio on the default output, which is the test PulseAudio server's null sink; its monitor is
recorded with parec and compared with the same stretch of jfk.wav."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from dictate.audio.capture import FileSource
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE
from dictate.gui.word_player import Stretch
from tests.conftest import SOURCE_NAME
from tests.gui.conftest import dictate_to_end

MIN_MATCH = 0.9  # normalised cross-correlation; PulseAudio resamples 16 -> 48 -> 16 kHz on the way
STARTUP_S = 3.0  # recorded after the click besides the stretch itself: a new output stream takes ~2 s (word_player)


def best_match(recorded: np.ndarray, expected: np.ndarray) -> float:
    """The highest normalised correlation of `expected` with any stretch of `recorded`."""
    if len(recorded) < len(expected):
        return 0.0
    products = np.correlate(recorded, expected, mode="valid")
    energy = np.sqrt(np.convolve(recorded**2, np.ones(len(expected)), mode="valid"))
    return float(np.max(products / (energy * np.linalg.norm(expected) + 1e-9)))


def heard(qtbot, view, click_at, seconds: float, env: dict[str, str], folder: Path) -> np.ndarray:
    """What the null sink's monitor receives while the view is Ctrl+clicked at `click_at` and `seconds` after."""
    raw = folder / f"monitor-{time.monotonic_ns()}.raw"
    with raw.open("wb") as out:
        recorder = subprocess.Popen(["parec", f"--device={SOURCE_NAME}", "--rate=16000", "--channels=1",
                                     "--format=float32le", "--raw", "--latency-msec=20"], stdout=out, env=env)
        try:
            time.sleep(0.3)  # the recorder is connected
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, click_at)
            qtbot.wait(int(seconds * 1000))
        finally:
            recorder.terminate()
            recorder.wait(timeout=5)
    return np.fromfile(raw, dtype=np.float32)


def test_ctrl_click_plays_the_word_and_a_selection_plays_as_a_whole(pulse_server, make_window, jfk_wav,
                                                                    tiny_model_dir, qtbot, engine_timeout_ms,
                                                                    tmp_path):
    if shutil.which("parec") is None:
        pytest.fail("parec is needed (Debian package pulseaudio-utils)")
    window = make_window(FileSource(jfk_wav, realtime=False))
    dictate_to_end(window, qtbot, engine_timeout_ms)  # the first recording: session time is the file's time
    view, speech = window.captions, load_audio(jfk_wav)
    spans = {}
    for span in view.spans:
        spans.setdefault(span.text.strip(",.").lower(), span)  # the first of each word
    country = spans["country"]

    def stretch(first, last) -> np.ndarray:
        padded = Stretch(first.word.start, last.word.end).padded()
        return speech[int(padded.start * SAMPLE_RATE) : int(padded.end * SAMPLE_RATE)]

    inside = QTextCursor(country.cursor)
    inside.setPosition(country.cursor.selectionStart() + 2)
    expected = stretch(country, country)
    recorded = heard(qtbot, view, view.cursorRect(inside).center(), len(expected) / SAMPLE_RATE + STARTUP_S,
                     pulse_server.env, tmp_path)
    assert best_match(recorded, expected) > MIN_MATCH

    selection = QTextCursor(spans["ask"].cursor)  # "ask not what": select from "ask" to the end of "what"
    selection.setPosition(spans["ask"].cursor.selectionStart())
    selection.setPosition(spans["what"].cursor.selectionEnd(), QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(selection)
    inside.setPosition(spans["not"].cursor.selectionStart() + 1)
    expected = stretch(spans["ask"], spans["what"])
    recorded = heard(qtbot, view, view.cursorRect(inside).center(), len(expected) / SAMPLE_RATE + STARTUP_S,
                     pulse_server.env, tmp_path)
    assert best_match(recorded, expected) > MIN_MATCH
