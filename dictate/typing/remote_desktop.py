"""Typing on Wayland through the xdg-desktop-portal RemoteDesktop portal (GNOME, KDE Plasma).

One portal session per dictation: CreateSession; SelectDevices asking for the keyboard, to be
remembered until revoked (persist_mode 2) and with the restore token of the last session if there
is one; Start, where the desktop asks the user once (a dialog: up to CONSENT_TIMEOUT_S) and then
restores the consent from the token without asking. Start's new token replaces the saved one (a
token serves once). Each character is a NotifyKeyboardKeysym press and release of its X keysym
(x11.keysym_for: Latin-1 as is, the rest as Unicode keysyms); Return, Tab and BackSpace are their
own keysyms, and no Shift is needed. The desktop maps each keysym to a key of its current layout.
Mutter (GNOME) was reported to drop a keysym the layout lacks ("No keycode found for keyval"); this
backend was tested against a stand-in portal only, never on a real GNOME or KDE desktop.

Where the bus has no portal, or the portal has no RemoteDesktop interface (xdg-desktop-portal-wlr
on Sway has none), the constructor fails within PROBE_TIMEOUT_S and no dialog is shown, so the
next backend (wtype...) is tried. D-Bus is spoken with jeepney's blocking connection: no thread.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from jeepney import Message, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

from dictate.portal_bus import (
    RESPONSE_CANCELLED,
    PortalRefused,
    close_session_call,
    create_session_call,
    is_response,
    new_token,
    portal_address,
    portal_version,
    read_response,
    request_path,
    response_rule,
    session_closed_rule,
)
from dictate.text.vocabulary import config_dir
from dictate.typing.base import InsertError, check_typeable
from dictate.typing.x11 import XK_BACKSPACE, XK_V, keysym_for

REMOTE_DESKTOP = "org.freedesktop.portal.RemoteDesktop"
DEVICE_KEYBOARD = 1  # SelectDevices' `types` and Start's `devices` bit
PERSIST_UNTIL_REVOKED = 2  # SelectDevices' `persist_mode`
KEY_RELEASED, KEY_PRESSED = 0, 1  # NotifyKeyboardKeysym's `state`
XK_SHIFT_L, XK_CONTROL_L = 0xFFE1, 0xFFE3

REQUEST_TIMEOUT_S = 10.0  # CreateSession's and SelectDevices' Responses (no dialog)
CONSENT_TIMEOUT_S = 120.0  # Start's Response: the user may be reading the consent dialog
CALL_TIMEOUT_S = 5.0  # a method's own reply (the portal answers at once)

RESTORE_TOKEN_FILE = "remote-desktop-token"  # in config_dir(): the consent, kept for the next session

PORTAL = portal_address(REMOTE_DESKTOP)


# --- pure message builders --------------------------------------------------------------------


def select_devices_call(session_handle: str, handle_token: str, restore_token: str | None) -> Message:
    """Ask for the keyboard, remembered until revoked; with the last session's token, no dialog."""
    options: dict[str, tuple[str, Any]] = {"handle_token": ("s", handle_token), "types": ("u", DEVICE_KEYBOARD),
                                           "persist_mode": ("u", PERSIST_UNTIL_REVOKED)}
    if restore_token:
        options["restore_token"] = ("s", restore_token)
    return new_method_call(PORTAL, "SelectDevices", "oa{sv}", (session_handle, options))


def start_call(session_handle: str, handle_token: str, parent_window: str = "") -> Message:
    return new_method_call(PORTAL, "Start", "osa{sv}", (session_handle, parent_window,
                                                         {"handle_token": ("s", handle_token)}))


def keysym_call(session_handle: str, keysym: int, state: int) -> Message:
    return new_method_call(PORTAL, "NotifyKeyboardKeysym", "oa{sv}iu", (session_handle, {}, keysym, state))


def tap_calls(session_handle: str, keysyms: Iterable[int]) -> list[Message]:
    """Press and release each keysym in turn."""
    return [keysym_call(session_handle, keysym, state) for keysym in keysyms for state in (KEY_PRESSED, KEY_RELEASED)]


def text_calls(session_handle: str, text: str) -> list[Message]:
    """The calls that type `text`: two per character ("\\n" is Return, "\\t" Tab)."""
    return tap_calls(session_handle, map(keysym_for, text))


def backspace_calls(session_handle: str, count: int) -> list[Message]:
    return tap_calls(session_handle, [XK_BACKSPACE] * count)


def paste_calls(session_handle: str, terminal: bool) -> list[Message]:
    """Ctrl+V, or Ctrl+Shift+V for a terminal (whose Ctrl+V types a literal ^V)."""
    held = [XK_CONTROL_L, XK_SHIFT_L] if terminal else [XK_CONTROL_L]
    return ([keysym_call(session_handle, keysym, KEY_PRESSED) for keysym in held] + tap_calls(session_handle, [XK_V])
            + [keysym_call(session_handle, keysym, KEY_RELEASED) for keysym in reversed(held)])


# --- pure readers -----------------------------------------------------------------------------


def keyboard_granted(results: Mapping[str, Any]) -> bool:
    """Whether Start's results grant the keyboard."""
    return bool(int(results.get("devices", 0)) & DEVICE_KEYBOARD)


# --- the restore token ------------------------------------------------------------------------


def restore_token_path() -> Path:
    return config_dir() / RESTORE_TOKEN_FILE


