"""Picks the way to put text into the focused window for this session, once per dictation.

    inserter = choose_inserter("auto", clipboard=Clipboard(get, set))
    ...                                   # type_text / backspace while the dictation runs
    inserter.close()

Typing backends, in order: Windows SendInput; macOS Quartz; on Wayland the RemoteDesktop
portal (GNOME, KDE; absent on wlroots, where it fails at once), then wtype, ydotool, dotool;
on X11 XTest. "auto" takes the first that works here and,
if none does, the clipboard alone (ClipboardOnlyInserter, whose `reason` says
why). "type" insists on typing; "paste" pastes through the clipboard, using the
typing backend for the paste keystroke. Where nothing fits, InsertError lists
every backend tried and why it could not work.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping

from dictate.hotkey.keys import Hotkey
from dictate.typing.base import Clipboard, InsertError, TextInserter
from dictate.typing.focus import FocusTracker, focus_tracker
from dictate.typing.paste import ClipboardOnlyInserter, PasteInserter

METHODS = ("auto", "type", "paste")


def is_wayland(env: Mapping[str, str]) -> bool:
    """A Wayland session (XTest would reach only XWayland's windows there)."""
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"


def typing_backends(env: Mapping[str, str], platform: str = sys.platform,
                    hotkey: Hotkey | None = None) -> list[tuple[str, Callable[[], object]]]:
    """(name, constructor) of each typing backend for this platform, best first; a constructor raises
    InsertError where its backend cannot work. `hotkey`: the global hotkey (on X11 nothing is
    typed while its key is down: its grab would take the keys)."""
    if platform == "win32":
        from dictate.typing.windows import SendInputInserter

        return [("sendinput", SendInputInserter)]
    if platform == "darwin":
        from dictate.typing.macos import QuartzInserter

        return [("quartz", QuartzInserter)]
    if is_wayland(env):
        from dictate.typing.remote_desktop import RemoteDesktopInserter
        from dictate.typing.wayland import DotoolInserter, WtypeInserter, YdotoolInserter

        return [("remote-desktop", lambda: RemoteDesktopInserter(env)), ("wtype", lambda: WtypeInserter(env)),
                ("ydotool", lambda: YdotoolInserter(env)), ("dotool", lambda: DotoolInserter(env))]
    from dictate.typing.x11 import XTestInserter

    return [("x11-xtest", lambda: XTestInserter(env, hotkey=hotkey))]


def first_typing_backend(env: Mapping[str, str], platform: str = sys.platform, hotkey: Hotkey | None = None):
    """The first typing backend that works here; InsertError naming each one's reason otherwise."""
    reasons = []
    for name, make in typing_backends(env, platform, hotkey):
        try:
            return make()
        except InsertError as exc:
            reasons.append(f"{name}: {exc}")
    raise InsertError("no way to type into other windows here (" + "; ".join(reasons) + ")")


def choose_inserter(method: str = "auto", env: Mapping[str, str] | None = None, *,
                    clipboard: Clipboard | None = None, focus: FocusTracker | None = None,
                    platform: str = sys.platform, sleep: Callable[[float], None] = time.sleep,
                    hotkey: Hotkey | None = None) -> TextInserter:
    """The inserter for one dictation.

    `clipboard`: the system clipboard (the GUI passes Qt's) for paste mode and the clipboard-only
    fallback. `focus`: the caller's focus tracker, used in paste mode to tell terminals (Ctrl+Shift+V);
    without one, paste mode makes its own. `sleep`: paste mode's wait for a paste to land (the GUI
    passes one that keeps Qt's event loop running). `hotkey`: the global hotkey, if one is set
    (see `typing_backends`). Raises InsertError (why) or ValueError (a bad method).
    """
    if method not in METHODS:
        raise ValueError(f"unknown insertion method {method!r}; choose one of {', '.join(METHODS)}")
    env = os.environ if env is None else env
    if method == "paste":
        if clipboard is None:
            raise InsertError("paste mode needs the clipboard")
        keys = first_typing_backend(env, platform, hotkey)
        owns_focus = focus is None
        tracker = focus_tracker(env) if focus is None else focus
        return PasteInserter(keys, clipboard, focus=tracker, owns_focus=owns_focus, sleep=sleep)
    try:
        return first_typing_backend(env, platform, hotkey)
    except InsertError as exc:
        if method == "type" or clipboard is None:
            raise
        return ClipboardOnlyInserter(clipboard, str(exc))
