"""A private D-Bus session bus and a stand-in xdg-desktop-portal, for the tests of portal clients.

No desktop portal runs here (GNOME and KDE have one). The stand-in owns org.freedesktop.portal.Desktop
on a private dbus-daemon and answers as xdg-desktop-portal does: the `version` property of the
interfaces it offers (an InvalidArgs error for the others, as GDBus answers), CreateSession and
every other request through a Request::Response signal sent to the caller, Session.Close. A subclass
answers its own interface's other methods in `answer`; every method call is recorded, in order.
`typed` reads back the text of the keys a RemoteDesktop client sent.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping

import pytest
from jeepney import DBusAddress, HeaderFields, Message, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusRouter, Proxy, ReceiveStopped, open_dbus_connection

from dictate import portal_bus
from dictate.typing.x11 import UNICODE_KEYSYM_OFFSET, XK_BACKSPACE, XK_RETURN, XK_TAB

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


class StandInPortal:
    """org.freedesktop.portal.Desktop with the interfaces (name -> version) a subclass offers."""

    interfaces: Mapping[str, int] = {}

    def __init__(self, address: str) -> None:
        self.calls: queue.Queue[Message] = queue.Queue()
        self.client = ""  # the unique name of the last caller of CreateSession
        self.session = ""  # the last session's handle
        self._connection = open_dbus_connection(address)
        with DBusRouter(self._connection) as router:
            assert Proxy(message_bus, router).RequestName(portal_bus.PORTAL_BUS_NAME)[0] == 1  # primary owner
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._connection.interrupt()  # the receive loop ends...
        self._thread.join(TIMEOUT_S)
        self._connection.close()  # ...before its selector is closed

    def next_call(self, member: str) -> Message:
        """The next recorded call of `member` (calls of others before it are passed over)."""
        while True:
            call = self.calls.get(timeout=TIMEOUT_S)
            if call.header.fields[HeaderFields.member] == member:
                return call

    def signal(self, path: str, interface: str, member: str, signature: str, body: tuple) -> None:
        """A signal to the caller, as the portal sends them."""
        message = new_signal(DBusAddress(path, interface=interface), member, signature, body)
        message.header.fields[HeaderFields.destination] = self.client
        self._connection.send(message)

    def reply(self, call: Message, signature: str | None = None, body: tuple = ()) -> None:
        self._connection.send(new_method_return(call, signature, body))

    def fail(self, call: Message, name: str, text: str) -> None:
        self._connection.send(new_error(call, name, "s", (text,)))

    def answer_request(self, call: Message, options: Mapping, code: int, results: Mapping) -> None:
        """Answers `call` with its Request's path, then sends that Request's Response."""
        request = portal_bus.request_path(call.header.fields[HeaderFields.sender], options["handle_token"][1])
        self.reply(call, "o", (request,))
        self.signal(request, portal_bus.REQUEST_INTERFACE, "Response", "ua{sv}", (code, dict(results)))

    def answer(self, call: Message, member: str) -> bool:
        """A subclass answers its interface's other methods here; False: not one of them."""
        return False

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
        if member == "Get" and call.body[1] == "version":
            if call.body[0] in self.interfaces:
                self.reply(call, "v", (("u", self.interfaces[call.body[0]]),))
            else:
                self.fail(call, "org.freedesktop.DBus.Error.InvalidArgs", f"No such interface '{call.body[0]}'")
        elif member == "CreateSession":
            self.client = sender
            options = call.body[0]
            element = portal_bus.sender_path_element(sender)
            self.session = f"{portal_bus.PORTAL_PATH}/session/{element}/{options['session_handle_token'][1]}"
            self.answer_request(call, options, portal_bus.RESPONSE_SUCCESS, {"session_handle": ("s", self.session)})
        elif member == "Close":
            self.reply(call)
        elif not self.answer(call, member):
            self.fail(call, "org.freedesktop.DBus.Error.UnknownMethod", f"no method {member}")


def typed(keys: list[tuple[int, int]]) -> str:
    """The text that (keysym, state) key events type ("\\b" for BackSpace), checking that every key is
    pressed (1) and then released (0) before the next one."""
    assert [state for _keysym, state in keys] == [1, 0] * (len(keys) // 2)
    assert all(keys[index][0] == keys[index + 1][0] for index in range(0, len(keys), 2))
    named = {XK_RETURN: "\n", XK_TAB: "\t", XK_BACKSPACE: "\b"}

    def character(keysym: int) -> str:
        if keysym in named:
            return named[keysym]
        return chr(keysym - UNICODE_KEYSYM_OFFSET if keysym >= UNICODE_KEYSYM_OFFSET else keysym)

    return "".join(character(keysym) for keysym, _state in keys[::2])