def load_restore_token(path: Path) -> str | None:
    """The saved token; None when there is none (or it cannot be read: the user is asked again)."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def save_restore_token(path: Path, token: str) -> None:
    """Replace the saved token atomically (readable by the user alone: it stands for their consent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.replace(temporary, path)


class RemoteDesktopInserter:
    """Types through the RemoteDesktop portal; one portal session (and one D-Bus connection) per dictation."""

    name = "remote-desktop"

    def __init__(self, env: Mapping[str, str] | None = None, token_path: Path | None = None) -> None:
        """`env`: its DBUS_SESSION_BUS_ADDRESS is the bus. `token_path`: where the consent is kept
        (restore_token_path() by default). Raises InsertError where the portal cannot type here."""
        env = os.environ if env is None else env
        address = env.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            raise InsertError("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
        self._token_path = restore_token_path() if token_path is None else token_path
        try:
            self._connection: DBusConnection | None = open_dbus_connection(address)
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a transport jeepney lacks
            raise InsertError(f"cannot connect to the D-Bus session bus ({exc})") from None
        self._responses: deque[Message] = deque()
        self._closed_signals: deque[Message] = deque()
        self._session = ""
        try:
            self._start_session()
        except BaseException:
            self.close()
            raise

    # The TextInserter protocol

    def type_text(self, text: str) -> None:
        check_typeable(text, self.name)
        self._send(text_calls(self._session, text))

    def backspace(self, count: int) -> None:
        self._send(backspace_calls(self._session, count))

    def paste_keystroke(self, terminal: bool = False) -> None:
        self._send(paste_calls(self._session, terminal))

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            if self._session and not self._closed_signals:
                self._connection.send_and_get_reply(close_session_call(self._session), timeout=CALL_TIMEOUT_S)
        except (OSError, TimeoutError):
            pass  # the session ends with the connection anyway
        finally:
            self._connection.close()
            self._connection = None

    # The portal session

    def _start_session(self) -> None:
        try:
            portal_version(self._connection, REMOTE_DESKTOP)
        except (DBusErrorResponse, TimeoutError) as exc:
            raise InsertError(f"this desktop offers no RemoteDesktop portal ({exc})") from None
        try:
            self._call(message_bus.AddMatch(response_rule()))
            self._connection.filter(response_rule(), queue=self._responses)
            results = self._request(lambda token: create_session_call(REMOTE_DESKTOP, token, new_token()),
                                    REQUEST_TIMEOUT_S)
            self._session = str(results["session_handle"])
            self._call(message_bus.AddMatch(session_closed_rule(self._session)))
            self._connection.filter(session_closed_rule(self._session), queue=self._closed_signals)
            saved = load_restore_token(self._token_path)
            self._request(lambda token: select_devices_call(self._session, token, saved), REQUEST_TIMEOUT_S)
            results = self._request(lambda token: start_call(self._session, token), CONSENT_TIMEOUT_S)
        except PortalRefused as exc:
            if exc.code == RESPONSE_CANCELLED:
                raise InsertError("you declined to let dictate type through the desktop's remote-control "
                                  "dialog (RemoteDesktop portal); it asks again at the next dictation") from None
            raise InsertError(f"the RemoteDesktop portal refused: {exc}") from None
        except (DBusErrorResponse, TimeoutError, OSError) as exc:
            raise InsertError(f"the RemoteDesktop portal failed ({exc})") from None
        if not keyboard_granted(results):
            raise InsertError("the desktop did not give dictate the keyboard (RemoteDesktop portal)")
        if results.get("restore_token"):
            try:
                save_restore_token(self._token_path, str(results["restore_token"]))
            except OSError:
                pass  # typing works; the user is asked again at the next dictation

    def _call(self, message: Message) -> None:
        """Sends a method call and waits for its reply; DBusErrorResponse for an error answer."""
        unwrap_msg(self._connection.send_and_get_reply(message, timeout=CALL_TIMEOUT_S))

    def _request(self, make_call: Callable[[str], Message], timeout_s: float) -> dict[str, Any]:
        """Calls `make_call(handle_token)`, waits for its Request's Response; the results."""
        token = new_token()
        self._call(make_call(token))
        path = request_path(self._connection.unique_name, token)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                response = self._connection.recv_until_filtered(self._responses,
                                                                timeout=max(deadline - time.monotonic(), 0))
            except TimeoutError:
                raise InsertError(f"the RemoteDesktop portal did not answer within {timeout_s:.0f} s") from None
            if is_response(response, path):
                return read_response(response)

    def _send(self, calls: list[Message]) -> None:
        """The key calls, one reply after another; InsertError with the characters delivered
        (a press and its release each) on the first failure."""
        if self._connection is None:
            raise InsertError("the RemoteDesktop session is closed")
        for index, call in enumerate(calls):
            try:
                reply = self._connection.send_and_get_reply(call, timeout=CALL_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise InsertError(f"the RemoteDesktop portal did not take a key ({exc})", delivered=index // 2) from None
            if self._closed_signals:
                raise InsertError("the desktop closed the RemoteDesktop session (remote control was stopped)",
                                  delivered=index // 2)
            if reply.header.message_type is MessageType.error:
                raise InsertError(f"the RemoteDesktop portal refused a key ({DBusErrorResponse(reply)})",
                                  delivered=index // 2)
