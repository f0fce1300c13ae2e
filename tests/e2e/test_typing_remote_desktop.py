"""The RemoteDesktop portal backend over a real D-Bus: a private dbus-daemon and a stand-in portal
(tests/portal_standin.py) that records every key it is sent.

No GNOME or KDE portal runs here: this checks our side of the conversation (the keys, the consent
kept in a restore token, refusals, a session the desktop ends) and that a bus without the portal,
or a portal without RemoteDesktop (xdg-desktop-portal-wlr), lets the next backend type at once."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jeepney import HeaderFields, Message

from dictate import portal_bus
from dictate.hotkey.portal import GLOBAL_SHORTCUTS
from dictate.typing import ClipboardOnlyInserter, InsertError, PasteInserter, choose_inserter
from dictate.typing.base import Clipboard
from dictate.typing.remote_desktop import REMOTE_DESKTOP, RESTORE_TOKEN_FILE, RemoteDesktopInserter
from dictate.typing.wayland import WtypeInserter
from tests.portal_standin import StandInPortal, bus, typed  # noqa: F401  (bus: a fixture)

TEXT = "Hello, world! It's 5 o'clock; -n [x] ~`|\\\nCafé, Straße, “quotes”, 20 € 漢字 ơ\tend"
FALL_THROUGH_S = 2.0  # the longest a bus without the portal may hold up the next backend


class StandInRemoteDesktop(StandInPortal):
    """The RemoteDesktop interface: grants what Start is told to, hands out numbered restore tokens."""

    interfaces = {REMOTE_DESKTOP: 2}

    def __init__(self, address: str, start_response: int = portal_bus.RESPONSE_SUCCESS, devices: int = 1) -> None:
        self.start_response, self.devices = start_response, devices
        self.keys: list[tuple[int, int]] = []  # (keysym, state) of each NotifyKeyboardKeysym, in order
        self.tokens_given = 0
        self.ended: set[str] = set()  # sessions the desktop closed
        super().__init__(address)

    def end_session(self) -> None:
        """The user stops the remote control from the desktop's indicator."""
        self.ended.add(self.session)
        self.signal(self.session, portal_bus.SESSION_INTERFACE, "Closed", "a{sv}", ({},))

    def answer(self, call: Message, member: str) -> bool:
        if member == "SelectDevices":
            self.answer_request(call, call.body[1], portal_bus.RESPONSE_SUCCESS, {})
        elif member == "Start":
            self.tokens_given += 1
            results = {"devices": ("u", self.devices), "restore_token": ("s", f"token-{self.tokens_given}")}
            self.answer_request(call, call.body[2], self.start_response, results)
        elif member == "NotifyKeyboardKeysym":
            session, _options, keysym, state = call.body
            if session in self.ended or session != self.session:
                self.fail(call, "org.freedesktop.DBus.Error.AccessDenied", "Invalid session")
            else:
                self.keys.append((keysym, state))
                self.reply(call)
        else:
            return False
        return True


class NoRemoteDesktop(StandInPortal):
    """A portal with GlobalShortcuts only, as xdg-desktop-portal-wlr leaves it on Sway."""

    interfaces = {GLOBAL_SHORTCUTS: 1}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config folder, where the restore token is kept."""
    monkeypatch.setenv("DICTATE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


@pytest.fixture
def env(bus: str, tmp_path: Path) -> dict[str, str]:
    """A Wayland session on the private bus, with a wtype that works (a script that succeeds)."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "wtype").write_text("#!/bin/sh\nexit 0\n")
    (tools / "wtype").chmod(0o755)
    return {"DBUS_SESSION_BUS_ADDRESS": bus, "WAYLAND_DISPLAY": "wayland-9", "PATH": f"{tools}:{os.defpath}"}


@pytest.fixture
def remote_desktop(bus: str) -> Iterator[StandInRemoteDesktop]:
    portal = StandInRemoteDesktop(bus)
    yield portal
    portal.close()


def _devices_options(portal: StandInRemoteDesktop) -> dict:
    """The next SelectDevices call's options, less its (random) handle token."""
    session, options = portal.next_call("SelectDevices").body
    assert session == portal.session
    return {key: value for key, value in options.items() if key != "handle_token"}


