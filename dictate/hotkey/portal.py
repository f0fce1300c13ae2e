"""Wayland global hotkey: the xdg-desktop-portal GlobalShortcuts portal (KDE Plasma 5.27+, GNOME 48+).

CreateSession, then BindShortcuts with the hotkey as the preferred trigger (the desktop may show a
dialog and let the user choose another), then Activated / Deactivated signals are the press and the
release. Each method answers through a Request object's Response signal (the plumbing that every
portal shares is in dictate/portal_bus.py).

D-Bus is spoken with jeepney, not QtDBus: PySide6 cannot marshal BindShortcuts' `a(sa{sv})`
argument (QDBusArgument needs a C++-registered type for an array of structures). Every message sent
is built by a pure function below, so tests check exactly what goes over the bus without a portal.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jeepney import HeaderFields, MatchRule, Message, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusConnection, DBusRouter, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse

from dictate import portal_bus
from dictate.hotkey.backend import (
    BIND_CLI_HINT,
    HotkeyEdge,
    HotkeyEvent,
    HotkeyUnavailable,
)
from dictate.hotkey.keys import Hotkey, Modifier
from dictate.portal_bus import (
    PORTAL_PATH,
    PROBE_TIMEOUT_S,
    REQUEST_INTERFACE,  # noqa: F401  (this backend's tests build Responses with it)
    PortalRefused,
    close_session_call,
    is_response,
    new_token,
    portal_version,
    read_response,
    request_path,
    response_rule,
)

GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
SHORTCUT_ID = "dictate"  # the one shortcut this app binds
SHORTCUT_DESCRIPTION = "Dictate: hold to talk, or press to start and stop"

SESSION_TIMEOUT_S = 30.0  # CreateSession's Response (no dialog)
JOIN_TIMEOUT_S = 5.0

# The shortcuts specification's modifier names (XKB_MOD_NAME_*), in a fixed order.
_TRIGGER_MODIFIERS = {Modifier.CTRL: "CTRL", Modifier.ALT: "ALT", Modifier.SHIFT: "SHIFT", Modifier.SUPER: "LOGO"}

PORTAL = portal_bus.portal_address(GLOBAL_SHORTCUTS)


# --- pure message builders --------------------------------------------------------------------


def portal_trigger(hotkey: Hotkey) -> str:
    """The preferred trigger in the freedesktop shortcuts specification's form: "CTRL+ALT+space"."""
    return "+".join([*(_TRIGGER_MODIFIERS[modifier] for modifier in hotkey.ordered_modifiers()), hotkey.key])


def version_query() -> Message:
    return portal_bus.version_query(GLOBAL_SHORTCUTS)


def create_session_call(handle_token: str, session_token: str) -> Message:
    return portal_bus.create_session_call(GLOBAL_SHORTCUTS, handle_token, session_token)


def bind_shortcuts_call(session_handle: str, hotkey: Hotkey, handle_token: str, parent_window: str = "") -> Message:
    shortcut = (SHORTCUT_ID, {"description": ("s", SHORTCUT_DESCRIPTION),
                              "preferred_trigger": ("s", portal_trigger(hotkey))})
    return new_method_call(PORTAL, "BindShortcuts", "oa(sa{sv})sa{sv}", (
        session_handle, [shortcut], parent_window, {"handle_token": ("s", handle_token)}))


def shortcut_rule(member: str) -> MatchRule:
    """GlobalShortcuts' Activated or Deactivated signals from the portal."""
    return MatchRule(type="signal", interface=GLOBAL_SHORTCUTS, member=member, path=PORTAL_PATH)


# --- pure readers -----------------------------------------------------------------------------


def bound_trigger(results: Mapping[str, Any]) -> str | None:
    """From BindShortcuts' results: how the user triggers our shortcut ("" if the desktop does not
    say), or None when our shortcut was not bound."""
    for shortcut_id, properties in results.get("shortcuts", []):
        if shortcut_id == SHORTCUT_ID:
            return properties.get("trigger_description", ("s", ""))[1]
    return None


def shortcut_event(message: Message, session_handle: str) -> HotkeyEvent | None:
    """An Activated / Deactivated signal of our session's shortcut as a hotkey event, else None."""
    if message.header.message_type is not MessageType.signal:
        return None
    member = message.header.fields.get(HeaderFields.member)
    if message.header.fields.get(HeaderFields.interface) != GLOBAL_SHORTCUTS or member not in (
            "Activated", "Deactivated"):
        return None
    handle, shortcut_id, timestamp_ms, _options = message.body
    if handle != session_handle or shortcut_id != SHORTCUT_ID:
        return None
    return HotkeyEvent(HotkeyEdge.PRESS if member == "Activated" else HotkeyEdge.RELEASE, int(timestamp_ms))


