"""The X11 global hotkey under a real X server: xdotool presses the keys through XTest, as a keyboard does.

Holding the key long enough for the server's autorepeat (660 ms delay, 25/s on Xvfb) must still
give one press and one release, both with XKB's detectable autorepeat and with the timestamp pairing
used where XKB is missing. The Qt controller turns them into start/stop requests in both modes.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the controller needs no window: Qt stays off the display

from Xlib import X  # noqa: E402
from Xlib import display as xdisplay  # noqa: E402

from dictate.gui.hotkey import HotkeyController  # noqa: E402
from dictate.hotkey import HotkeyEdge, HotkeyEvent, HotkeyMode, HotkeyTaken, parse_hotkey  # noqa: E402
from dictate.hotkey.x11 import X11HotkeyListener  # noqa: E402
from tests.xserver import XServer, xvfb  # noqa: E402

HOTKEY = parse_hotkey("Ctrl+Alt+Space")
XDOTOOL_KEYS = "ctrl+alt+space"
HOLD_S = 1.5  # past the autorepeat delay: ~20 repeats arrive while held
EVENT_TIMEOUT_S = 5.0
QUIET_S = 0.3  # after the release: nothing more may arrive
SIGNAL_TIMEOUT_MS = 5_000


@pytest.fixture(scope="module")
def xserver() -> Iterator[XServer]:
    with xvfb() as server:
        yield server


class Recorder:
    """A listener's events and problems, gathered from its thread."""

    def __init__(self) -> None:
        self.events: queue.Queue[HotkeyEvent] = queue.Queue()
        self.problems: list[str] = []

    def next_edge(self) -> HotkeyEdge:
        return self.events.get(timeout=EVENT_TIMEOUT_S).edge

    def assert_quiet(self) -> None:
        with pytest.raises(queue.Empty):
            extra = self.events.get(timeout=QUIET_S)
            pytest.fail(f"an extra event arrived: {extra}")


@pytest.fixture
def start_listener(xserver: XServer) -> Iterator:
    listeners: list[X11HotkeyListener] = []

    def start(detectable_autorepeat: bool = True) -> tuple[X11HotkeyListener, Recorder]:
        listener = X11HotkeyListener(xserver.display, detectable_autorepeat=detectable_autorepeat)
        recorder = Recorder()
        listener.start(HOTKEY, recorder.events.put, recorder.problems.append)
        listeners.append(listener)
        return listener, recorder

    yield start
    for listener in listeners:
        listener.stop()
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("hotkey-x11")]


@pytest.mark.parametrize("detectable", [True, False], ids=["xkb-detectable-autorepeat", "timestamp-pairing"])
def test_holding_the_key_gives_one_press_and_one_release(xserver, start_listener, detectable):
    connection = xdisplay.Display(xserver.display)
    assert connection.get_keyboard_control().global_auto_repeat == X.AutoRepeatModeOn  # repeats really happen
    connection.close()
    listener, recorder = start_listener(detectable_autorepeat=detectable)
    assert listener.detectable_autorepeat is detectable

    xserver.xdotool("keydown", XDOTOOL_KEYS)
    assert recorder.next_edge() is HotkeyEdge.PRESS
    time.sleep(HOLD_S)  # the key is held: autorepeat runs
    xserver.xdotool("keyup", XDOTOOL_KEYS)
    assert recorder.next_edge() is HotkeyEdge.RELEASE
    recorder.assert_quiet()
    assert recorder.problems == []


def test_the_key_without_its_modifiers_is_not_the_hotkey(xserver, start_listener):
    _listener, recorder = start_listener()
    xserver.xdotool("key", "space", "ctrl+space", "alt+space")
    recorder.assert_quiet()


def test_capslock_on_does_not_hide_the_hotkey(xserver, start_listener):
    _listener, recorder = start_listener()
    xserver.xdotool("key", "Caps_Lock")
    try:
        xserver.xdotool("key", XDOTOOL_KEYS)
        assert [recorder.next_edge(), recorder.next_edge()] == [HotkeyEdge.PRESS, HotkeyEdge.RELEASE]
    finally:
        xserver.xdotool("key", "Caps_Lock")


