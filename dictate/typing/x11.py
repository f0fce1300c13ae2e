"""Typing on X11: XTest key events through python-xlib, any Unicode character included.

A character on the current keyboard map is typed with its own key (Shift added for
the second level). Any other character (é on a US map, €, “, 漢) is lent a slot on a
spare keycode (one with no keysym; each has two slots, its first level and, with
Shift, its second): ChangeKeyboardMapping puts the character's keysym there, and it
stays for the dictation; the keycodes get their empty mapping back when it ends.
When every slot is taken, the least recently used one is mapped again. Clients
re-read the map when they see a change, and one still working through an earlier
press of that slot would read the new keysym and type the wrong character, so a
slot is not mapped again, nor restored, until REMAP_SETTLE_S after its last press.

One connection per dictation (the inserter is made at its start and closed at its end);
the keyboard map is read when it is made, so a layout switched mid-dictation is seen
from the next dictation on. A modifier the user holds (Ctrl, Alt, Shift, Super) makes
a call raise a passing InsertError (`retry`): typing then would send shortcuts. So does
the key of a chord hotkey that started the dictation (`hotkey`, e.g. Ctrl+Alt+Space): while it
is down its grab is active, and the server sends every key, the typed ones too, to the hotkey
listener. A lone hotkey key (Pause, F9) does not stop typing: its listener lets go of the
keyboard at the press and keeps the key from repeating, so hold to talk with it types live.

Hold to talk with a chord therefore types once the chord is let go. Letting go of the chord's
modifiers with XTest to type while it is held (xdotool's --clearmodifiers) was tried
and dropped: a physical key's autorepeat runs on its own input device, which XTest's
keys do not stop, so once Ctrl and Alt were cleared every repeat of the held Space
would reach the target window as a typed space.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping

from dictate.hotkey.keys import Hotkey
from dictate.typing.base import NEWLINE, TAB, InsertError, check_typeable

REMAP_SETTLE_S = 0.3  # a lent keycode keeps its keysym this long after its last press (measured: 0.05 s
#                       was too short for an xterm on a loaded machine, which typed the keysym mapped next)
SYNC_EVERY_KEYS = 64  # round-trip to the server after this many keys within one call

XK_BACKSPACE = 0xFF08
XK_TAB = 0xFF09
XK_RETURN = 0xFF0D
XK_V = 0x0076  # "v"
UNICODE_KEYSYM_OFFSET = 0x01000000  # keysym of a Unicode character outside Latin-1
KEY_KEYSYMS = {NEWLINE: XK_RETURN, TAB: XK_TAB}

SHIFT_INDEX, LOCK_INDEX, CONTROL_INDEX = 0, 1, 2  # rows of the X modifier map
SHIFT_MASK, LOCK_MASK, CONTROL_MASK, MOD1_MASK, MOD4_MASK, MOD5_MASK = 1, 2, 4, 8, 64, 128
HELD_MODIFIERS = {SHIFT_MASK: "Shift", CONTROL_MASK: "Ctrl", MOD1_MASK: "Alt", MOD4_MASK: "Super", MOD5_MASK: "AltGr"}


def keysym_for(char: str) -> int:
    """The X keysym that types `char` (Latin-1 keysyms equal their code point; others are Unicode keysyms)."""
    if char in KEY_KEYSYMS:
        return KEY_KEYSYMS[char]
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return UNICODE_KEYSYM_OFFSET + code


def _is_cased_letter(lower: int, upper: int) -> bool:
    """A key whose two levels are a letter's lower and upper case (Caps Lock swaps them)."""
    return lower != upper and chr(lower).upper() == chr(upper) if lower < 0x100 and upper < 0x100 else False


