"""X11 global hotkey: XGrabKey on the root window, read by a thread of our own on its own connection.

- The key is grabbed with its modifiers and also with CapsLock and NumLock on, since the server
  matches the modifier state exactly.
- Holding a key makes the server repeat it. With XKB's detectable autorepeat (asked for per
  client) only the presses repeat; without it each repeat is a Release+Press pair with one
  timestamp. Either way the listener reports one press and one release per hold.
- A key grabbed already by another client fails with BadAccess; that is a `HotkeyTaken` with a
  message that names the key.
- A key without modifiers (Pause, F9) lets go of the keyboard at its press, so the words of a
  hold-to-talk dictation can be typed into the focused window while it is held; its release is
  then read from the key state. So that the focused window gets no repeats of it, the key does not
  repeat while the listener runs (per-key autorepeat off, set back at stop). A repeat would also
  catch the keyboard again; the listener lets it go at once.
"""

from __future__ import annotations

import itertools
import os
import select
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from Xlib import XK, X, error
from Xlib import display as xdisplay
from Xlib.protocol import rq

from dictate.hotkey.backend import HotkeyEdge, HotkeyError, HotkeyEvent, HotkeyTaken, HotkeyUnavailable
from dictate.hotkey.keys import Hotkey, Modifier

RELEASE_POLL_S = 0.02  # a lone key's state is read this often while it is held
REPEAT_PAIR_WAIT_S = 0.02  # without XKB: how long a release waits for the Press of a repeat pair (sent together)
JOIN_TIMEOUT_S = 5.0  # the reader thread only has to leave select()

# Keysyms (X11/keysymdef.h) whose modifier row gives Alt, Super and NumLock their mask on this server.
_ALT_KEYSYMS = (0xFFE9, 0xFFEA)  # Alt_L, Alt_R
_META_KEYSYMS = (0xFFE7, 0xFFE8)  # Meta_L, Meta_R: Alt's row where no Alt_L is mapped
_SUPER_KEYSYMS = (0xFFEB, 0xFFEC)  # Super_L, Super_R
_NUM_LOCK_KEYSYM = 0xFF7F
_MOD_ROW_MASKS = (X.ShiftMask, X.LockMask, X.ControlMask, X.Mod1Mask, X.Mod2Mask, X.Mod3Mask, X.Mod4Mask,
                  X.Mod5Mask)


@dataclass(frozen=True)
class ModifierMasks:
    """The server's mask for each modifier (Alt, Super and NumLock depend on the keyboard mapping)."""

    alt: int = X.Mod1Mask
    super: int = X.Mod4Mask
    num_lock: int = X.Mod2Mask
    caps_lock: int = X.LockMask

    def of(self, modifier: Modifier) -> int:
        return {Modifier.CTRL: X.ControlMask, Modifier.SHIFT: X.ShiftMask, Modifier.ALT: self.alt,
                Modifier.SUPER: self.super}[modifier]


def modifier_masks(row_keysyms: Sequence[Sequence[int]]) -> ModifierMasks:
    """ModifierMasks from the modifier mapping: row i (Shift, Lock, Control, Mod1..Mod5) lists the
    keysyms of the keys bound to modifier i. Usual defaults where a key is not mapped."""

    def row_of(keysyms: Sequence[int], default: int) -> int:
        for row, bound in enumerate(row_keysyms[:8]):
            if row >= 3 and any(keysym in bound for keysym in keysyms):
                return _MOD_ROW_MASKS[row]
        return default

    defaults = ModifierMasks()
    return ModifierMasks(alt=row_of(_ALT_KEYSYMS, 0) or row_of(_META_KEYSYMS, defaults.alt),
                         super=row_of(_SUPER_KEYSYMS, defaults.super),
                         num_lock=row_of((_NUM_LOCK_KEYSYM,), defaults.num_lock))


def grab_masks(hotkey: Hotkey, masks: ModifierMasks) -> tuple[int, ...]:
    """The modifier states to grab: the hotkey's own, alone and with CapsLock and/or NumLock on."""
    base = 0
    for modifier in hotkey.modifiers:
        base |= masks.of(modifier)
    locks = (masks.caps_lock, masks.num_lock)
    variants = {base}
    for count in range(1, len(locks) + 1):
        for combination in itertools.combinations(locks, count):
            mask = base
            for lock in combination:
                mask |= lock
            variants.add(mask)
    return tuple(sorted(variants))


def is_repeat_pair(release: object, following: object | None) -> bool:
    """Whether a KeyRelease and the event right after it are the server's autorepeat pair."""
    return (following is not None and getattr(following, "type", None) == X.KeyPress
            and following.detail == release.detail and following.time == release.time)


# XKB requests python-xlib does not wrap: XkbUseExtension and XkbPerClientFlags (XKBproto.h).
_XKB_USE_CORE_KBD = 0x0100
_XKB_PCF_DETECTABLE_AUTOREPEAT = 1 << 0


