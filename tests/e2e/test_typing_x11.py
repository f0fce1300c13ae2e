"""Typing into another X11 application for real: Xvfb, an xterm running `cat > FILE` in its own process.

The file receives what the xterm received as keys, so it must equal the typed text
character for character (plus the Return that ends cat's last line).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import time
from pathlib import Path

import pytest
from Xlib import XK
from Xlib import display as xdisplay

from dictate.hotkey import HotkeyEdge, parse_hotkey
from dictate.hotkey.x11 import X11HotkeyListener
from dictate.text.stage import TextEdit
from dictate.typing import Focus, FocusGuard, InsertError, TypingSession, choose_inserter, command_clipboard
from dictate.typing.focus import X11Focus
from dictate.typing.paste import PasteInserter
from dictate.typing.x11 import XTestInserter
from tests.desktop import XTERM_CLIPBOARD_PASTE, XtermTarget, dictation_chunks, require, xvfb

REPO_ROOT = Path(__file__).resolve().parents[2]
LONE_KEY_HOLD_S = 1.5  # past Xvfb's 660-ms autorepeat delay

# ASCII and its punctuation, newlines, a tab, and characters a US layout does not have:
# accented Latin-1, typographic quotes, the euro sign, CJK, and more distinct ones (Greek)
# than the keyboard map has spare keycodes, so keycodes are lent out more than once.
TEXT = ("Hello, world! It's 5 o'clock; (a+b)*c = 42 % [x] {y} <z> ~`|\\ \"q\" ^_@#$&?\n"
        "Café, Straße, “quotes” and ‘single’, 20 € - 漢字\tend\n"
        "αβγδεζηθικλμνξοπρστυφχψω ΑΒΓΔ")


@pytest.fixture
def display():
    with xvfb() as x:
        yield x


def test_xtest_types_any_character_exactly_into_xterm(display, tmp_path):
    target = XtermTarget.start(display, tmp_path / "typed.txt")
    target.focus()
    inserter = choose_inserter("type", display.env)
    assert isinstance(inserter, XTestInserter)
    try:
        for chunk in dictation_chunks(TEXT):
            inserter.type_text(chunk)
        inserter.type_text(" typo")
        inserter.backspace(len(" typo"))
    finally:
        inserter.close()
    assert target.finish() == TEXT + "\n"


def test_a_held_modifier_holds_typing_back_until_it_is_released(display, tmp_path):
    target = XtermTarget.start(display, tmp_path / "typed.txt")
    target.focus()
    inserter = XTestInserter(display.env)
    try:
        display.xdotool("keydown", "ctrl")  # as a hold-to-talk hotkey with Ctrl would
        with pytest.raises(InsertError, match="Ctrl is held down") as caught:
            inserter.type_text("wq")  # would be Ctrl+W, Ctrl+Q
        assert caught.value.retry and caught.value.delivered == 0
        display.xdotool("keyup", "ctrl")
        inserter.type_text("wq")
    finally:
        inserter.close()
    assert target.finish() == "wq\n"


def test_typing_waits_while_the_hotkeys_key_is_down_even_with_ctrl_and_alt_let_go(display, tmp_path):
    """While the hotkey's key is down its grab is active and every key goes to the listener: words typed
    then would be lost. People let go of a chord in any order, so Ctrl and Alt may be up before Space."""
    target = XtermTarget.start(display, tmp_path / "typed.txt")
    target.focus()
    edges: queue.Queue = queue.Queue()
    hotkey = parse_hotkey("Ctrl+Alt+Space")
    listener = X11HotkeyListener(display.name)
    listener.start(hotkey, lambda event: edges.put(event.edge), edges.put)
    inserter = XTestInserter(display.env, hotkey=hotkey)
    try:
        display.xdotool("keydown", "ctrl+alt+space")
        assert edges.get(timeout=5) is HotkeyEdge.PRESS
        with pytest.raises(InsertError, match="Ctrl\\+Alt is held down") as caught:
            inserter.type_text("wq")
        assert caught.value.retry
        display.xdotool("keyup", "ctrl+alt")
        with pytest.raises(InsertError, match="the hotkey Ctrl\\+Alt\\+Space is held down") as caught:
            inserter.type_text("wq")
        assert caught.value.retry and caught.value.delivered == 0
        display.xdotool("keyup", "space")
        assert edges.get(timeout=5) is HotkeyEdge.RELEASE
        inserter.type_text("wq, once it is up")
    finally:
        inserter.close()
        listener.stop()
    assert target.finish() == "wq, once it is up\n"


def test_a_lone_hotkey_key_held_lets_the_words_be_typed_live(display, tmp_path):
    """Hold to talk with a key alone (F9) types while the key is held, past its autorepeat delay: the
    listener lets go of the keyboard at the press, and the key does not repeat while it listens (xterm
    would write each repeat as ESC [20~). Its autorepeat is the user's again once the listener stops."""
    target = XtermTarget.start(display, tmp_path / "typed.txt")
    target.focus()
    edges: queue.Queue = queue.Queue()
    hotkey = parse_hotkey("F9")
    listener = X11HotkeyListener(display.name)
    listener.start(hotkey, lambda event: edges.put(event.edge), edges.put)
    inserter = XTestInserter(display.env, hotkey=hotkey)
    try:
        assert not _repeats(display, "F9")
        display.xdotool("keydown", "F9")
        assert edges.get(timeout=5) is HotkeyEdge.PRESS
        inserter.type_text("typed while held")
        time.sleep(LONE_KEY_HOLD_S)
        inserter.type_text(", still held")
        display.xdotool("keyup", "F9")
        assert edges.get(timeout=5) is HotkeyEdge.RELEASE
        with pytest.raises(queue.Empty):
            pytest.fail(f"another edge: {edges.get(timeout=0.3)}")
    finally:
        inserter.close()
        listener.stop()
    assert _repeats(display, "F9")
    assert target.finish() == "typed while held, still held\n"


def _repeats(display, key: str) -> bool:
    """Whether the X server autorepeats `key` (its per-key setting)."""
    connection = xdisplay.Display(display.name)
    try:
        code = connection.keysym_to_keycode(XK.string_to_keysym(key))
        return bool(connection.get_keyboard_control().auto_repeats[code // 8] & (1 << (code % 8)))
    finally:
        connection.close()


def test_focus_tracker_follows_the_focus_and_knows_its_own_windows(display, tmp_path):
    target = XtermTarget.start(display, tmp_path / "target.txt", title="target")
    other = XtermTarget.start(display, tmp_path / "other.txt", title="other")
    tracker = X11Focus(display.env)
    own = _OwnWindow(display.env)
    try:
        target.focus()
        assert tracker.focused_window() == target.window
        info = tracker.window_info(target.window)
        assert info.pid == target.process.pid and info.wm_class == ("xterm", "XTerm") and info.title == "target"
        guard = FocusGuard(tracker)
        assert guard.start() is Focus.TARGET and guard.target == target.window
        other.focus()
        assert tracker.focused_window() == other.window
        assert guard.check() is Focus.ELSEWHERE
        display.xdotool("windowfocus", "--sync", str(own.id))
        assert guard.check() is Focus.OWN_WINDOW
        target.focus()
        assert guard.check() is Focus.TARGET
    finally:
        tracker.close()
        own.display.close()
        other.stop()
        target.stop()


def test_under_a_window_manager_the_tracker_follows_its_active_window(display, tmp_path):
    require("openbox")
    wm = subprocess.Popen(["openbox", "--sm-disable"], env=display.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    tracker = X11Focus(display.env)
    try:
        _wait_for_window_manager(display.env)
        target = XtermTarget.start(display, tmp_path / "target.txt", title="target")
        other = XtermTarget.start(display, tmp_path / "other.txt", title="other")
        display.xdotool("windowactivate", "--sync", str(target.window))
        assert tracker.focused_window() == target.window  # the client window, not openbox's frame
        guard = FocusGuard(tracker)
        assert guard.start() is Focus.TARGET
        display.xdotool("windowactivate", "--sync", str(other.window))
        assert guard.check() is Focus.ELSEWHERE
        display.xdotool("windowactivate", "--sync", str(target.window))
        assert guard.check() is Focus.TARGET
        inserter = XTestInserter(display.env)
        try:
            inserter.type_text("Typed under openbox: “ok” €")
        finally:
            inserter.close()
        display.xdotool("windowactivate", "--sync", str(target.window))
        display.xdotool("key", "Return", "ctrl+d")
        target.process.wait(timeout=5)
        assert target.path.read_text(encoding="utf-8") == "Typed under openbox: “ok” €\n"
        other.stop()
    finally:
        tracker.close()
        wm.terminate()
        wm.wait(timeout=10)


def _wait_for_window_manager(env, timeout_s: float = 10.0) -> None:
    """Until the window manager announces itself on the root window (_NET_SUPPORTING_WM_CHECK)."""
    from Xlib import display as xdisplay

    connection = xdisplay.Display(env["DISPLAY"])
    try:
        check = connection.intern_atom("_NET_SUPPORTING_WM_CHECK")
        deadline = time.monotonic() + timeout_s
        while connection.screen().root.get_full_property(check, 0) is None:
            assert time.monotonic() < deadline, "openbox did not start"
            time.sleep(0.05)
    finally:
        connection.close()


def test_typing_pauses_while_the_focus_is_on_another_window_and_nothing_reaches_it(display, tmp_path):
    target = XtermTarget.start(display, tmp_path / "target.txt", title="target")
    other = XtermTarget.start(display, tmp_path / "other.txt", title="other")
    target.focus()
    tracker = X11Focus(display.env)
    session = TypingSession(choose_inserter("type", display.env), FocusGuard(tracker))
    try:
        assert session.start() is Focus.TARGET
        assert not session.apply(TextEdit(0, " First words")).pending
        other.focus()
        report = session.apply(TextEdit(0, " said while away."))
        assert report.focus is Focus.ELSEWHERE and report.pending
        target.focus()
        assert not session.apply(TextEdit(0, " Back again.")).pending
        session.finish()
    finally:
        tracker.close()
    assert target.finish() == "First words said while away. Back again.\n"
    assert other.finish() == "\n"  # only the Return that ended its cat


def test_paste_mode_pastes_into_xterm_with_ctrl_shift_v_and_gives_the_clipboard_back(display, tmp_path):
    require("xclip")
    clipboard = command_clipboard(display.env)
    clipboard.set("the user's clipboard")
    target = XtermTarget.start(display, tmp_path / "pasted.txt", resources=[XTERM_CLIPBOARD_PASTE])
    target.focus()
    inserter = choose_inserter("paste", display.env, clipboard=clipboard)
    assert isinstance(inserter, PasteInserter)
    text = "Pasted words, “quoted” 漢字 €\nand a second line."
    try:
        for chunk in dictation_chunks(text):
            inserter.type_text(chunk)
    finally:
        inserter.close()
    assert clipboard.get() == "the user's clipboard"
    assert target.finish() == text + "\n"


class _OwnWindow:
    """A top-level window of this process, as the GUI's would be (WM_CLASS and _NET_WM_PID set)."""

    def __init__(self, env):
        from Xlib import X, Xatom, display

        self.display = display.Display(env["DISPLAY"])
        root = self.display.screen().root
        self.window = root.create_window(0, 0, 200, 100, 0, X.CopyFromParent)
        self.window.set_wm_class("dictate", "dictate")
        self.window.change_property(self.display.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [os.getpid()])
        self.window.map()
        self.display.sync()
        self.id = self.window.id



QT_PASTE = r'''
import sys
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QGuiApplication
from dictate.typing import Clipboard, choose_inserter

app = QGuiApplication(["paste-test"])
board = app.clipboard()
board.setText("the user's clipboard")


def sleep(seconds):  # the event loop runs meanwhile: Qt serves the target's request for the clipboard
    loop = QEventLoop()
    QTimer.singleShot(max(1, int(seconds * 1000)), loop.quit)
    loop.exec()


inserter = choose_inserter("paste", clipboard=Clipboard(board.text, board.setText), sleep=sleep)
for chunk in sys.argv[1:]:
    inserter.type_text(chunk)
inserter.close()
sleep(0.2)
print(board.text(), end="")
'''


def test_paste_mode_with_qts_clipboard_as_the_gui_passes_it(display, tmp_path):
    target = XtermTarget.start(display, tmp_path / "pasted.txt", resources=[XTERM_CLIPBOARD_PASTE])
    target.focus()
    text = "Qt's clipboard: “quoted” 漢字\nnext line."
    env = {**display.env, "QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run([sys.executable, "-c", QT_PASTE, *dictation_chunks(text)], env=env, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "the user's clipboard"
    assert target.finish() == text + "\n"
