"""The GlobalShortcuts portal backend over a real D-Bus: a private dbus-daemon, and a stand-in portal that
answers as xdg-desktop-portal does (tests/portal_standin.py; Activated / Deactivated to the caller).

No desktop portal runs here (GNOME 48+ and KDE have one): this checks our side of the conversation and
what the user is told when there is no portal at all."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import pytest
from jeepney import HeaderFields, Message

from dictate import portal_bus
from dictate.hotkey import HotkeyEdge, HotkeyUnavailable, parse_hotkey, portal
from dictate.hotkey.portal import PortalHotkeyListener
from tests.portal_standin import TIMEOUT_S, StandInPortal, bus  # noqa: F401  (bus: a fixture)

HOTKEY = parse_hotkey("Ctrl+Alt+Space")


class FakePortal(StandInPortal):
    """The GlobalShortcuts interface: binds what it is asked to, presses on request."""

    interfaces = {portal.GLOBAL_SHORTCUTS: 1}

    def __init__(self, address: str, bind_response: int = portal_bus.RESPONSE_SUCCESS) -> None:
        self.bind_response = bind_response
        super().__init__(address)

    def press(self, member: str, timestamp_ms: int) -> None:
        self.signal(portal_bus.PORTAL_PATH, portal.GLOBAL_SHORTCUTS, member, "osta{sv}",
                    (self.session, portal.SHORTCUT_ID, timestamp_ms, {}))

    def answer(self, call: Message, member: str) -> bool:
        if member != "BindShortcuts":
            return False
        _session, shortcuts, _parent, options = call.body
        bound = [(shortcut_id, {"description": properties["description"],
                                "trigger_description": ("s", "Ctrl+Alt+Space")})
                 for shortcut_id, properties in shortcuts]
        self.answer_request(call, options, self.bind_response, {"shortcuts": ("a(sa{sv})", bound)})
        return True


@pytest.fixture
def fake_portal(bus: str) -> Iterator[FakePortal]:
    fake = FakePortal(bus)
    yield fake
    fake.close()


class Recorder:
    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()
        self.problems: queue.Queue[str] = queue.Queue()


@pytest.fixture
def listener(bus: str) -> Iterator[PortalHotkeyListener]:
    listener = PortalHotkeyListener(bus)
    yield listener
    listener.stop()
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("hotkey-portal")]


def _start(listener: PortalHotkeyListener) -> Recorder:
    recorder = Recorder()
    listener.start(HOTKEY, recorder.events.put, recorder.problems.put)
    return recorder


def test_binds_the_hotkey_and_reports_press_and_release(fake_portal, listener):
    recorder = _start(listener)
    fake_portal.next_call("CreateSession")
    session, shortcuts, _parent, _options = fake_portal.next_call("BindShortcuts").body
    assert session == fake_portal.session
    assert shortcuts == [(portal.SHORTCUT_ID, {"description": ("s", portal.SHORTCUT_DESCRIPTION),
                                               "preferred_trigger": ("s", "CTRL+ALT+space")})]
    fake_portal.press("Activated", 1000)
    fake_portal.press("Deactivated", 1600)
    assert recorder.events.get(timeout=TIMEOUT_S).edge is HotkeyEdge.PRESS
    assert recorder.events.get(timeout=TIMEOUT_S).edge is HotkeyEdge.RELEASE
    assert listener.trigger_description == "Ctrl+Alt+Space"

    listener.stop()
    assert fake_portal.next_call("Close").header.fields[HeaderFields.path] == fake_portal.session
    assert recorder.problems.empty()


def test_a_refused_binding_says_what_to_do(bus, listener):
    fake = FakePortal(bus, bind_response=portal_bus.RESPONSE_CANCELLED)
    try:
        recorder = _start(listener)
        problem = recorder.problems.get(timeout=TIMEOUT_S)
    finally:
        fake.close()
    assert "cancelled" in problem and "dictate toggle" in problem


def test_no_portal_on_the_bus_is_unavailable_with_the_cli_hint(listener):
    with pytest.raises(HotkeyUnavailable, match="no GlobalShortcuts portal.*dictate toggle"):
        _start(listener)


def test_no_bus_is_unavailable_with_the_cli_hint(tmp_path):
    listener = PortalHotkeyListener(f"unix:path={tmp_path / 'no-bus'}")
    with pytest.raises(HotkeyUnavailable, match="no D-Bus session bus.*dictate toggle"):
        listener.start(HOTKEY, print, print)
