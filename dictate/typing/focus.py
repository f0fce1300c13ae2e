"""Which window has the keyboard focus, so typing goes only where the user meant it to go.

X11: the window manager's `_NET_ACTIVE_WINDOW` when it publishes one, else the X
input focus (XGetInputFocus) climbed up to its top-level window (the one with a
WM_CLASS); its process id (`_NET_WM_PID`) and class come from its properties.

Wayland has no protocol that tells a client which window has the focus, by design:
`WaylandFocus.focused_window()` answers None, "unknown", and `FocusGuard` then
reports `Focus.UNKNOWN` so the caller types without pausing (the user's own focus
is all there is). Windows and macOS are not covered yet (also "unknown").

    tracker = focus_tracker()                 # for this session's display server
    guard = FocusGuard(tracker)               # at dictation start: remembers the target window
    state = guard.start()                     # Focus.TARGET, OWN_WINDOW, NO_WINDOW or UNKNOWN
    state = guard.check()                     # before each typed chunk: TARGET / UNKNOWN -> type
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NewType, Protocol

WindowId = NewType("WindowId", int)  # an X11 window id (top-level, with WM_CLASS)

POINTER_ROOT = 1  # XGetInputFocus's answer when the focus follows the pointer


@dataclass(frozen=True)
class WindowInfo:
    """What the tracker knows of a window (None where it does not say)."""

    id: WindowId
    pid: int | None  # _NET_WM_PID: the process that owns the window
    wm_class: tuple[str, ...]  # WM_CLASS: (instance, class), e.g. ("xterm", "XTerm"); () if unset
    title: str | None


class FocusTracker(Protocol):
    """Answers which top-level window has the keyboard focus."""

    def focused_window(self) -> WindowId | None:
        """The focused top-level window; None if no window has it or it cannot be known."""

    def window_info(self, window: WindowId) -> WindowInfo | None:
        """The window's pid, class and title; None if it is gone."""

    def close(self) -> None:
        """Release the connection."""


class X11Focus:
    """Focus tracking on an X11 display (its own connection)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        from Xlib import X, display, error

        self._X, self._error = X, error
        self._display = display.Display(env.get("DISPLAY"))
        self._root = self._display.screen().root
        atom = self._display.intern_atom
        self._active, self._pid, self._name = atom("_NET_ACTIVE_WINDOW"), atom("_NET_WM_PID"), atom("_NET_WM_NAME")
        self._utf8 = atom("UTF8_STRING")
        self._closed = False

    def focused_window(self) -> WindowId | None:
        try:
            active = self._root.get_full_property(self._active, self._X.AnyPropertyType)
            if active is not None and len(active.value) and active.value[0]:
                return WindowId(int(active.value[0]))
            focus = self._display.get_input_focus().focus
            if isinstance(focus, int) or focus.id in (self._root.id, POINTER_ROOT):
                return None  # X.NONE / PointerRoot / the root itself: no window has the focus
            return self._top_level(focus)
        except self._error.XError:
            return None  # the window went away while we looked

    def window_info(self, window: WindowId) -> WindowInfo | None:
        try:
            handle = self._display.create_resource_object("window", window)
            pid = handle.get_full_property(self._pid, self._X.AnyPropertyType)
            wm_class = handle.get_wm_class() or ()
            name = handle.get_full_property(self._name, self._utf8)
            title = name.value.decode("utf-8", "replace") if name is not None else handle.get_wm_name()
            return WindowInfo(window, int(pid.value[0]) if pid is not None and len(pid.value) else None,
                              tuple(wm_class), title if isinstance(title, str) else None)
        except self._error.XError:
            return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._display.close()

    def _top_level(self, window) -> WindowId | None:
        """`window` or its nearest ancestor with a WM_CLASS (the input focus is often a child widget)."""
        start = window
        while window.id != self._root.id:
            if window.get_wm_class() is not None:
                return WindowId(window.id)
            parent = window.query_tree().parent
            if isinstance(parent, int) or not parent:
                break
            window = parent
        return WindowId(start.id)


class UnknownFocus:
    """No way to know the focused window (Wayland, and for now Windows and macOS)."""

    def focused_window(self) -> WindowId | None:
        return None

    def window_info(self, window: WindowId) -> WindowInfo | None:
        return None

    def close(self) -> None:
        pass


def focus_tracker(env: Mapping[str, str] | None = None) -> FocusTracker:
    """The tracker for this session: X11's where the session is X11 (not XWayland), else UnknownFocus."""
    env = os.environ if env is None else env
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland" or not env.get("DISPLAY"):
        return UnknownFocus()
    try:
        return X11Focus(env)
    except Exception:  # python-xlib missing or the display unreachable: typing still works, unguarded
        return UnknownFocus()


class Focus(enum.Enum):
    """Where the keyboard focus is, relative to the dictation's target window."""

    TARGET = "target"  # on the window that had it when dictation started: type
    ELSEWHERE = "elsewhere"  # another window: pause typing
    OWN_WINDOW = "own window"  # one of this process's windows: never type there
    NO_WINDOW = "no window"  # no window has the focus: pause typing
    UNKNOWN = "unknown"  # cannot be known here (Wayland): type, trusting the user

    @property
    def may_type(self) -> bool:
        return self in (Focus.TARGET, Focus.UNKNOWN)


class FocusGuard:
    """Remembers the dictation's target window and says whether the focus is on it."""

    def __init__(self, tracker: FocusTracker, own_pid: int | None = None) -> None:
        self.tracker = tracker
        self.own_pid = os.getpid() if own_pid is None else own_pid
        self.target: WindowId | None = None
        self.target_info: WindowInfo | None = None

    def start(self) -> Focus:
        """Take the focused window as the target (not one of ours: then there is no target)."""
        self.target, self.target_info = None, None
        window = self.tracker.focused_window()
        state = self._classify(window)
        if state is Focus.ELSEWHERE:
            self.target, self.target_info = window, self.tracker.window_info(window)
            return Focus.TARGET
        return state

    def check(self) -> Focus:
        """Where the focus is now. A dictation that started in its own window gets the next other window."""
        window = self.tracker.focused_window()
        state = self._classify(window)
        if state is Focus.ELSEWHERE and self.target is None:
            self.target, self.target_info = window, self.tracker.window_info(window)
            return Focus.TARGET
        return state

    def _classify(self, window: WindowId | None) -> Focus:
        if window is None:
            return Focus.UNKNOWN if isinstance(self.tracker, UnknownFocus) else Focus.NO_WINDOW
        if window == self.target:
            return Focus.TARGET
        info = self.tracker.window_info(window)
        if info is not None and info.pid == self.own_pid:
            return Focus.OWN_WINDOW
        return Focus.ELSEWHERE