def test_types_the_text_exactly_and_closes_the_session(remote_desktop, env, config):
    inserter = choose_inserter("type", env, platform="linux")
    assert isinstance(inserter, RemoteDesktopInserter)
    assert _devices_options(remote_desktop) == {"types": ("u", 1), "persist_mode": ("u", 2)}  # no token yet
    session, parent_window, _options = remote_desktop.next_call("Start").body
    assert (session, parent_window) == (remote_desktop.session, "")
    inserter.type_text(TEXT)
    inserter.backspace(3)
    inserter.type_text("END")
    assert typed(remote_desktop.keys) == TEXT + "\b\b\bEND"

    inserter.close()
    assert remote_desktop.next_call("Close").header.fields[HeaderFields.path] == remote_desktop.session
    inserter.close()  # idempotent
    with pytest.raises(InsertError, match="closed"):
        inserter.type_text("more")


def test_the_consent_is_kept_and_restored_in_the_next_session(remote_desktop, env, config):
    choose_inserter("type", env, platform="linux").close()
    assert (config / RESTORE_TOKEN_FILE).read_text().strip() == "token-1"
    assert _devices_options(remote_desktop) == {"types": ("u", 1), "persist_mode": ("u", 2)}

    choose_inserter("type", env, platform="linux").close()
    assert _devices_options(remote_desktop) == {"types": ("u", 1), "persist_mode": ("u", 2),
                                                "restore_token": ("s", "token-1")}
    assert (config / RESTORE_TOKEN_FILE).read_text().strip() == "token-2"  # a token serves once


def test_a_refusal_says_so_and_the_clipboard_takes_the_text(bus, env, config):
    portal = StandInRemoteDesktop(bus, start_response=portal_bus.RESPONSE_CANCELLED)
    env = {**env, "PATH": "/nonexistent"}  # no wtype, ydotool, dotool: nothing else can type
    try:
        with pytest.raises(InsertError, match="you declined to let dictate type") as refused:
            RemoteDesktopInserter(env)
        assert "asks again at the next dictation" in str(refused.value)
        assert portal.next_call("Close").header.fields[HeaderFields.path] == portal.session
        texts: list[str] = []
        inserter = choose_inserter("auto", env, clipboard=Clipboard(lambda: None, texts.append), platform="linux")
    finally:
        portal.close()
    assert isinstance(inserter, ClipboardOnlyInserter)
    assert "remote-desktop: you declined" in inserter.reason
    inserter.type_text("hello")
    assert texts == ["hello"]
    assert not (config / RESTORE_TOKEN_FILE).exists()


def test_without_the_keyboard_it_cannot_type(bus, env, config):
    portal = StandInRemoteDesktop(bus, devices=2)  # the pointer alone
    try:
        with pytest.raises(InsertError, match="did not give dictate the keyboard"):
            RemoteDesktopInserter(env)
    finally:
        portal.close()


def test_a_session_the_desktop_ends_fails_with_a_reason(remote_desktop, env, config):
    inserter = RemoteDesktopInserter(env)
    try:
        inserter.type_text("ab")
        remote_desktop.end_session()
        with pytest.raises(InsertError, match="the desktop closed the RemoteDesktop session") as ended:
            inserter.type_text("cd")
        assert ended.value.delivered == 0
    finally:
        inserter.close()
    assert typed(remote_desktop.keys) == "ab"


def test_paste_mode_sends_ctrl_v_through_the_portal(remote_desktop, env, config):
    board: list[str] = []
    inserter = choose_inserter("paste", env, clipboard=Clipboard(lambda: board[-1] if board else None, board.append),
                               platform="linux", sleep=lambda _seconds: None)
    assert isinstance(inserter, PasteInserter)
    inserter.type_text("Grüße")
    inserter.close()
    assert board == ["Grüße"]
    ctrl, v = 0xFFE3, 0x76
    assert remote_desktop.keys == [(ctrl, 1), (v, 1), (v, 0), (ctrl, 0)]


@pytest.mark.parametrize("portal", [None, NoRemoteDesktop], ids=["no portal", "portal without RemoteDesktop"])
def test_where_the_portal_cannot_type_the_next_backend_does_at_once(portal, bus, env, config):
    stand_in = portal(bus) if portal else None
    try:
        started = time.monotonic()
        inserter = choose_inserter("auto", env, platform="linux")
        elapsed = time.monotonic() - started
        calls = [] if stand_in is None else [call.header.fields[HeaderFields.member]
                                             for call in list(stand_in.calls.queue)]
    finally:
        if stand_in is not None:
            stand_in.close()
    assert isinstance(inserter, WtypeInserter)
    assert elapsed < FALL_THROUGH_S
    assert "CreateSession" not in calls  # no session, so no dialog