class _XkbUseExtension(rq.ReplyRequest):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(0), rq.RequestLength(),
                         rq.Card16("wanted_major"), rq.Card16("wanted_minor"))
    _reply = rq.Struct(rq.Pad(1), rq.Card8("supported"), rq.Card16("sequence_number"), rq.Pad(4),
                       rq.Card16("server_major"), rq.Card16("server_minor"), rq.Pad(20))


class _XkbPerClientFlags(rq.ReplyRequest):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(21), rq.RequestLength(),
                         rq.Card16("device_spec"), rq.Pad(2), rq.Card32("change"), rq.Card32("value"),
                         rq.Card32("ctrls_to_change"), rq.Card32("auto_ctrls"), rq.Card32("auto_ctrls_values"))
    _reply = rq.Struct(rq.Pad(1), rq.Card8("device_id"), rq.Card16("sequence_number"), rq.Pad(4),
                       rq.Card32("supported"), rq.Card32("value"), rq.Card32("auto_ctrls"),
                       rq.Card32("auto_ctrls_values"), rq.Pad(8))


def set_detectable_autorepeat(display: xdisplay.Display) -> bool:
    """Ask the server to repeat only KeyPress for this client (XkbSetDetectableAutoRepeat); True if it does."""
    extension = display.query_extension("XKEYBOARD")
    if extension is None or not extension.present:
        return False
    try:
        used = _XkbUseExtension(display=display.display, opcode=extension.major_opcode, wanted_major=1,
                                wanted_minor=0)
        if not used.supported:
            return False
        flags = _XkbPerClientFlags(display=display.display, opcode=extension.major_opcode,
                                   device_spec=_XKB_USE_CORE_KBD, change=_XKB_PCF_DETECTABLE_AUTOREPEAT,
                                   value=_XKB_PCF_DETECTABLE_AUTOREPEAT, ctrls_to_change=0, auto_ctrls=0,
                                   auto_ctrls_values=0)
    except error.XError:
        return False
    return bool(flags.value & _XKB_PCF_DETECTABLE_AUTOREPEAT)


