"""Hotkeys as the user writes them ("Ctrl+Alt+Space"), parsed once into a platform-neutral `Hotkey`.

The key is kept under its X keysym name (the names xkbcommon and the freedesktop shortcuts
specification use: "space", "Pause", "F9", "a"), so each backend only maps a name it knows.
"""

from __future__ import annotations

import enum
import string
from dataclasses import dataclass


class Modifier(enum.Enum):
    """A modifier key; its value is how the user writes it."""

    CTRL = "Ctrl"
    ALT = "Alt"  # Option on macOS
    SHIFT = "Shift"
    SUPER = "Super"  # the Windows / Command / logo key


MODIFIER_ORDER = (Modifier.CTRL, Modifier.ALT, Modifier.SHIFT, Modifier.SUPER)  # as shown and sent

_MODIFIER_NAMES = {
    "ctrl": Modifier.CTRL, "control": Modifier.CTRL, "ctl": Modifier.CTRL,
    "alt": Modifier.ALT, "option": Modifier.ALT, "opt": Modifier.ALT,
    "shift": Modifier.SHIFT,
    "super": Modifier.SUPER, "meta": Modifier.SUPER, "win": Modifier.SUPER, "windows": Modifier.SUPER,
    "cmd": Modifier.SUPER, "command": Modifier.SUPER, "logo": Modifier.SUPER,
}

# Named keys: keysym name -> how it is shown. Letters, digits and F1..F24 are added below.
_NAMED_KEYS = {
    "space": "Space", "Pause": "Pause", "Scroll_Lock": "ScrollLock", "Insert": "Insert",
    "Delete": "Delete", "Home": "Home", "End": "End", "Prior": "PageUp", "Next": "PageDown",
    "Return": "Enter", "Tab": "Tab", "Escape": "Esc", "BackSpace": "Backspace", "Menu": "Menu",
    "Print": "Print", "grave": "`", "minus": "-", "equal": "=", "comma": ",", "period": ".",
    "slash": "/", "semicolon": ";", "apostrophe": "'", "backslash": "\\", "bracketleft": "[",
    "bracketright": "]", "Up": "Up", "Down": "Down", "Left": "Left", "Right": "Right",
}
_KEY_ALIASES = {  # other spellings (lower case) -> keysym name
    "pageup": "Prior", "pgup": "Prior", "page_up": "Prior", "pagedown": "Next", "pgdn": "Next",
    "page_down": "Next", "enter": "Return", "esc": "Escape", "del": "Delete", "ins": "Insert",
    "scrolllock": "Scroll_Lock", "break": "Pause", "printscreen": "Print", "backquote": "grave",
}

_KEYS: dict[str, str] = dict(_NAMED_KEYS)  # keysym -> display name
_KEYS.update({letter: letter.upper() for letter in string.ascii_lowercase})
_KEYS.update({digit: digit for digit in string.digits})
_KEYS.update({f"F{n}": f"F{n}" for n in range(1, 25)})
_LOOKUP = {keysym.lower(): keysym for keysym in _KEYS}
_LOOKUP.update({display.lower(): keysym for keysym, display in _KEYS.items()})
_LOOKUP.update(_KEY_ALIASES)

# Keys that type something: without Ctrl, Alt or Super the grab would stop the user typing them.
_TYPING_KEYS = frozenset(
    {*string.ascii_lowercase, *string.digits, "space", "Return", "Tab", "BackSpace", "Delete", "grave", "minus",
     "equal", "comma", "period", "slash", "semicolon", "apostrophe", "backslash", "bracketleft", "bracketright",
     "Up", "Down", "Left", "Right", "Home", "End", "Prior", "Next", "Escape"})

# Ctrl+Alt+Space: on every keyboard (laptops often lack Pause), bound by default neither by GNOME,
# KDE, Xfce nor Windows, and not a key chord any common application uses. Three keys to hold is fine
# for hold-to-talk since the two modifiers rest under the left hand. (On macOS Ctrl+Option+Space
# selects the next input source when several are enabled: pick another key there.)
DEFAULT_HOTKEY_TEXT = "Ctrl+Alt+Space"


@dataclass(frozen=True)
class Hotkey:
    """One key with the modifiers held with it."""

    key: str  # X keysym name: "space", "Pause", "F9", "a"
    modifiers: frozenset[Modifier] = frozenset()  # held together with the key

    def __post_init__(self) -> None:
        if self.key not in _KEYS:
            raise ValueError(f"unknown key {self.key!r}")
        if self.key in _TYPING_KEYS and not self.modifiers - {Modifier.SHIFT}:
            raise ValueError(f"{self.text()} alone would stop that key from typing: "
                             "add Ctrl, Alt or Super (e.g. Ctrl+Alt+Space), or use a key such as Pause or F9")

    @property
    def is_lone_key(self) -> bool:
        """A key without modifiers (Pause, F9): words can be typed while it is held, so hold to talk types
        live. With Ctrl, Alt or Super held, typed keys would be shortcuts: the words wait for the release."""
        return not self.modifiers

    def ordered_modifiers(self) -> tuple[Modifier, ...]:
        return tuple(modifier for modifier in MODIFIER_ORDER if modifier in self.modifiers)

    def text(self) -> str:
        """As the user writes it: "Ctrl+Alt+Space"."""
        return "+".join([*(modifier.value for modifier in self.ordered_modifiers()), _KEYS[self.key]])

    def __str__(self) -> str:
        return self.text()


def parse_hotkey(text: str) -> Hotkey:
    """ "Ctrl+Alt+Space" -> Hotkey("space", {CTRL, ALT}); case and spaces around '+' do not matter.

    Raises ValueError with a message that can be shown as it is."""
    parts = [part.strip() for part in text.split("+")]
    if text.strip().endswith("+") and len(parts) >= 2:  # "Ctrl++": the plus key is not offered
        raise ValueError(f"hotkey {text!r}: the + key cannot be used")
    if not text.strip() or any(not part for part in parts):
        raise ValueError(f"hotkey {text!r}: write it as modifiers and one key joined by +, e.g. {DEFAULT_HOTKEY_TEXT}")
    modifiers: set[Modifier] = set()
    keys: list[str] = []
    for part in parts:
        modifier = _MODIFIER_NAMES.get(part.lower())
        if modifier is not None:
            if modifier in modifiers:
                raise ValueError(f"hotkey {text!r}: {modifier.value} appears twice")
            modifiers.add(modifier)
        elif part.lower() in _LOOKUP:
            keys.append(_LOOKUP[part.lower()])
        else:
            raise ValueError(f"hotkey {text!r}: unknown key {part!r}")
    if len(keys) != 1:
        raise ValueError(f"hotkey {text!r}: needs exactly one key besides the modifiers, e.g. {DEFAULT_HOTKEY_TEXT}")
    return Hotkey(keys[0], frozenset(modifiers))


DEFAULT_HOTKEY = parse_hotkey(DEFAULT_HOTKEY_TEXT)