def test_a_key_held_by_another_client_gives_a_clear_error(xserver, start_listener):
    other = xdisplay.Display(xserver.display)  # another X client grabs Ctrl+Alt+Space first
    try:
        keycode = other.keysym_to_keycode(0x20)
        other.screen().root.grab_key(keycode, X.ControlMask | X.Mod1Mask, False, X.GrabModeAsync, X.GrabModeAsync)
        other.sync()
        with pytest.raises(HotkeyTaken, match=r"Ctrl\+Alt\+Space is already taken by another application"):
            start_listener()
    finally:
        other.close()
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("hotkey-x11")]


def test_stop_releases_the_grab(xserver, start_listener):
    first, _ = start_listener()
    first.stop()
    _second, recorder = start_listener()  # would be HotkeyTaken if the first had kept its grab
    xserver.xdotool("key", XDOTOOL_KEYS)
    assert [recorder.next_edge(), recorder.next_edge()] == [HotkeyEdge.PRESS, HotkeyEdge.RELEASE]


@pytest.fixture
def controller(qtbot, xserver: XServer) -> Iterator[HotkeyController]:
    controller = HotkeyController(HOTKEY, HotkeyMode.TOGGLE, backend=X11HotkeyListener(xserver.display))
    assert controller.enable() is None
    yield controller
    controller.disable()
    assert not controller.is_enabled()


def test_toggle_mode_starts_on_one_press_and_stops_on_the_next(qtbot, xserver, controller):
    with qtbot.waitSignal(controller.start_requested, timeout=SIGNAL_TIMEOUT_MS):
        xserver.xdotool("key", XDOTOOL_KEYS)
    with qtbot.assertNotEmitted(controller.stop_requested, wait=int(QUIET_S * 1000)):
        pass  # the first press's release does not stop a toggle
    with qtbot.waitSignal(controller.stop_requested, timeout=SIGNAL_TIMEOUT_MS):
        xserver.xdotool("key", XDOTOOL_KEYS)


def test_hold_mode_starts_on_press_and_stops_on_release(qtbot, xserver, controller):
    controller.set_mode(HotkeyMode.HOLD)
    with qtbot.waitSignal(controller.start_requested, timeout=SIGNAL_TIMEOUT_MS):
        xserver.xdotool("keydown", XDOTOOL_KEYS)
    with qtbot.waitSignal(controller.stop_requested, timeout=SIGNAL_TIMEOUT_MS):
        xserver.xdotool("keyup", XDOTOOL_KEYS)


def test_the_controller_reports_a_taken_key(qtbot, xserver, controller):
    rival = HotkeyController(HOTKEY, backend=X11HotkeyListener(xserver.display))
    with qtbot.waitSignal(rival.problem, timeout=SIGNAL_TIMEOUT_MS) as problem:
        message = rival.enable()
    assert message == problem.args[0]
    assert "already taken" in message and not rival.is_enabled()


@pytest.mark.parametrize("detectable", [True, False], ids=["xkb-detectable-autorepeat", "timestamp-pairing"])
def test_the_hotkey_survives_keyboard_remapping(xserver, start_listener, detectable):
    """Typing characters the layout lacks (as XTest text insertion does) remaps spare keycodes. Without XKB
    the listener gets MappingNotify and re-reads the mapping; an XKB client is not sent the core event."""
    _listener, recorder = start_listener(detectable_autorepeat=detectable)
    xserver.xdotool("type", "ß€ŋ")  # not on the layout: xdotool maps them onto a spare keycode and back
    xserver.xdotool("key", XDOTOOL_KEYS)
    assert [recorder.next_edge(), recorder.next_edge()] == [HotkeyEdge.PRESS, HotkeyEdge.RELEASE]
    assert recorder.problems == []


def test_a_display_that_goes_away_is_reported(qtbot):
    with xvfb() as doomed:
        controller = HotkeyController(HOTKEY, backend=X11HotkeyListener(doomed.display))
        assert controller.enable() is None
        with qtbot.waitSignal(controller.problem, timeout=SIGNAL_TIMEOUT_MS) as problem:
            doomed.process.terminate()
    assert "no longer works" in problem.args[0]
    assert not controller.is_enabled()
    controller.disable()
