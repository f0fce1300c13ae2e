"""The dictation overlay: the text it is given, its place, the no-focus window set-up, and (under a real X
server with a window manager) that showing it leaves the keyboard focus in the window the user types in."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget

from dictate.gui.overlay import BOTTOM_MARGIN_PX, DictationOverlay
from tests.xserver import XServer, require_tools, xvfb

REPO_ROOT = Path(__file__).resolve().parents[2]
NO_FOCUS_FLAGS = (Qt.WindowType.Tool, Qt.WindowType.FramelessWindowHint, Qt.WindowType.WindowStaysOnTopHint,
                  Qt.WindowType.WindowDoesNotAcceptFocus, Qt.WindowType.WindowTransparentForInput)
NO_FOCUS_ATTRIBUTES = (Qt.WidgetAttribute.WA_ShowWithoutActivating, Qt.WidgetAttribute.WA_TransparentForMouseEvents)
PROCESS_TIMEOUT_S = 20.0
FOCUS_WAIT_S = 5.0  # a window manager hands the focus to a new window within milliseconds
SETTLE_S = 0.5  # after the overlay is exposed: time the window manager would have taken to move the focus


@pytest.fixture
def overlay(qtbot) -> Iterator[DictationOverlay]:
    widget = DictationOverlay()
    qtbot.addWidget(widget)
    yield widget


def test_window_set_up_never_takes_focus_or_input(overlay):
    flags = overlay.windowFlags()
    for flag in NO_FOCUS_FLAGS:
        assert flags & flag, flag
    for attribute in NO_FOCUS_ATTRIBUTES:
        assert overlay.testAttribute(attribute), attribute
    assert overlay.focusPolicy() is Qt.FocusPolicy.NoFocus
    assert all(child.focusPolicy() is Qt.FocusPolicy.NoFocus for child in overlay.findChildren(QWidget))


def test_shows_the_state_the_tentative_tail_and_a_notice(qtbot, overlay):
    overlay.show_state("Listening", level_db=-18.0, lag_s=0.42)
    overlay.set_tentative("and the words not yet final")
    overlay.show()
    qtbot.waitExposed(overlay)
    assert overlay.state_text() == "Listening"
    assert overlay.tentative_text() == "and the words not yet final"
    labels = {label.objectName(): label for label in overlay.findChildren(QLabel)}
    assert labels["overlayLag"].text() == "lag 0.4 s"
    assert labels["overlayTentative"].text() == "and the words not yet final"
    assert not labels["overlayNotice"].isVisible()

    overlay.show_notice("Typing paused: the focus moved")
    assert overlay.notice_text() == "Typing paused: the focus moved" and labels["overlayNotice"].isVisible()
    overlay.clear_notice()
    assert overlay.notice_text() == "" and not labels["overlayNotice"].isVisible()


def test_a_long_tail_keeps_its_end(qtbot, overlay):
    words = " ".join(f"word{n}" for n in range(200))
    overlay.show()
    qtbot.waitExposed(overlay)
    overlay.set_tentative(words)
    shown = overlay.findChild(QLabel, "overlayTentative").text()
    assert shown.endswith("word199") and len(shown) < len(words)
    assert overlay.tentative_text() == words


def test_sits_at_the_bottom_centre_of_the_screen(qtbot, overlay):
    overlay.show_state("Listening")
    overlay.show()
    qtbot.waitExposed(overlay)
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert abs(overlay.geometry().center().x() - area.center().x()) <= 1
    assert area.y() + area.height() - (overlay.geometry().y() + overlay.height()) == BOTTOM_MARGIN_PX
    assert overlay.width() < area.width()


# --- under a real X server -----------------------------------------------------------------------

# A plain X client with one window: the application the user dictates into.
TARGET = textwrap.dedent("""
    import sys
    from Xlib import X, display
    connection = display.Display()
    screen = connection.screen()
    window = screen.root.create_window(40, 40, 400, 300, 0, screen.root_depth, background_pixel=screen.white_pixel)
    window.set_wm_name("target")
    window.map()
    connection.sync()
    print(window.id, flush=True)
    sys.stdin.readline()
""")

# Shows the overlay (or, as the control, a plain window) over Qt's xcb platform; says when it is exposed.
SHOW = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtCore import QSocketNotifier, QTimer
    from PySide6.QtWidgets import QApplication, QWidget
    from dictate.gui.overlay import DictationOverlay
    app = QApplication([])
    if sys.argv[1] == "overlay":
        widget = DictationOverlay()
        widget.show_state("Listening", -20.0, 0.3)
        widget.set_tentative("the tentative tail")
    else:
        widget = QWidget()
        widget.resize(300, 200)
    widget.show()
    def exposed():
        if widget.windowHandle() is not None and widget.windowHandle().isExposed():
            print(int(widget.winId()), flush=True)
        else:
            QTimer.singleShot(20, exposed)
    QTimer.singleShot(0, exposed)
    stdin = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    stdin.activated.connect(app.quit)
    app.exec()
""")


@pytest.fixture(scope="module")
def desktop() -> Iterator[XServer]:
    require_tools("openbox")
    with xvfb() as server:
        server.start_window_manager()
        yield server


def _start(server: XServer, *args: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env={**server.env, "PYTHONPATH": str(REPO_ROOT)},
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    server.helpers.append(process)
    line = process.stdout.readline()
    if not line.strip():
        pytest.fail(f"{args[-1]} did not start (exit status {process.wait(PROCESS_TIMEOUT_S)})")
    return process, int(line)


def _close(process: subprocess.Popen) -> None:
    process.stdin.write("\n")
    process.stdin.flush()
    assert process.wait(PROCESS_TIMEOUT_S) == 0


def _focus(server: XServer) -> int:
    return int(server.xdotool("getwindowfocus"))


def _focus_becomes(server: XServer, window: int) -> bool:
    deadline = time.monotonic() + FOCUS_WAIT_S
    while _focus(server) != window:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _focused_target(server: XServer) -> tuple[subprocess.Popen, int]:
    target, window = _start(server, "-c", TARGET, "target")
    server.xdotool("windowactivate", "--sync", str(window))
    assert _focus_becomes(server, window)
    return target, window


def test_showing_the_overlay_leaves_the_focus_in_the_target_window(desktop):
    target, target_window = _focused_target(desktop)
    # The control: an ordinary window does take the focus here, so the check below can see a theft.
    plain, plain_window = _start(desktop, "-c", SHOW, "plain")
    assert _focus_becomes(desktop, plain_window)
    _close(plain)
    desktop.xdotool("windowactivate", "--sync", str(target_window))
    assert _focus_becomes(desktop, target_window)

    overlay, overlay_window = _start(desktop, "-c", SHOW, "overlay")
    time.sleep(SETTLE_S)  # waiting for something not to happen
    assert _focus(desktop) == target_window != overlay_window
    _close(overlay)
    _close(target)
