"""What to type for one dictation: the text stage's edits in, keystrokes for the target window out.

Pure (no I/O, no clock). The dictation's text is the text stage's text without its
leading spaces (the first typed word of a dictation is not preceded by a space), unless
the dictation `continues` text an earlier one typed into the same window: then one space
separates them, as a person would type it ("...silly. I went", not "silly.I went").
The ledger knows what the window received. It sends BackSpace only for characters
it typed into that window since the focus last came to it, so nothing the user
typed or moved to is ever erased; a deletion it may not send is left undone and
recorded in `diverged` (the window then keeps text the transcript no longer has).

    ledger = TypingLedger()
    ledger.apply(edit)                  # each TextEdit from the text stage
    keys = ledger.pending()             # while the target window has the focus
    inserter.backspace(keys.backspaces); inserter.type_text(keys.text)
    ledger.sent(keys)                   # or ledger.sent(keys, error.delivered) after an InsertError
    ledger.focus_lost()                 # the focus left the target: nothing typed before is erasable
"""

from __future__ import annotations

from dataclasses import dataclass

from dictate.text.stage import TextEdit

NO_SPACE_BEFORE = ".,;:!?)]}%"  # a dictation that starts with one of these follows the earlier text directly


@dataclass(frozen=True)
class Keystrokes:
    """Press BackSpace `backspaces` times, then type `text`."""

    backspaces: int = 0
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.backspaces or self.text)


class TypingLedger:
    """One dictation's text and what of it the target window has received."""

    def __init__(self) -> None:
        self._stage_text = ""  # the text stage's text, as its edits built it
        self._window = ""  # the dictation text the window is known to hold (a prefix or an older version)
        self._erasable = 0  # trailing characters of `_window` typed since the focus last arrived
        self.diverged = False  # a deletion was not sent: the window holds text the dictation no longer has
        self.window_text = ""  # what this dictation left in the window: its typing, minus its BackSpaces
        self.continues = False  # it follows an earlier dictation's words in the same window

    @property
    def text(self) -> str:
        """The dictation's text as it should reach the window (the stage's, leading spaces removed, one space
        before a word that continues an earlier dictation)."""
        text = self._stage_text.lstrip(" ")
        return " " + text if self.continues and text and not text[0].isspace() and text[0] not in NO_SPACE_BEFORE \
            else text

    def apply(self, edit: TextEdit) -> None:
        """A text stage edit (it may delete only what earlier edits inserted)."""
        if edit.delete > len(self._stage_text):
            raise ValueError(f"edit deletes {edit.delete} characters of a {len(self._stage_text)}-character text")
        self._stage_text = edit.apply(self._stage_text)

    def pending(self) -> Keystrokes:
        """What to send to the target window now to bring it up to the dictation's text."""
        target, window = self.text, self._window
        common = _common_prefix(target, window)
        erase = len(window) - common
        if erase > self._erasable:
            return Keystrokes(0, target[common:])  # the deletion is not sent; the new text follows
        return Keystrokes(erase, target[common:])

    def sent(self, keys: Keystrokes, delivered: int | None = None) -> None:
        """`keys` (from the last `pending()`, no `apply` since) reached the window; `delivered`: how much
        of its text did, if not all (`InsertError.delivered`)."""
        typed = keys.text if delivered is None else keys.text[:delivered]
        target, window = self.text, self._window
        common = _common_prefix(target, window)
        if keys.backspaces:
            self._window = window[: len(window) - keys.backspaces]
            self._erasable -= keys.backspaces
            self.window_text = self.window_text[: len(self.window_text) - keys.backspaces]
        elif len(window) > common:  # a deletion that may not be sent: keep going from the new text
            self.diverged = True
            self._window = target[:common]
        self._window += typed
        self._erasable += len(typed)
        self.window_text += typed

    def focus_lost(self) -> None:
        """The focus left the target window: what was typed so far can no longer be erased."""
        self._erasable = 0


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count