@dataclass
class _Bus:
    """Our D-Bus connection and the router thread that reads it."""

    router: DBusRouter
    connection: DBusConnection


class PortalHotkeyListener:
    """The GlobalShortcuts portal as a hotkey backend; its D-Bus talk runs on a thread of its own."""

    name = "GlobalShortcuts portal"

    def __init__(self, bus: str = "SESSION") -> None:
        self._bus = bus  # "SESSION" or a D-Bus address (tests run a private bus)
        self._bus_link: _Bus | None = None
        self._thread: threading.Thread | None = None
        self._inbox: queue.Queue[Message | None] = queue.Queue()  # None: stop
        self.trigger_description = ""  # how the desktop says the shortcut is triggered, once bound

    def start(self, hotkey: Hotkey, on_event: Callable[[HotkeyEvent], None],
              on_problem: Callable[[str], None]) -> None:
        """Checks that the portal exists (or raises HotkeyUnavailable); the binding, which may wait for
        the user in a dialog, goes on in the thread, and a refusal reaches `on_problem`."""
        if self._thread is not None:
            raise RuntimeError("the listener is running already")
        try:
            connection = open_dbus_connection(self._bus)
        except (OSError, KeyError, ValueError) as exc:  # KeyError: no DBUS_SESSION_BUS_ADDRESS
            raise HotkeyUnavailable(f"no D-Bus session bus ({exc!r}), so no global shortcuts portal: "
                                    f"{BIND_CLI_HINT}") from exc
        router = DBusRouter(connection)
        self._bus_link = _Bus(router, connection)
        try:
            portal_version(router, GLOBAL_SHORTCUTS)
        except (DBusErrorResponse, TimeoutError) as exc:
            self._close()
            raise HotkeyUnavailable(f"this desktop offers no GlobalShortcuts portal ({exc}): {BIND_CLI_HINT}") from exc
        self._inbox = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(hotkey, on_event, on_problem),
                                        name=f"hotkey-portal {hotkey}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._bus_link is not None:
            self._bus_link.router.close()
            self._bus_link.connection.close()
            self._bus_link = None

    def _run(self, hotkey: Hotkey, on_event: Callable[[HotkeyEvent], None],
             on_problem: Callable[[str], None]) -> None:
        assert self._bus_link is not None
        router = self._bus_link.router
        unique_name = router.unique_name
        session_handle = ""
        with router.filter(response_rule(), queue=self._inbox), \
                router.filter(shortcut_rule("Activated"), queue=self._inbox), \
                router.filter(shortcut_rule("Deactivated"), queue=self._inbox):
            try:
                for rule in (response_rule(), shortcut_rule("Activated"), shortcut_rule("Deactivated")):
                    router.send_and_get_reply(message_bus.AddMatch(rule), timeout=PROBE_TIMEOUT_S)
                token = new_token()
                router.send_and_get_reply(create_session_call(token, new_token()), timeout=PROBE_TIMEOUT_S)
                answer = self._response(request_path(unique_name, token), SESSION_TIMEOUT_S)
                if answer is None:
                    return
                session_handle = str(read_response(answer)["session_handle"])
                token = new_token()
                router.send_and_get_reply(bind_shortcuts_call(session_handle, hotkey, token), timeout=PROBE_TIMEOUT_S)
                answer = self._response(request_path(unique_name, token), None)  # the user may be choosing a key
                if answer is None:
                    return
                trigger = bound_trigger(read_response(answer))
                if trigger is None:
                    on_problem(f"the desktop did not bind the dictation shortcut: {BIND_CLI_HINT}")
                    return
                self.trigger_description = trigger
                while (message := self._inbox.get()) is not None:
                    event = shortcut_event(message, session_handle)
                    if event is not None:
                        on_event(event)
            except PortalRefused as exc:
                on_problem(f"the GlobalShortcuts portal did not bind {hotkey}: {exc}. {BIND_CLI_HINT}")
            except (DBusErrorResponse, TimeoutError, OSError) as exc:
                on_problem(f"the GlobalShortcuts portal failed ({exc}): {BIND_CLI_HINT}")
            finally:
                if session_handle:
                    try:
                        router.send(close_session_call(session_handle))
                    except OSError:
                        pass

    def _response(self, path: str, timeout_s: float | None) -> Message | None:
        """The Response on `path` (other messages meanwhile are dropped); None when told to stop."""
        while True:
            try:
                message = self._inbox.get(timeout=timeout_s)
            except queue.Empty:
                raise TimeoutError(f"no answer from the portal in {timeout_s:.0f} s") from None
            if message is None:
                return None
            if is_response(message, path):
                return message
