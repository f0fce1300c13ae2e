"""Paste mode and the clipboard-only fallback.

Paste mode is for applications that drop synthetic key events: each chunk of text
goes onto the clipboard and the paste keystroke is sent (Ctrl+V; Ctrl+Shift+V in a
terminal, whose Ctrl+V types a literal ^V; Cmd+V on macOS). The target fetches the
clipboard only when it handles the keystroke, so the clipboard keeps a chunk at
least PASTE_SETTLE_S before the next chunk or the old content replaces it. When the
dictation ends, the clipboard gets its previous text back, but only if it still
holds ours (the user may have copied something since). Only text is given back.

With Qt's clipboard on X11 the clipboard's owner is the GUI's event loop, which must
run while the target fetches the text: the GUI passes a `sleep` that keeps the event
loop running (a QEventLoop with a timer), not time.sleep.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from dictate.typing.base import Clipboard, InsertError, check_typeable
from dictate.typing.focus import FocusTracker

PASTE_SETTLE_S = 0.3  # the clipboard keeps a pasted chunk this long (the target fetches it meanwhile)
CLIPBOARD_TIMEOUT_S = 5.0  # a clipboard tool that has not answered by then is stuck
CLIPBOARD_POLL_S = 0.01  # how often a clipboard tool's new content is looked for

# WM_CLASS names (instance or class, lower case) of terminals: they paste with Ctrl+Shift+V
TERMINAL_CLASSES = frozenset({
    "xterm", "uxterm", "foot", "footclient", "gnome-terminal", "gnome-terminal-server", "org.gnome.terminal",
    "kgx", "org.gnome.console", "ptyxis", "org.gnome.ptyxis", "konsole", "org.kde.konsole", "yakuake",
    "alacritty", "kitty", "wezterm", "org.wezfurlong.wezterm", "terminator", "tilix", "com.gexperts.tilix",
    "xfce4-terminal", "mate-terminal", "lxterminal", "qterminal", "urxvt", "rxvt", "st", "st-256color",
    "sakura", "guake", "tilda", "terminology", "blackbox", "com.raggesilver.blackbox", "contour", "ghostty",
    "com.mitchellh.ghostty", "terminal", "deepin-terminal", "cool-retro-term", "hyper",
})


def is_terminal_class(wm_class: Sequence[str]) -> bool:
    """Whether a window with this WM_CLASS (instance, class) is a terminal emulator."""
    return any(name.lower() in TERMINAL_CLASSES for name in wm_class)


class KeySender(Protocol):
    """The keys paste mode needs from a typing backend (XTestInserter, WtypeInserter, ... have them)."""

    def paste_keystroke(self, terminal: bool = False) -> None: ...

    def backspace(self, count: int) -> None: ...

    def close(self) -> None: ...


class PasteInserter:
    """Puts each chunk on the clipboard and sends the paste keystroke; gives the clipboard back at the end."""

    name = "paste"

    def __init__(self, keys: KeySender, clipboard: Clipboard, focus: FocusTracker | None = None,
                 owns_focus: bool = False, settle_s: float = PASTE_SETTLE_S,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        """`focus`: tells a terminal from other windows by WM_CLASS (None: never a terminal); closed with
        this inserter if `owns_focus`. `sleep`: waits for a paste to land (see the module's note on Qt)."""
        self._keys, self._clipboard, self._focus, self._owns_focus = keys, clipboard, focus, owns_focus
        self._settle_s, self._sleep, self._clock = settle_s, sleep, clock
        self._previous: str | None = None  # the user's clipboard text before our first chunk
        self._ours: str | None = None  # the text we last put on the clipboard
        self._last_paste = float("-inf")
        self._closed = False

    def type_text(self, text: str) -> None:
        check_typeable(text, self.name)
        if not text:
            return
        self._settle()
        try:
            current = self._clipboard.get()
            if self._ours is None or current != self._ours:
                self._previous = current  # the user's text (first chunk, or copied since our last one)
            self._clipboard.set(text)
        except InsertError:
            raise
        except Exception as exc:
            raise InsertError(f"the clipboard could not be set: {exc}") from None
        self._ours = text
        self._keys.paste_keystroke(terminal=self._terminal())
        self._last_paste = self._clock()

    def backspace(self, count: int) -> None:
        self._settle()  # the previous paste lands before the BackSpaces
        self._keys.backspace(count)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._ours is not None and self._previous is not None:
                self._settle()
                if self._clipboard.get() == self._ours:
                    self._clipboard.set(self._previous)
        finally:
            self._keys.close()
            if self._owns_focus and self._focus is not None:
                self._focus.close()

    def _terminal(self) -> bool:
        """Whether the focused window is a terminal (Ctrl+Shift+V)."""
        if self._focus is None:
            return False
        window = self._focus.focused_window()
        info = self._focus.window_info(window) if window is not None else None
        return info is not None and is_terminal_class(info.wm_class)

    def _settle(self) -> None:
        remaining = self._last_paste + self._settle_s - self._clock()
        if remaining > 0:
            self._sleep(remaining)


class ClipboardOnlyInserter:
    """No way to type here: the clipboard holds the dictation's text so far, for the user to paste.

    `reason` says why typing is not possible (for the visible notice).
    """

    name = "clipboard"

    def __init__(self, clipboard: Clipboard, reason: str) -> None:
        self._clipboard, self.reason = clipboard, reason
        self.text = ""

    def type_text(self, text: str) -> None:
        if text:
            self.text += text
            self._clipboard.set(self.text)

    def backspace(self, count: int) -> None:
        if count > 0:
            self.text = self.text[: max(len(self.text) - count, 0)]
            self._clipboard.set(self.text)

    def close(self) -> None:
        pass


def _tool_clipboard(get_command: list[str], set_command: list[str], env: Mapping[str, str]) -> Clipboard:
    environment = dict(env)

    def get() -> str | None:
        result = subprocess.run(get_command, capture_output=True, timeout=CLIPBOARD_TIMEOUT_S, check=False,
                                env=environment)
        return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None

    def set_(text: str) -> None:
        # The tool forks a process that owns the selection: no pipe may stay open to it.
        result = subprocess.run(set_command, input=text.encode("utf-8"), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=CLIPBOARD_TIMEOUT_S, check=False, env=environment)
        if result.returncode != 0:
            raise InsertError(f"{set_command[0]} could not set the clipboard (exit status {result.returncode})")
        # xclip and wl-copy return before their forked owner holds the selection: a paste sent now
        # would get the previous content. Wait until the clipboard reads back the text.
        deadline = time.monotonic() + CLIPBOARD_TIMEOUT_S
        while get() != text:
            if time.monotonic() > deadline:
                raise InsertError(f"{set_command[0]} did not take the clipboard within {CLIPBOARD_TIMEOUT_S:.0f} s")
            time.sleep(CLIPBOARD_POLL_S)

    return Clipboard(get, set_)


def command_clipboard(env: Mapping[str, str] | None = None) -> Clipboard | None:
    """The clipboard through wl-clipboard (Wayland), xclip or xsel (X11), whichever is installed; else None."""
    env = os.environ if env is None else env
    path = env.get("PATH")
    if env.get("WAYLAND_DISPLAY") and shutil.which("wl-copy", path=path) and shutil.which("wl-paste", path=path):
        return _tool_clipboard(["wl-paste", "--no-newline"], ["wl-copy"], env)
    if env.get("DISPLAY"):
        if shutil.which("xclip", path=path):
            return _tool_clipboard(["xclip", "-selection", "clipboard", "-out"],
                                   ["xclip", "-selection", "clipboard", "-in"], env)
        if shutil.which("xsel", path=path):
            return _tool_clipboard(["xsel", "--clipboard", "--output"], ["xsel", "--clipboard", "--input"], env)
    return None
