"""Typing on Windows: SendInput with KEYEVENTF_UNICODE key events (no keyboard layout involved).

`key_events(text)` builds exactly what is sent: for each UTF-16 code unit a key down
and a key up carrying it (a character outside the BMP is its two surrogates, each
down and up, which Windows joins into one WM_CHAR pair); newline and tab are the
Return and Tab virtual keys, since applications act on those keys rather than on
the characters. The ctypes call exists only on win32. Not tested on a real desktop.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from dictate.typing.base import NEWLINE, TAB, InsertError, check_typeable

INPUT_KEYBOARD = 1
KEYEVENTF_KEYUP = 0x0002
KEYEVENTF_UNICODE = 0x0004
VK_BACK, VK_TAB, VK_RETURN, VK_SHIFT, VK_CONTROL = 0x08, 0x09, 0x0D, 0x10, 0x11
VK_V = 0x56
VIRTUAL_KEYS = {NEWLINE: VK_RETURN, TAB: VK_TAB}


@dataclass(frozen=True)
class KeyEvent:
    """One KEYBDINPUT: a virtual key (`vk`, scan 0) or a UTF-16 unit (`vk` 0, `scan` the unit, UNICODE flag)."""

    vk: int
    scan: int
    flags: int


def utf16_units(text: str) -> list[int]:
    """`text` as UTF-16 code units (a non-BMP character as its high and low surrogate)."""
    data = text.encode("utf-16-le")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def key_events(text: str) -> list[KeyEvent]:
    """The key events that type `text`."""
    events: list[KeyEvent] = []
    for char in text:
        if char in VIRTUAL_KEYS:
            events += virtual_key_events(VIRTUAL_KEYS[char])
            continue
        for unit in utf16_units(char):
            events.append(KeyEvent(0, unit, KEYEVENTF_UNICODE))
            events.append(KeyEvent(0, unit, KEYEVENTF_UNICODE | KEYEVENTF_KEYUP))
    return events


def virtual_key_events(vk: int, count: int = 1, held: Sequence[int] = ()) -> list[KeyEvent]:
    """Press `vk` `count` times with the virtual keys `held` down around them."""
    events = [KeyEvent(key, 0, 0) for key in held]
    for _ in range(count):
        events += [KeyEvent(vk, 0, 0), KeyEvent(vk, 0, KEYEVENTF_KEYUP)]
    events += [KeyEvent(key, 0, KEYEVENTF_KEYUP) for key in reversed(held)]
    return events


class SendInputInserter:
    """Types with user32.SendInput (win32 only)."""

    name = "sendinput"

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise InsertError("SendInput exists only on Windows")
        import ctypes
        from ctypes import wintypes

        class KEYBDINPUT(ctypes.Structure):
            _fields_ = [("wVk", wintypes.WORD), ("wScan", wintypes.WORD), ("dwFlags", wintypes.DWORD),
                        ("time", wintypes.DWORD), ("dwExtraInfo", ctypes.c_size_t)]

        class MOUSEINPUT(ctypes.Structure):  # the union's largest member sets INPUT's size
            _fields_ = [("dx", wintypes.LONG), ("dy", wintypes.LONG), ("mouseData", wintypes.DWORD),
                        ("dwFlags", wintypes.DWORD), ("time", wintypes.DWORD), ("dwExtraInfo", ctypes.c_size_t)]

        class _UNION(ctypes.Union):
            _fields_ = [("ki", KEYBDINPUT), ("mi", MOUSEINPUT)]

        class INPUT(ctypes.Structure):
            _fields_ = [("type", wintypes.DWORD), ("u", _UNION)]

        self._ctypes, self._INPUT, self._KEYBDINPUT = ctypes, INPUT, KEYBDINPUT
        self._user32 = ctypes.WinDLL("user32", use_last_error=True)
        self._user32.SendInput.argtypes = (wintypes.UINT, ctypes.POINTER(INPUT), ctypes.c_int)
        self._user32.SendInput.restype = wintypes.UINT

    def type_text(self, text: str) -> None:
        check_typeable(text, self.name)
        self._send(key_events(text))

    def backspace(self, count: int) -> None:
        if count > 0:
            self._send(virtual_key_events(VK_BACK, count))

    def paste_keystroke(self, terminal: bool = False) -> None:
        self._send(virtual_key_events(VK_V, 1, (VK_CONTROL, VK_SHIFT) if terminal else (VK_CONTROL,)))

    def close(self) -> None:
        pass

    def _send(self, events: list[KeyEvent]) -> None:
        if not events:
            return
        array = (self._INPUT * len(events))()
        for slot, event in zip(array, events):
            slot.type = INPUT_KEYBOARD
            slot.u.ki = self._KEYBDINPUT(event.vk, event.scan, event.flags, 0, 0)
        sent = self._user32.SendInput(len(events), array, self._ctypes.sizeof(self._INPUT))
        if sent != len(events):
            error = self._ctypes.get_last_error()
            raise InsertError(f"SendInput delivered {sent} of {len(events)} key events (error {error}; "
                              "an application running as administrator does not take keys from others)")
