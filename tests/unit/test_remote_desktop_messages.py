"""The RemoteDesktop portal backend without a portal: every message it would send, byte for byte
(serialised, so checked against its signature, and parsed back), keysyms, the restore token's file.

The conversation with a portal runs in tests/e2e/test_typing_remote_desktop.py (a stand-in portal)."""

from __future__ import annotations

import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jeepney import DBusAddress, HeaderFields, Parser, new_signal

from dictate import portal_bus
from dictate.typing import InsertError
from dictate.typing import remote_desktop as rd
from tests.portal_standin import typed

SESSION = "/org/freedesktop/portal/desktop/session/1_42/dictate_2"
RETURN, TAB, BACKSPACE, CONTROL_L, SHIFT_L, V = 0xFF0D, 0xFF09, 0xFF08, 0xFFE3, 0xFFE1, 0x76  # X keysyms


def sent(message):
    """What the bus would receive: serialised (checked against the signature) and parsed back."""
    parser = Parser()
    parser.add_data(message.serialise(serial=7))
    return parser.get_next_message()


def header(message):
    fields = sent(message).header.fields
    return tuple(fields.get(field) for field in (HeaderFields.destination, HeaderFields.path, HeaderFields.interface,
                                                 HeaderFields.member, HeaderFields.signature))


def keys(calls):
    """(keysym, state) of each NotifyKeyboardKeysym call, checking that each is for SESSION."""
    bodies = [sent(call).body for call in calls]
    assert all(session == SESSION and options == {} for session, options, _keysym, _state in bodies)
    return [(keysym, state) for _session, _options, keysym, state in bodies]


PORTAL = ("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop", "org.freedesktop.portal.RemoteDesktop")


def test_the_probe_reads_the_remote_desktop_version():
    message = portal_bus.version_query(rd.REMOTE_DESKTOP)
    assert header(message)[:4] == (*PORTAL[:2], "org.freedesktop.DBus.Properties", "Get")
    assert sent(message).body == ("org.freedesktop.portal.RemoteDesktop", "version")


def test_create_session():
    message = portal_bus.create_session_call(rd.REMOTE_DESKTOP, "dictate_1", "dictate_2")
    assert header(message) == (*PORTAL, "CreateSession", "a{sv}")
    assert sent(message).body == ({"handle_token": ("s", "dictate_1"), "session_handle_token": ("s", "dictate_2")},)


def test_select_devices_asks_for_the_keyboard_until_revoked():
    message = rd.select_devices_call(SESSION, "dictate_3", None)
    assert header(message) == (*PORTAL, "SelectDevices", "oa{sv}")
    assert sent(message).body == (SESSION, {"handle_token": ("s", "dictate_3"), "types": ("u", 1),
                                            "persist_mode": ("u", 2)})


def test_select_devices_sends_the_saved_restore_token():
    assert sent(rd.select_devices_call(SESSION, "dictate_3", "abc-123")).body == (
        SESSION, {"handle_token": ("s", "dictate_3"), "types": ("u", 1), "persist_mode": ("u", 2),
                  "restore_token": ("s", "abc-123")})


def test_start():
    message = rd.start_call(SESSION, "dictate_4")
    assert header(message) == (*PORTAL, "Start", "osa{sv}")
    assert sent(message).body == (SESSION, "", {"handle_token": ("s", "dictate_4")})


def test_a_key_event():
    message = rd.keysym_call(SESSION, 0x61, rd.KEY_PRESSED)
    assert header(message) == (*PORTAL, "NotifyKeyboardKeysym", "oa{sv}iu")
    assert sent(message).body == (SESSION, {}, 0x61, 1)


def test_text_is_each_characters_keysym_pressed_and_released():
    assert keys(rd.text_calls(SESSION, "aZ é€\n\t")) == [
        (0x61, 1), (0x61, 0), (0x5A, 1), (0x5A, 0), (0x20, 1), (0x20, 0), (0xE9, 1), (0xE9, 0),
        (0x10020AC, 1), (0x10020AC, 0), (RETURN, 1), (RETURN, 0), (TAB, 1), (TAB, 0)]
    assert rd.text_calls(SESSION, "") == []


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"), max_size=40))
def test_the_keysyms_type_back_exactly_the_text(text):
    assert typed(keys(rd.text_calls(SESSION, text))) == text


def test_backspace():
    assert keys(rd.backspace_calls(SESSION, 2)) == [(BACKSPACE, 1), (BACKSPACE, 0)] * 2
    assert rd.backspace_calls(SESSION, 0) == []


def test_paste_keystroke_holds_ctrl_and_for_a_terminal_shift():
    assert keys(rd.paste_calls(SESSION, terminal=False)) == [(CONTROL_L, 1), (V, 1), (V, 0), (CONTROL_L, 0)]
    assert keys(rd.paste_calls(SESSION, terminal=True)) == [
        (CONTROL_L, 1), (SHIFT_L, 1), (V, 1), (V, 0), (SHIFT_L, 0), (CONTROL_L, 0)]


def test_the_keyboard_must_be_granted():
    assert rd.keyboard_granted({"devices": 1}) and rd.keyboard_granted({"devices": 3})
    assert not rd.keyboard_granted({"devices": 2})  # the pointer alone
    assert not rd.keyboard_granted({})


def test_session_closed_rule_and_responses():
    closed = sent(new_signal(DBusAddress(SESSION, interface=portal_bus.SESSION_INTERFACE), "Closed", "a{sv}", ({},)))
    assert portal_bus.session_closed_rule(SESSION).matches(closed)
    assert not portal_bus.session_closed_rule(SESSION + "x").matches(closed)
    request = portal_bus.request_path(":1.42", "dictate_5")
    response = sent(new_signal(DBusAddress(request, interface=portal_bus.REQUEST_INTERFACE), "Response", "ua{sv}",
                               (1, {})))
    assert portal_bus.is_response(response, request) and not portal_bus.is_response(response, request + "x")
    with pytest.raises(portal_bus.PortalRefused) as refused:
        portal_bus.read_response(response)
    assert refused.value.code == portal_bus.RESPONSE_CANCELLED


def test_the_restore_token_round_trip(tmp_path):
    path = tmp_path / "config" / rd.RESTORE_TOKEN_FILE
    assert rd.load_restore_token(path) is None
    rd.save_restore_token(path, "token-1")
    assert rd.load_restore_token(path) == "token-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it stands for the user's consent
    rd.save_restore_token(path, "token-2")
    assert rd.load_restore_token(path) == "token-2"
    assert sorted(entry.name for entry in path.parent.iterdir()) == [rd.RESTORE_TOKEN_FILE]  # no temporary left


def test_the_restore_token_lives_in_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DICTATE_CONFIG_DIR", str(tmp_path))
    assert rd.restore_token_path() == tmp_path / rd.RESTORE_TOKEN_FILE


def test_without_a_session_bus_it_cannot_work(tmp_path):
    with pytest.raises(InsertError, match="DBUS_SESSION_BUS_ADDRESS is not set"):
        rd.RemoteDesktopInserter({}, token_path=tmp_path / "token")
    with pytest.raises(InsertError, match="cannot connect to the D-Bus session bus"):
        rd.RemoteDesktopInserter({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}"},
                                 token_path=tmp_path / "token")
