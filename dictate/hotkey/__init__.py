"""Global hotkeys without Qt: parsing, the hold/toggle modes, and one backend per platform.

The X11 grab (`x11`), the Wayland GlobalShortcuts portal (`portal`) and pynput for Windows and
macOS (`pynput_backend`) each sit behind `HotkeyBackend`; `choose_backend` picks one from the
session. dictate.gui.hotkey turns a backend's events into Qt signals.
"""

from dictate.hotkey.backend import (
    BackendChoice,
    BackendKind,
    HotkeyBackend,
    HotkeyEdge,
    HotkeyError,
    HotkeyEvent,
    HotkeyTaken,
    HotkeyUnavailable,
    choose_backend,
)
from dictate.hotkey.keys import DEFAULT_HOTKEY, DEFAULT_HOTKEY_TEXT, Hotkey, Modifier, parse_hotkey
from dictate.hotkey.modes import HotkeyMode, ModeMachine, Request

__all__ = [
    "DEFAULT_HOTKEY", "DEFAULT_HOTKEY_TEXT", "BackendChoice", "BackendKind", "Hotkey", "HotkeyBackend", "HotkeyEdge",
    "HotkeyError", "HotkeyEvent", "HotkeyMode", "HotkeyTaken", "HotkeyUnavailable", "ModeMachine", "Modifier",
    "Request", "choose_backend", "parse_hotkey",
]
