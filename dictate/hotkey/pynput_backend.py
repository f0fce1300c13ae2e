"""Windows and macOS global hotkey through pynput's keyboard listener (not tested on those systems here).

pynput is imported only when the listener starts (it is a dependency on those two platforms only).
On macOS the app needs the Accessibility / Input Monitoring permission, else no key arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dictate.hotkey.backend import HotkeyEdge, HotkeyEvent, HotkeyUnavailable
from dictate.hotkey.keys import Hotkey, Modifier

# keysym name -> pynput.keyboard.Key member; other keys (letters, digits, punctuation) are characters.
_SPECIAL_KEYS = {
    "space": "space", "Pause": "pause", "Scroll_Lock": "scroll_lock", "Insert": "insert", "Delete": "delete",
    "Home": "home", "End": "end", "Prior": "page_up", "Next": "page_down", "Return": "enter", "Tab": "tab",
    "Escape": "esc", "BackSpace": "backspace", "Menu": "menu", "Print": "print_screen", "Up": "up",
    "Down": "down", "Left": "left", "Right": "right", **{f"F{n}": f"f{n}" for n in range(1, 21)},
}
_CHARACTERS = {"grave": "`", "minus": "-", "equal": "=", "comma": ",", "period": ".", "slash": "/",
               "semicolon": ";", "apostrophe": "'", "backslash": "\\", "bracketleft": "[", "bracketright": "]"}
_MODIFIER_KEYS = {"ctrl": Modifier.CTRL, "alt": Modifier.ALT, "shift": Modifier.SHIFT,
                  "cmd": Modifier.SUPER}


def pynput_key(key: str) -> tuple[str, str]:
    """("special", Key member name) or ("char", the character) for a keysym name."""
    if key in _SPECIAL_KEYS:
        return "special", _SPECIAL_KEYS[key]
    if key.startswith("F") and key[1:].isdigit():
        raise HotkeyUnavailable(f"{key}: pynput offers function keys up to F20")
    return "char", _CHARACTERS.get(key, key)


class PynputHotkeyListener:
    name = "pynput keyboard listener"

    def __init__(self) -> None:
        self._listener = None

    def start(self, hotkey: Hotkey, on_event: Callable[[HotkeyEvent], None],
              on_problem: Callable[[str], None]) -> None:
        try:
            from pynput import keyboard
        except ImportError as exc:
            raise HotkeyUnavailable(f"the global hotkey needs pynput, which is not installed ({exc})") from exc
        kind, name = pynput_key(hotkey.key)
        target = getattr(keyboard.Key, name) if kind == "special" else keyboard.KeyCode.from_char(name)
        held: set[Modifier] = set()
        down = False

        def modifier_of(key) -> Modifier | None:
            member = getattr(key, "name", None)  # Key.ctrl_l -> "ctrl_l"; KeyCode has none
            return _MODIFIER_KEYS.get(member.removesuffix("_l").removesuffix("_r")) if member else None

        def on_press(key) -> None:
            nonlocal down
            modifier = modifier_of(key)
            if modifier is not None:
                held.add(modifier)
            elif not down and listener.canonical(key) == listener.canonical(target) and held == hotkey.modifiers:
                down = True
                on_event(HotkeyEvent(HotkeyEdge.PRESS, _now_ms()))

        def on_release(key) -> None:
            nonlocal down
            modifier = modifier_of(key)
            if modifier is not None:
                held.discard(modifier)
            elif down and listener.canonical(key) == listener.canonical(target):
                down = False
                on_event(HotkeyEvent(HotkeyEdge.RELEASE, _now_ms()))

        listener = keyboard.Listener(on_press=on_press, on_release=on_release)
        listener.start()
        listener.wait()  # until the OS hook is in place
        self._listener = listener

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener.join()
            self._listener = None


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000
