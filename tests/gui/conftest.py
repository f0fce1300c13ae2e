"""GUI test set-up: offscreen Qt, settings and autosave journals in temporary folders, the real window."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before pytest-qt creates the QApplication

from PySide6.QtCore import QSettings  # noqa: E402

from dictate.audio.capture import FileSource  # noqa: E402
from dictate.gui.main_window import MainWindow, RecorderState  # noqa: E402
from dictate.gui.session_store import SessionStore  # noqa: E402
from dictate.gui.settings import load_settings, open_settings  # noqa: E402

ENGINE_TIMEOUT_MS = 120_000  # generous: the suite runs on 2 busy cores


@pytest.fixture
def engine_timeout_ms() -> int:
    """How long a test waits for the engine (model load, a whole file)."""
    return ENGINE_TIMEOUT_MS


@pytest.fixture(autouse=True)
def settings_dir(tmp_path: Path) -> Path:
    """Every test gets its own, empty QSettings folder."""
    folder = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def journal_dir(tmp_path: Path) -> Path:
    return tmp_path / "journal"


@pytest.fixture
def make_window(qtbot, journal_dir: Path) -> Iterator:
    """Build real main windows (settings from the temporary store); each is closed cleanly afterwards."""
    windows: list[MainWindow] = []

    def make(file_source: FileSource | None = None, **options) -> MainWindow:
        store = open_settings()
        window = MainWindow(store, load_settings(store), file_source=file_source, sessions=SessionStore(journal_dir),
                            **options)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.state is not RecorderState.IDLE:
            with qtbot.waitSignal(window.recording_finished, timeout=ENGINE_TIMEOUT_MS):
                window.stop_recording()
        window.close()


@pytest.fixture
def jfk_window(make_window, tiny_model_dir: Path, jfk_wav: Path) -> MainWindow:
    """The main window with the prepared default model, dictating from jfk.wav (as fast as it decodes)."""
    return make_window(FileSource(jfk_wav, realtime=False))
