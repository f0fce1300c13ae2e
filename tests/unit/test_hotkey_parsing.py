"""Hotkey text -> keysym and modifier masks; hold/toggle requests; the portal's D-Bus messages, byte for byte
what would be sent (no portal runs here); the backend a session gets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jeepney import HeaderFields, MessageType, new_signal
from jeepney.low_level import Parser
from Xlib import XK, X

from dictate.hotkey import (
    DEFAULT_HOTKEY,
    BackendKind,
    Hotkey,
    HotkeyEdge,
    HotkeyEvent,
    HotkeyMode,
    ModeMachine,
    Modifier,
    Request,
    choose_backend,
    parse_hotkey,
    portal,
)
from dictate.hotkey.keys import _KEYS
from dictate.hotkey.pynput_backend import pynput_key
from dictate.hotkey.x11 import ModifierMasks, grab_masks, is_repeat_pair, modifier_masks

CTRL_ALT = frozenset({Modifier.CTRL, Modifier.ALT})


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Ctrl+Alt+Space", "ctrl+alt+space", " Control + Option + SPACE ", "Alt+Ctrl+space"])
def test_spellings_of_the_default(text):
    assert parse_hotkey(text) == Hotkey("space", CTRL_ALT) == DEFAULT_HOTKEY


@pytest.mark.parametrize(("text", "key", "modifiers", "shown"), [
    ("Pause", "Pause", set(), "Pause"),
    ("F9", "F9", set(), "F9"),
    ("super+shift+d", "d", {Modifier.SUPER, Modifier.SHIFT}, "Shift+Super+D"),
    ("Win+PgUp", "Prior", {Modifier.SUPER}, "Super+PageUp"),
    ("Cmd+Ctrl+Enter", "Return", {Modifier.SUPER, Modifier.CTRL}, "Ctrl+Super+Enter"),
    ("Ctrl+`", "grave", {Modifier.CTRL}, "Ctrl+`"),
    ("ScrollLock", "Scroll_Lock", set(), "ScrollLock"),
])
def test_keys_and_modifiers(text, key, modifiers, shown):
    hotkey = parse_hotkey(text)
    assert (hotkey.key, hotkey.modifiers) == (key, frozenset(modifiers))
    assert hotkey.text() == shown
    assert parse_hotkey(shown) == hotkey  # what is shown parses back


@pytest.mark.parametrize(("text", "message"), [
    ("", "joined by +"),
    ("Ctrl+", "cannot be used"),
    ("Ctrl++Space", "joined by +"),
    ("Ctrl+Alt", "exactly one key"),
    ("Ctrl+A+B", "exactly one key"),
    ("Ctrl+Ctrl+A", "Ctrl appears twice"),
    ("Ctrl+Hyperdrive", "unknown key 'Hyperdrive'"),
    ("a", "would stop that key from typing"),
    ("Shift+Space", "would stop that key from typing"),
])
def test_bad_hotkeys_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_hotkey(text)


def test_every_key_name_is_an_x_keysym():
    for key in _KEYS:
        assert XK.string_to_keysym(key) != 0, key


@given(st.sampled_from(sorted(_KEYS)), st.sampled_from([Modifier.CTRL, Modifier.ALT, Modifier.SUPER]),
       st.sets(st.sampled_from(list(Modifier))))
def test_any_hotkey_survives_its_own_text(key, modifier, more):
    hotkey = Hotkey(key, frozenset({modifier, *more}))
    assert parse_hotkey(hotkey.text()) == hotkey


# --- X11: keysym and modifier masks -------------------------------------------------------------

# A usual US mapping: rows Shift, Lock, Control, Mod1..Mod5 -> keysyms bound to them.
USUAL_ROWS = [[0xFFE1, 0xFFE2], [0xFFE5], [0xFFE3, 0xFFE4], [0xFFE9, 0xFFE7], [0xFF7F], [], [0xFFEB, 0xFFEC],
              [0xFE03]]


def test_default_hotkey_keysym_and_masks():
    assert XK.string_to_keysym(DEFAULT_HOTKEY.key) == 0x20  # XK_space
    masks = modifier_masks(USUAL_ROWS)
    assert masks == ModifierMasks(alt=X.Mod1Mask, super=X.Mod4Mask, num_lock=X.Mod2Mask)
    base = X.ControlMask | X.Mod1Mask
    assert set(grab_masks(DEFAULT_HOTKEY, masks)) == {base, base | X.LockMask, base | X.Mod2Mask,
                                                      base | X.LockMask | X.Mod2Mask}


def test_masks_follow_an_unusual_mapping():
    rows = [[], [], [], [0xFFE7], [], [0xFFEB], [], [0xFF7F]]  # Meta on Mod1, Super on Mod3, NumLock on Mod5
    masks = modifier_masks(rows)
    assert masks == ModifierMasks(alt=X.Mod1Mask, super=X.Mod3Mask, num_lock=X.Mod5Mask)
    hotkey = parse_hotkey("Super+Shift+F9")
    assert min(grab_masks(hotkey, masks)) == X.Mod3Mask | X.ShiftMask
    assert max(grab_masks(hotkey, masks)) == X.Mod3Mask | X.ShiftMask | X.LockMask | X.Mod5Mask


def test_a_bare_key_is_grabbed_with_and_without_the_locks():
    assert grab_masks(parse_hotkey("Pause"), ModifierMasks()) == (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask)


class _Event:
    def __init__(self, type_: int, detail: int, time: int) -> None:
        self.type, self.detail, self.time = type_, detail, time


def test_autorepeat_pair_is_a_release_then_a_press_of_the_same_key_at_the_same_time():
    release = _Event(X.KeyRelease, 65, 1000)
    assert is_repeat_pair(release, _Event(X.KeyPress, 65, 1000))
    assert not is_repeat_pair(release, _Event(X.KeyPress, 65, 1040))  # released, then pressed again
    assert not is_repeat_pair(release, _Event(X.KeyPress, 66, 1000))
    assert not is_repeat_pair(release, None)


# --- hold and toggle ----------------------------------------------------------------------------

PRESS, RELEASE = HotkeyEdge.PRESS, HotkeyEdge.RELEASE


def _requests(machine: ModeMachine, edges) -> list[Request | None]:
    return [machine.on_edge(edge) for edge in edges]


def test_hold_to_talk():
    assert _requests(ModeMachine(HotkeyMode.HOLD), [PRESS, RELEASE, PRESS, RELEASE]) == [
        Request.START, Request.STOP, Request.START, Request.STOP]


def test_toggle():
    assert _requests(ModeMachine(HotkeyMode.TOGGLE), [PRESS, RELEASE, PRESS, RELEASE]) == [
        Request.START, None, Request.STOP, None]


def test_toggle_follows_dictation_started_elsewhere():
    machine = ModeMachine(HotkeyMode.TOGGLE)
    machine.set_dictating(True)  # the window's button started it
    assert machine.on_edge(PRESS) is Request.STOP
    machine.set_dictating(False)
    machine.on_edge(RELEASE)
    assert machine.on_edge(PRESS) is Request.START


@given(st.sampled_from(list(HotkeyMode)), st.lists(st.sampled_from([PRESS, RELEASE])))
def test_requests_always_alternate_start_and_stop(mode, edges):
    requests = [request for request in _requests(ModeMachine(mode), edges) if request is not None]
    assert requests == [Request.START, Request.STOP] * (len(requests) // 2) + [Request.START] * (len(requests) % 2)


# --- the GlobalShortcuts portal's messages ----------------------------------------------------


def _sent(message):
    """What the bus would receive: serialised (checked against the signature) and parsed back."""
    parser = Parser()
    parser.add_data(message.serialise(serial=7))
    return parser.get_next_message()


def test_trigger_uses_the_shortcuts_spec_names():
    assert portal.portal_trigger(DEFAULT_HOTKEY) == "CTRL+ALT+space"
    assert portal.portal_trigger(parse_hotkey("Shift+Super+F9")) == "SHIFT+LOGO+F9"
    assert portal.portal_trigger(parse_hotkey("Pause")) == "Pause"


def test_request_path_is_known_before_the_call():
    assert portal.request_path(":1.42", "dictate_ab12") == "/org/freedesktop/portal/desktop/request/1_42/dictate_ab12"


def test_tokens_are_object_path_elements():
    token = portal.new_token()
    assert token.replace("_", "").isalnum() and token != portal.new_token()


def test_version_query():
    message = _sent(portal.version_query())
    fields = message.header.fields
    assert (fields[HeaderFields.destination], fields[HeaderFields.path]) == (
        "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop")
    assert (fields[HeaderFields.interface], fields[HeaderFields.member]) == ("org.freedesktop.DBus.Properties", "Get")
    assert message.body == ("org.freedesktop.portal.GlobalShortcuts", "version")


def test_create_session():
    message = _sent(portal.create_session_call("dictate_1", "dictate_2"))
    fields = message.header.fields
    assert fields[HeaderFields.interface] == "org.freedesktop.portal.GlobalShortcuts"
    assert (fields[HeaderFields.member], fields[HeaderFields.signature]) == ("CreateSession", "a{sv}")
    assert message.body == ({"handle_token": ("s", "dictate_1"), "session_handle_token": ("s", "dictate_2")},)


def test_bind_shortcuts():
    session = "/org/freedesktop/portal/desktop/session/1_42/dictate_2"
    message = _sent(portal.bind_shortcuts_call(session, DEFAULT_HOTKEY, "dictate_3"))
    fields = message.header.fields
    assert (fields[HeaderFields.member], fields[HeaderFields.signature]) == ("BindShortcuts", "oa(sa{sv})sa{sv}")
    assert message.body == (
        session,
        [("dictate", {"description": ("s", portal.SHORTCUT_DESCRIPTION),
                      "preferred_trigger": ("s", "CTRL+ALT+space")})],
        "",
        {"handle_token": ("s", "dictate_3")},
    )


def test_close_session():
    session = "/org/freedesktop/portal/desktop/session/1_42/dictate_2"
    fields = _sent(portal.close_session_call(session)).header.fields
    assert (fields[HeaderFields.path], fields[HeaderFields.interface], fields[HeaderFields.member]) == (
        session, "org.freedesktop.portal.Session", "Close")


def _signal(path, interface, member, signature, body):
    from jeepney import DBusAddress

    return _sent(new_signal(DBusAddress(path, interface=interface), member, signature, body))


def test_responses():
    ok = _signal("/r", portal.REQUEST_INTERFACE, "Response", "ua{sv}", (0, {"session_handle": ("o", "/s/1")}))
    assert portal.read_response(ok) == {"session_handle": "/s/1"}
    cancelled = _signal("/r", portal.REQUEST_INTERFACE, "Response", "ua{sv}", (1, {}))
    with pytest.raises(portal.PortalRefused, match="cancelled"):
        portal.read_response(cancelled)
    with pytest.raises(portal.PortalRefused, match="code 2"):
        portal.read_response(_signal("/r", portal.REQUEST_INTERFACE, "Response", "ua{sv}", (2, {})))


def test_bound_trigger():
    bound = {"shortcuts": [("dictate", {"trigger_description": ("s", "Ctrl+Alt+Space")})]}
    assert portal.bound_trigger(bound) == "Ctrl+Alt+Space"
    assert portal.bound_trigger({"shortcuts": [("dictate", {})]}) == ""
    assert portal.bound_trigger({"shortcuts": []}) is None


def test_activated_and_deactivated_are_press_and_release_of_our_session_only():
    session = "/org/freedesktop/portal/desktop/session/1_42/dictate_2"

    def shortcut_signal(member, handle=session, shortcut_id="dictate"):
        return _signal(portal.PORTAL_PATH, portal.GLOBAL_SHORTCUTS, member, "osta{sv}", (handle, shortcut_id, 1234, {}))

    assert portal.shortcut_event(shortcut_signal("Activated"), session) == HotkeyEvent(PRESS, 1234)
    assert portal.shortcut_event(shortcut_signal("Deactivated"), session) == HotkeyEvent(RELEASE, 1234)
    assert portal.shortcut_event(shortcut_signal("Activated", handle="/other"), session) is None
    assert portal.shortcut_event(shortcut_signal("Activated", shortcut_id="other"), session) is None
    assert shortcut_signal("Activated").header.message_type is MessageType.signal


def test_match_rules():
    assert set(portal.response_rule().serialise().split(",")) == {
        "type='signal'", "interface='org.freedesktop.portal.Request'", "member='Response'"}
    assert "member='Activated'" in portal.shortcut_rule("Activated").serialise()


# --- pynput names and the backend a session gets --------------------------------------------------


def test_pynput_names():
    assert pynput_key("space") == ("special", "space")
    assert pynput_key("Prior") == ("special", "page_up")
    assert pynput_key("grave") == ("char", "`")
    assert pynput_key("d") == ("char", "d")


@pytest.mark.parametrize(("platform", "environ", "kind"), [
    ("linux", {"DISPLAY": ":0"}, BackendKind.X11),
    ("linux", {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, BackendKind.PORTAL),  # Xwayland grabs see little
    ("linux", {"XDG_SESSION_TYPE": "wayland"}, BackendKind.PORTAL),
    ("linux", {}, None),
    ("win32", {}, BackendKind.PYNPUT),
    ("darwin", {}, BackendKind.PYNPUT),
])
def test_backend_choice(platform, environ, kind):
    choice = choose_backend(platform, environ)
    assert choice.kind is kind
    if kind is None:
        assert "dictate toggle" in choice.reason
