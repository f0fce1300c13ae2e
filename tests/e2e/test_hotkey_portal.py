"""The GlobalShortcuts portal backend over a real D-Bus: a private dbus-daemon, and a stand-in portal that
answers as xdg-desktop-portal does (Request::Response signals, Activated / Deactivated to the caller).

No desktop portal runs here (GNOME 48+ and KDE have one): this checks our side of the conversation and
what the user is told when there is no portal at all."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest
from jeepney import DBusAddress, HeaderFields, Message, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, Proxy, ReceiveStopped, open_dbus_connection

from dictate.hotkey import HotkeyEdge, HotkeyUnavailable, parse_hotkey, portal
from dictate.hotkey.portal import PortalHotkeyListener

HOTKEY = parse_hotkey("Ctrl+Alt+Space")
TIMEOUT_S = 5.0


@pytest.fixture
def bus() -> Iterator[str]:
    """A private session bus; its address."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("needs dbus-daemon (Debian package dbus-daemon)")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        address = daemon.stdout.readline().strip()
        assert address, "dbus-daemon did not start"
        yield address
    finally:
        daemon.terminate()
        daemon.wait(TIMEOUT_S)


class FakePortal:
    """org.freedesktop.portal.Desktop with just the GlobalShortcuts interface."""

    def __init__(self, address: str, bind_response: int = portal.RESPONSE_SUCCESS) -> None:
        self.bind_response = bind_response
        self.calls: queue.Queue[Message] = queue.Queue()
        self.client = ""
        self.session = ""
        self._connection = open_dbus_connection(address)
        with DBusRouter(self._connection) as router:
            assert Proxy(message_bus, router).RequestName(portal.PORTAL_BUS_NAME)[0] == 1  # primary owner
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._connection.interrupt()  # the receive loop ends...
        self._thread.join(TIMEOUT_S)
        self._connection.close()  # ...before its selector is closed

    def next_call(self, member: str) -> Message:
        while True:
            call = self.calls.get(timeout=TIMEOUT_S)
            if call.header.fields[HeaderFields.member] == member:
                return call

    def press(self, member: str, timestamp_ms: int) -> None:
        self._send(new_signal(DBusAddress(portal.PORTAL_PATH, interface=portal.GLOBAL_SHORTCUTS), member, "osta{sv}",
                              (self.session, portal.SHORTCUT_ID, timestamp_ms, {})))

    def _send(self, message: Message) -> None:
        if message.header.message_type is MessageType.signal:
            message.header.fields[HeaderFields.destination] = self.client  # as the portal does: to the caller
        self._connection.send(message)

    def _respond(self, request: str, code: int, results: dict) -> None:
        self._send(new_signal(DBusAddress(request, interface=portal.REQUEST_INTERFACE), "Response", "ua{sv}",
                              (code, results)))

    def _serve(self) -> None:
        try:
            while True:
                message = self._connection.receive()
                if message.header.message_type is MessageType.method_call:
                    self._answer(message)
                    self.calls.put(message)  # after the answer: a test that saw the call sees its Response sent
        except (ReceiveStopped, OSError):
            pass

    def _answer(self, call: Message) -> None:
        fields = call.header.fields
        member, sender = fields[HeaderFields.member], fields[HeaderFields.sender]
        if member == "Get" and call.body == (portal.GLOBAL_SHORTCUTS, "version"):
            self._send(new_method_return(call, "v", (("u", 1),)))
        elif member == "CreateSession":
            self.client = sender
            options = call.body[0]
            request = portal.request_path(sender, options["handle_token"][1])
            element = portal.sender_path_element(sender)
            self.session = f"{portal.PORTAL_PATH}/session/{element}/{options['session_handle_token'][1]}"
            self._send(new_method_return(call, "o", (request,)))
            self._respond(request, 0, {"session_handle": ("s", self.session)})
        elif member == "BindShortcuts":
            session, shortcuts, _parent, options = call.body
            request = portal.request_path(sender, options["handle_token"][1])
            self._send(new_method_return(call, "o", (request,)))
            bound = [(shortcut_id, {"description": properties["description"],
                                    "trigger_description": ("s", "Ctrl+Alt+Space")})
                     for shortcut_id, properties in shortcuts]
            self._respond(request, self.bind_response, {"shortcuts": ("a(sa{sv})", bound)})
        elif member == "Close":
            self._send(new_method_return(call))
        else:
            self._send(new_error(call, "org.freedesktop.DBus.Error.UnknownMethod"))


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
    fake = FakePortal(bus, bind_response=portal.RESPONSE_CANCELLED)
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