class XTestInserter:
    """Types into the focused X11 window with XTest; one X connection for the dictation."""

    name = "x11-xtest"

    def __init__(self, env: Mapping[str, str] | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, hotkey: Hotkey | None = None) -> None:
        """`hotkey`: the one that started this dictation (nothing is typed while its key is down)."""
        env = os.environ if env is None else env
        display_name = env.get("DISPLAY")
        if not display_name:
            raise InsertError("no X11 display (DISPLAY is not set)")
        try:
            from Xlib import XK, X, display, error
            from Xlib.ext import xtest
        except ImportError:
            raise InsertError("python-xlib is not installed (pip install python-xlib)") from None
        self._X, self._xtest, self._xerror = X, xtest, error
        try:
            self._display = display.Display(display_name)
        except Exception as exc:  # Xlib raises several unrelated types for an unreachable display
            raise InsertError(f"cannot connect to the X display {display_name}: {exc}") from None
        if not self._display.query_extension("XTEST").present:
            self._display.close()
            raise InsertError(f"the X display {display_name} has no XTEST extension")
        self._sleep, self._clock = sleep, clock
        info = self._display.display.info
        self._first = info.min_keycode
        rows = self._display.get_keyboard_mapping(self._first, info.max_keycode - self._first + 1)
        self._width = len(rows[0])
        self._map = [list(row) for row in rows]  # keysyms per keycode, from the first keycode on
        modifiers = self._display.get_modifier_mapping()
        self._hotkey = hotkey
        # a lone key's listener lets go of the keyboard at the press: words are typed while it is held
        grabs_while_held = hotkey is not None and not hotkey.is_lone_key
        self._hotkey_code = self._display.keysym_to_keycode(XK.string_to_keysym(hotkey.key)) if grabs_while_held else 0
        self._modifier_keys = {code for row in modifiers for code in row if code}
        self._shift = next((code for code in modifiers[SHIFT_INDEX] if code), 0)
        self._control = next((code for code in modifiers[CONTROL_INDEX] if code), 0)
        self._index: dict[int, tuple[int, int]] = {}  # keysym -> (keycode, level 0 or 1), the first key that has it
        for level in (0, 1):  # a first-level key wins over a Shift one
            for index, row in enumerate(self._map):
                if row[level] and self._first + index not in self._modifier_keys:
                    self._index.setdefault(row[level], (self._first + index, level))
        self._mask = 0  # the modifier state (Shift, Lock, Control...) when the last call began
        self._spare = [self._first + index for index, row in enumerate(self._map)
                       if not any(row) and self._first + index not in self._modifier_keys]
        # A spare keycode lends two slots, its levels 0 and 1 (with Shift): two characters per keycode.
        self._lent: dict[int, tuple[int, int]] = {}  # keysym -> (keycode, level) it is on, least recent first
        self._rows: dict[int, list[int]] = {}  # spare keycode -> the two keysyms it has now
        self._last_press: dict[tuple[int, int], float] = {}  # (keycode, level) -> when it was last pressed
        self._closed = False

    # The TextInserter protocol

    def type_text(self, text: str) -> None:
        check_typeable(text, self.name)
        self._check_modifiers()
        delivered = 0
        with self._reporting(lambda: delivered):
            for delivered, char in enumerate(text):
                if delivered:
                    self._check_modifiers(delivered)  # the user may press one mid-text (the hotkey to stop)
                self._type_char(char)
                if delivered % SYNC_EVERY_KEYS == SYNC_EVERY_KEYS - 1:
                    self._display.sync()
            self._display.sync()

    def backspace(self, count: int) -> None:
        if count <= 0:
            return
        self._check_modifiers()
        code = self._keycode_of(XK_BACKSPACE)
        if code is None:
            raise InsertError("the keyboard map has no BackSpace key")
        with self._reporting(lambda: 0):
            for _ in range(count):
                self._tap(code)
            self._display.sync()

    def paste_keystroke(self, terminal: bool = False) -> None:
        """Ctrl+V, or Ctrl+Shift+V for a terminal (whose Ctrl+V types a literal ^V)."""
        self._check_modifiers()
        code = self._keycode_of(XK_V)
        if code is None or not self._control:
            raise InsertError("the keyboard map has no V or no Control key for the paste keystroke")
        with self._reporting(lambda: 0):
            self._tap(code, [self._control] + ([self._shift] if terminal else []))
            self._display.sync()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._rows:
                self._wait_settled(list(self._last_press))
                for keycode in self._rows:
                    self._display.change_keyboard_mapping(keycode, [[0] * self._width])
                self._display.sync()
        finally:
            self._display.close()

    # Keys

    def _type_char(self, char: str) -> None:
        keysym = keysym_for(char)
        found = self._layout_key(keysym)
        if found is None:
            slot = self._lend(keysym)
            found = self._pressable(*slot)
            self._last_press[slot] = self._clock()
        code, shifted = found
        self._tap(code, [self._shift] if shifted else [])

    def _layout_key(self, keysym: int) -> tuple[int, bool] | None:
        """The keycode on the keyboard map that types `keysym`, and whether it needs Shift."""
        found = self._index.get(keysym)
        return None if found is None else self._pressable(*found)

    def _pressable(self, code: int, level: int) -> tuple[int, bool] | None:
        """How to press `code` for its keysym at `level`: the keycode and whether Shift is held."""
        row = self._rows.get(code) or self._map[code - self._first]
        shifted = level == 1
        if self._mask & LOCK_MASK and _is_cased_letter(row[0], row[1]):
            shifted = not shifted  # Caps Lock swaps a letter's two levels
        if shifted and not self._shift:
            return None
        return code, shifted

    def _lend(self, keysym: int) -> tuple[int, int]:
        """A spare (keycode, level) mapped to `keysym`; the least recently used one is taken back if none is free."""
        if keysym in self._lent:
            slot = self._lent.pop(keysym)
            self._lent[keysym] = slot  # most recent last
            return slot
        taken = set(self._lent.values())
        levels = (0, 1) if self._shift else (0,)
        free = [(code, level) for level in levels for code in self._spare if (code, level) not in taken]
        if free:
            slot = free[0]
        elif self._lent:
            slot = self._lent.pop(next(iter(self._lent)))
            self._wait_settled([slot])
        else:
            raise InsertError(f"no spare keycode to type the keysym {keysym:#x}: the keyboard map has no empty key")
        code, level = slot
        row = self._rows.setdefault(code, [0, 0])
        row[level] = keysym
        self._display.change_keyboard_mapping(code, [row + [0] * (self._width - 2)])
        self._display.sync()
        self._lent[keysym] = slot
        return slot

    def _wait_settled(self, slots: list[tuple[int, int]]) -> None:
        """Sleep until every slot in `slots` was last pressed at least REMAP_SETTLE_S ago."""
        last = max((self._last_press.get(slot, float("-inf")) for slot in slots), default=float("-inf"))
        remaining = last + REMAP_SETTLE_S - self._clock()
        if remaining > 0:
            self._sleep(remaining)

    def _keycode_of(self, keysym: int) -> int | None:
        """The keycode whose first level is `keysym` (for keys pressed with or without modifiers)."""
        found = self._index.get(keysym)
        return found[0] if found is not None and found[1] == 0 else None

    def _tap(self, code: int, held: list[int] = ()) -> None:
        fake, X = self._xtest.fake_input, self._X
        for modifier in held:
            fake(self._display, X.KeyPress, modifier)
        fake(self._display, X.KeyPress, code)
        fake(self._display, X.KeyRelease, code)
        for modifier in reversed(held):
            fake(self._display, X.KeyRelease, modifier)

    @contextlib.contextmanager
    def _reporting(self, delivered: Callable[[], int]):
        """X errors and a lost connection as InsertError (with how many characters were sent)."""
        try:
            yield
        except self._xerror.XError as exc:
            raise InsertError(f"the X server refused a key event: {exc}", delivered()) from None
        except (self._xerror.ConnectionClosedError, OSError) as exc:
            raise InsertError(f"the X connection was lost: {exc}", delivered()) from None

    def _check_modifiers(self, delivered: int = 0) -> None:
        """Refuse to type while the user holds a modifier: the keys would become shortcuts (Ctrl+W...).

        `delivered`: characters of the call already typed (the error says so, for the rest to be sent later)."""
        with self._reporting(lambda: delivered):
            mask = self._display.screen().root.query_pointer().mask
        held = [name for bit, name in HELD_MODIFIERS.items() if mask & bit]
        if held:
            raise InsertError(f"{'+'.join(held)} is held down: typing now would send shortcuts", delivered,
                              retry=True)
        if self._hotkey_code:
            with self._reporting(lambda: delivered):
                down = self._display.query_keymap()
            if down[self._hotkey_code // 8] & (1 << (self._hotkey_code % 8)):
                raise InsertError(f"the hotkey {self._hotkey} is held down: its keys go to dictate until it is"
                                  " released", delivered, retry=True)
        self._mask = mask
