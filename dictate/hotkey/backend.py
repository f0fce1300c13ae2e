"""What every hotkey backend offers, and which one this desktop session gets.

A backend grabs one `Hotkey` and reports its presses and releases from its own thread through a
callback; it is started and stopped by one owner. Failures are data: `start` raises a `HotkeyError`
whose message can be shown to the user as it is, and a backend that breaks later (the display went
away) calls `on_problem` with such a message instead of going quiet.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from dictate.hotkey.keys import Hotkey

# What the user can do where no backend can grab a key (shown with the reason).
BIND_CLI_HINT = ("bind `dictate toggle` (or `dictate start` / `dictate stop`) in your desktop's keyboard "
                 "shortcut settings")


class HotkeyEdge(enum.Enum):
    PRESS = "press"
    RELEASE = "release"


@dataclass(frozen=True)
class HotkeyEvent:
    """The hotkey went down or came up (autorepeat already removed: one press, one release)."""

    edge: HotkeyEdge
    time_ms: int  # the event's own timestamp (server or OS clock, milliseconds, undefined base)


class HotkeyError(Exception):
    """The hotkey cannot work; str(error) says why and what to do, in words for the user."""


class HotkeyUnavailable(HotkeyError):
    """No way to grab a key here (no display, no portal, library missing)."""


class HotkeyTaken(HotkeyError):
    """Another application holds that key combination already."""


class HotkeyBackend(Protocol):
    """One way to grab a global key, for one platform."""

    name: str  # for messages and the settings page: "X11 key grab", "GlobalShortcuts portal"

    def start(self, hotkey: Hotkey, on_event: Callable[[HotkeyEvent], None],
              on_problem: Callable[[str], None]) -> None:
        """Grab the key; from now on `on_event` is called (on the backend's thread) for each press and release.

        Raises HotkeyError when the key cannot be grabbed. `on_problem` is called (also on the
        backend's thread) if the grab stops working later."""
        ...

    def stop(self) -> None:
        """Release the key and join the backend's thread. Safe to call twice or before start."""
        ...


class BackendKind(enum.Enum):
    X11 = "x11"
    PORTAL = "portal"  # Wayland: org.freedesktop.portal.GlobalShortcuts
    PYNPUT = "pynput"  # Windows, macOS


@dataclass(frozen=True)
class BackendChoice:
    kind: BackendKind | None  # None: nothing can grab a key in this session
    reason: str  # why this one (or why none), for logs and the settings page


def choose_backend(platform: str = sys.platform, environ: Mapping[str, str] = os.environ) -> BackendChoice:
    """The backend for this session, from the platform and the session's environment alone.

    Under Wayland an X11 grab through Xwayland only sees keys while an X11 window has the focus,
    so a Wayland session gets the portal even when DISPLAY is set."""
    if platform in ("win32", "darwin"):
        return BackendChoice(BackendKind.PYNPUT, f"{platform}: pynput")
    wayland = environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland"
    if wayland:
        return BackendChoice(BackendKind.PORTAL, "Wayland session: the GlobalShortcuts portal")
    if environ.get("DISPLAY"):
        return BackendChoice(BackendKind.X11, f"X11 display {environ['DISPLAY']}")
    return BackendChoice(None, f"no display (neither WAYLAND_DISPLAY nor DISPLAY is set): {BIND_CLI_HINT}")
