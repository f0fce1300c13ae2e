"""Talking to xdg-desktop-portal over D-Bus with jeepney: addresses, requests, sessions, the probe.

A portal method that may ask the user answers at once with a Request object's path, and later with
that Request's Response signal (0: success, 1: the user cancelled, 2: other). The path is known
before the call, from the caller's unique name and the call's `handle_token`. A session made by
CreateSession (`session_handle_token`) is ended with org.freedesktop.portal.Session.Close; the
desktop may end it itself (Session::Closed). Whether a portal interface exists here is probed by
reading its `version` property: an error answer (no portal, or a portal without that interface,
such as xdg-desktop-portal-wlr's RemoteDesktop) means it is absent.

Every message is built by a pure function, so tests check exactly what goes over the bus.
"""

from __future__ import annotations

import secrets
from typing import Any, Protocol

from jeepney import DBusAddress, HeaderFields, MatchRule, Message, MessageType, Properties, new_method_call
from jeepney.wrappers import unwrap_msg

PORTAL_BUS_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
SESSION_INTERFACE = "org.freedesktop.portal.Session"

PROBE_TIMEOUT_S = 2.0  # the version property answers at once where the portal exists

RESPONSE_SUCCESS, RESPONSE_CANCELLED = 0, 1  # org.freedesktop.portal.Request::Response codes; 2 = other


class PortalRefused(Exception):
    """A Request ended with a non-zero response (the user cancelled, or the portal failed)."""

    def __init__(self, reason: str, code: int) -> None:
        super().__init__(reason)
        self.code = code


class Caller(Protocol):
    """A jeepney connection or router (blocking or threaded): both send a call and return its reply."""

    def send_and_get_reply(self, message: Message, /, *, timeout: float | None = None) -> Message: ...


# --- pure message builders --------------------------------------------------------------------


def portal_address(interface: str) -> DBusAddress:
    """The portal object, seen through one of its interfaces."""
    return DBusAddress(PORTAL_PATH, bus_name=PORTAL_BUS_NAME, interface=interface)


def sender_path_element(unique_name: str) -> str:
    """":1.42" -> "1_42", as the portal spells a caller in Request and Session object paths."""
    return unique_name.lstrip(":").replace(".", "_")


def request_path(unique_name: str, token: str) -> str:
    """The Request object a call with `handle_token=token` answers on (known before the call)."""
    return f"{PORTAL_PATH}/request/{sender_path_element(unique_name)}/{token}"


def new_token() -> str:
    """A handle token: a valid object path element, unique enough for this connection."""
    return f"dictate_{secrets.token_hex(6)}"


def version_query(interface: str) -> Message:
    """Properties.Get of the interface's `version`: an error answer means no such portal."""
    return Properties(portal_address(interface)).get("version")


def create_session_call(interface: str, handle_token: str, session_token: str) -> Message:
    return new_method_call(portal_address(interface), "CreateSession", "a{sv}", (
        {"handle_token": ("s", handle_token), "session_handle_token": ("s", session_token)},))


def close_session_call(session_handle: str) -> Message:
    return new_method_call(DBusAddress(session_handle, bus_name=PORTAL_BUS_NAME, interface=SESSION_INTERFACE),
                           "Close")


def response_rule() -> MatchRule:
    """Every Request::Response (checked against the expected path on arrival: older portals may
    answer on a path other than the one the token predicts)."""
    return MatchRule(type="signal", interface=REQUEST_INTERFACE, member="Response")


def session_closed_rule(session_handle: str) -> MatchRule:
    """The desktop's Session::Closed for this session."""
    return MatchRule(type="signal", interface=SESSION_INTERFACE, member="Closed", path=session_handle)


# --- pure readers -----------------------------------------------------------------------------


def is_response(message: Message, path: str) -> bool:
    """Whether `message` is the Response of the Request at `path`."""
    fields = message.header.fields
    return (message.header.message_type is MessageType.signal and fields.get(HeaderFields.member) == "Response"
            and fields.get(HeaderFields.path) == path)


def read_response(message: Message) -> dict[str, Any]:
    """A Response's results (variants unwrapped); PortalRefused unless its code is success."""
    code, results = message.body
    if code != RESPONSE_SUCCESS:
        reason = "the request was cancelled" if code == RESPONSE_CANCELLED else f"the portal failed (code {code})"
        raise PortalRefused(reason, code)
    return {key: value for key, (_signature, value) in results.items()}


# --- the probe --------------------------------------------------------------------------------


def portal_version(caller: Caller, interface: str) -> int:
    """The version of the portal's `interface`; DBusErrorResponse where the bus has no portal or the
    portal lacks that interface, TimeoutError where nothing answers within PROBE_TIMEOUT_S."""
    (_signature, version), = unwrap_msg(caller.send_and_get_reply(version_query(interface), timeout=PROBE_TIMEOUT_S))
    return int(version)
