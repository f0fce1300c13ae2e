"""Typing a dictation's committed text into the focused window of another application (no Qt).

- `choose_inserter(...)` -> a `TextInserter` for this platform (X11 XTest; Wayland's RemoteDesktop
  portal, wtype, ydotool, dotool; Windows SendInput; macOS Quartz; paste mode; the clipboard alone as
  the last resort).
- `FocusGuard` (focus.py) remembers the target window and says when the focus left it or is on
  one of this app's own windows.
- `TypingLedger` (ledger.py) turns the text stage's edits into the keystrokes to send, so the
  window receives exactly the dictation's text.
- `TypingSession` (session.py) puts the three together for one dictation: `start()`, `apply(edit)`,
  `deliver()` on a timer while paused, `finish()`.
"""

from dictate.typing.base import Clipboard, InsertError, TextInserter
from dictate.typing.choose import METHODS, choose_inserter
from dictate.typing.focus import Focus, FocusGuard, FocusTracker, WindowId, WindowInfo, focus_tracker
from dictate.typing.ledger import Keystrokes, TypingLedger
from dictate.typing.paste import ClipboardOnlyInserter, PasteInserter, command_clipboard, is_terminal_class
from dictate.typing.session import TypingReport, TypingSession

__all__ = [
    "METHODS", "Clipboard", "ClipboardOnlyInserter", "Focus", "FocusGuard", "FocusTracker", "InsertError",
    "Keystrokes", "PasteInserter", "TextInserter", "TypingLedger", "TypingReport", "TypingSession", "WindowId", "WindowInfo", "choose_inserter",
    "command_clipboard", "focus_tracker", "is_terminal_class",
]
