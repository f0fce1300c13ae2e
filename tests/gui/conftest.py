"""GUI test set-up: offscreen Qt, settings and autosave journals in temporary folders, the real window."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.exceptions import TimeoutError  # noqa: A004 - pytest-qt's waitUntil raises it

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before pytest-qt creates the QApplication

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from dictate.audio.capture import FileSource  # noqa: E402
from dictate.gui.caption_view import CaptionView  # noqa: E402
from dictate.gui.main_window import MainWindow  # noqa: E402
from dictate.gui.session_store import SessionStore  # noqa: E402
from dictate.gui.settings import load_settings, open_settings  # noqa: E402
from dictate.gui.worker_threads import join_all, running_threads  # noqa: E402

ENGINE_TIMEOUT_MS = 120_000  # generous: the suite runs on 2 busy cores
THREAD_EXIT_GRACE_MS = 5_000  # a worker's `finished` has been handled; its thread only has to return


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


@pytest.fixture(autouse=True)
def no_thread_left_running(qtbot) -> Iterator[None]:
    """Fails a test that leaves a worker thread running after its windows have closed. Then collects the test's
    garbage here, on the GUI thread: a Qt object in a reference cycle, collected later on the next test's engine
    thread, is destroyed there and Qt aborts the process (seen once in a fresh-clone run, test_text_profiles)."""
    yield
    try:
        qtbot.waitUntil(lambda: not running_threads(), timeout=THREAD_EXIT_GRACE_MS)
    except TimeoutError:
        left = len(running_threads())
        join_all()  # the next test starts clean all the same
        pytest.fail(f"{left} worker thread(s) still running after the test's windows closed")
    finally:
        gc.collect()


@pytest.fixture
def view(qtbot) -> CaptionView:
    """A caption view on its own, shown."""
    widget = CaptionView()
    qtbot.addWidget(widget)
    widget.resize(400, 120)
    widget.show()
    return widget


@pytest.fixture
def make_window(qtbot, journal_dir: Path, tmp_path: Path) -> Iterator:
    """Build real main windows (settings from the temporary store).

    Afterwards each is closed as a user closes it, the test waits until the close is accepted (the
    window ends its own work first), and only then is the window deleted."""
    windows: list[MainWindow] = []

    def make(file_source: FileSource | None = None, **options) -> MainWindow:
        options.setdefault("config_folder", tmp_path / "config")  # the vocabulary and profiles files
        store = open_settings()
        window = MainWindow(store, load_settings(store), file_source=file_source, sessions=SessionStore(journal_dir),
                            **options)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        qtbot.waitUntil(lambda: not window.isVisible() and not window.busy(), timeout=ENGINE_TIMEOUT_MS)
        window.deleteLater()


@pytest.fixture
def jfk_window(make_window, tiny_model_dir: Path, jfk_wav: Path) -> MainWindow:
    """The main window with the prepared default model, dictating from jfk.wav (as fast as it decodes)."""
    return make_window(FileSource(jfk_wav, realtime=False))


def dictate_to_end(window: MainWindow, qtbot, engine_timeout_ms: int) -> None:
    """Press Record and wait until the file source is exhausted and the tail is committed."""
    qtbot.waitUntil(window.record_button.isEnabled)
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        qtbot.mouseClick(window.record_button, Qt.MouseButton.LeftButton)
        assert window.record_button.text() == "Stop"