class X11HotkeyListener:
    """Grabs one hotkey on an X display and reports its presses and releases from a reader thread."""

    name = "X11 key grab"

    def __init__(self, display_name: str | None = None, detectable_autorepeat: bool = True) -> None:
        self._display_name = display_name  # None: $DISPLAY
        self._want_detectable = detectable_autorepeat  # False: pair Release+Press by timestamp (tests use it)
        self._display: xdisplay.Display | None = None
        self._thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1
        self._keycode = 0
        self._masks: tuple[int, ...] = ()
        self._hotkey: Hotkey | None = None
        self._detectable = False
        self._held = False
        self._stopping = False
        self._repeat_off: int = 0  # the keycode whose autorepeat this listener turned off (0: none)

    @property
    def detectable_autorepeat(self) -> bool:
        """Whether the server repeats only presses for us (else repeats are paired by timestamp)."""
        return self._detectable

    def start(self, hotkey: Hotkey, on_event: Callable[[HotkeyEvent], None],
              on_problem: Callable[[str], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("the listener is running already")
        try:
            self._display = xdisplay.Display(self._display_name)
        except (error.DisplayError, OSError) as exc:
            raise HotkeyUnavailable(f"cannot open the X display {self._display_name or os.environ.get('DISPLAY')!r}:"
                                    f" {exc}") from exc
        self._hotkey = hotkey
        try:
            self._keycode, self._masks = self._grab_spec()
            self._grab()
        except HotkeyError:
            self._display.close()
            self._display = None
            raise
        self._detectable = self._want_detectable and set_detectable_autorepeat(self._display)
        self._held = self._stopping = False
        self._stop_repeating()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, args=(on_event, on_problem),
                                        name=f"hotkey-x11 {hotkey}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping = True
            os.write(self._wake_w, b"x")
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None
            os.close(self._wake_r)
            os.close(self._wake_w)
        if self._display is not None:
            try:
                self._ungrab()
                self._repeat_again()
                self._display.close()
            except (error.ConnectionClosedError, OSError):
                pass  # the server is gone, and with it the grab
            self._display = None

    # --- grabbing -------------------------------------------------------------------------

    def _grab_spec(self) -> tuple[int, tuple[int, ...]]:
        """The hotkey's keycode and modifier states under the server's current mapping."""
        assert self._display is not None and self._hotkey is not None
        keycode = self._display.keysym_to_keycode(XK.string_to_keysym(self._hotkey.key))
        if not keycode:
            raise HotkeyUnavailable(f"{self._hotkey}: this keyboard layout has no {self._hotkey.key} key")
        rows = self._display.get_modifier_mapping()
        row_keysyms = [[self._display.keycode_to_keysym(code, 0) for code in row if code] for row in rows]
        return keycode, grab_masks(self._hotkey, modifier_masks(row_keysyms))

    def _grab(self) -> None:
        assert self._display is not None
        root = self._display.screen().root
        caught = error.CatchError(error.BadAccess)
        for mask in self._masks:
            root.grab_key(self._keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync, onerror=caught)
        self._display.sync()
        if caught.get_error() is not None:
            self._ungrab()
            raise HotkeyTaken(f"{self._hotkey} is already taken by another application (X11 refused the grab"
                              ": BadAccess). Choose another hotkey, or free this one in the other application.")

    def _ungrab(self) -> None:
        assert self._display is not None
        root = self._display.screen().root
        for mask in self._masks:
            root.ungrab_key(self._keycode, mask)
        self._display.sync()

    def _stop_repeating(self) -> None:
        """A lone key: turn its autorepeat off (if it was on), so holding it sends the focused window nothing."""
        assert self._display is not None and self._hotkey is not None
        if not self._hotkey.is_lone_key:
            return
        repeats = self._display.get_keyboard_control().auto_repeats
        if repeats[self._keycode // 8] & (1 << (self._keycode % 8)):
            self._display.change_keyboard_control(key=self._keycode, auto_repeat_mode=X.AutoRepeatModeOff)
            self._display.sync()
            self._repeat_off = self._keycode

    def _repeat_again(self) -> None:
        """Give the key its autorepeat back (the user's setting), if this listener took it."""
        assert self._display is not None
        if self._repeat_off:
            self._display.change_keyboard_control(key=self._repeat_off, auto_repeat_mode=X.AutoRepeatModeOn)
            self._display.sync()
            self._repeat_off = 0

    def _key_is_down(self) -> bool:
        assert self._display is not None
        down = self._display.query_keymap()
        return bool(down[self._keycode // 8] & (1 << (self._keycode % 8)))

    # --- the reader thread ------------------------------------------------------------------

    def _run(self, on_event: Callable[[HotkeyEvent], None], on_problem: Callable[[str], None]) -> None:
        try:
            following = None
            last_time = 0
            while True:
                polling = self._held and self._hotkey is not None and self._hotkey.is_lone_key
                event = following if following is not None else self._next_event(RELEASE_POLL_S if polling else None)
                following = None
                if event is None:
                    if self._stopping or not polling:
                        return  # stop() woke us
                    if not self._key_is_down():  # the lone key's release went to the focused window
                        self._held = False
                        on_event(HotkeyEvent(HotkeyEdge.RELEASE, last_time))
                    continue
                if event.type == X.MappingNotify:
                    self._remap(event)
                    continue
                if event.type not in (X.KeyPress, X.KeyRelease) or event.detail != self._keycode:
                    continue  # other keys reach us while the grab is active (the modifiers' releases)
                last_time = event.time
                if event.type == X.KeyPress:
                    if self._hotkey is not None and self._hotkey.is_lone_key:
                        self._display.ungrab_keyboard(event.time)  # typed keys go to the focused window
                        self._display.flush()
                    if not self._held:  # a repeat press while held is not a new press
                        self._held = True
                        on_event(HotkeyEvent(HotkeyEdge.PRESS, event.time))
                    continue
                if not self._detectable:
                    following = self._next_event(REPEAT_PAIR_WAIT_S)
                    if is_repeat_pair(event, following):
                        following = None  # the repeat's Press: swallowed with its Release
                        continue
                if self._held:
                    self._held = False
                    on_event(HotkeyEvent(HotkeyEdge.RELEASE, event.time))
        except (error.ConnectionClosedError, OSError) as exc:
            on_problem(f"the X display connection closed ({exc}): the hotkey {self._hotkey} no longer works")
        except HotkeyError as exc:
            on_problem(str(exc))

    def _next_event(self, timeout_s: float | None):
        """The next X event, or None when stop() was called (or, with a timeout, none came in time)."""
        assert self._display is not None
        while not self._display.pending_events():
            readable, _, _ = select.select([self._display, self._wake_r], [], [], timeout_s)
            if not readable or self._wake_r in readable:
                return None  # the wake byte stays in the pipe: every later call returns None at once
        return self._display.next_event()

    def _remap(self, event) -> None:
        """The keyboard or modifier mapping changed (xdotool does this to type a missing character).

        Only without XKB: a client that used XKB gets no core MappingNotify, so with detectable
        autorepeat a layout switch that moves the hotkey's key is not followed (keys such as Space,
        Pause or F9 keep their keycode across layouts)."""
        assert self._display is not None
        self._display.refresh_keyboard_mapping(event)
        spec = self._grab_spec()
        if spec != (self._keycode, self._masks):
            self._ungrab()
            self._repeat_again()
            self._keycode, self._masks = spec
            self._grab()
            self._stop_repeating()
