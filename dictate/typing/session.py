"""One dictation's typing: the ledger, the focus guard and an inserter put together for the caller.

    session = TypingSession(choose_inserter("auto", clipboard=clip), FocusGuard(focus_tracker()), fallback=clip)
    session.start()                        # remembers the focused window as the target
    report = session.apply(edit)           # each TextEdit of the text stage: typed now, or kept while paused
    report = session.deliver()             # on a timer while report.pending: resumes when the focus is back
    report = session.finish()              # the dictation ended: last delivery, the inserter is closed

Typing happens only while the focus is on the target window (or cannot be known,
on Wayland). When it leaves, the text waits; when it comes back, what was said in
between is typed, and nothing typed before is erased any more. A failed insertion
is reported; with a `fallback` clipboard, the rest of the dictation goes to the
clipboard from then on (the report's `fell_back` says so once).
"""

from __future__ import annotations

from dataclasses import dataclass

from dictate.text.stage import TextEdit
from dictate.typing.base import Clipboard, InsertError, TextInserter
from dictate.typing.focus import Focus, FocusGuard
from dictate.typing.ledger import TypingLedger
from dictate.typing.paste import ClipboardOnlyInserter


@dataclass(frozen=True)
class TypingReport:
    """Where typing stands after a call (for the overlay and the tray)."""

    focus: Focus  # where the focus was: TARGET / UNKNOWN typed; ELSEWHERE, NO_WINDOW, OWN_WINDOW paused
    pending: bool  # text is waiting to be typed (call deliver() again later)
    error: InsertError | None = None  # the insertion that failed in this call
    fell_back: bool = False  # this call switched to the clipboard (error says why)

    @property
    def paused(self) -> bool:
        return not self.focus.may_type


class TypingSession:
    """Types one dictation's text into its target window."""

    def __init__(self, inserter: TextInserter, guard: FocusGuard, fallback: Clipboard | None = None) -> None:
        self.inserter = inserter
        self.guard = guard
        self.ledger = TypingLedger()
        self._fallback = fallback
        self._on_target = False  # the focus was on the target at the last delivery

    @property
    def text(self) -> str:
        """The dictation's text (what should reach the window; 'paste last dictation' uses it)."""
        return self.ledger.text

    def start(self, previous: TypingSession | None = None) -> Focus:
        """Take the focused window as the target (see FocusGuard.start). `previous`: the last dictation; if it
        typed words into this same window, this one's first word gets a space before it."""
        focus = self.guard.start()
        self._on_target = focus.may_type
        if previous is not None and self.guard.target is not None and previous.guard.target == self.guard.target:
            typed = previous.ledger.window_text
            self.ledger.continues = bool(typed) and not typed[-1].isspace()
        return focus

    def apply(self, edit: TextEdit) -> TypingReport:
        self.ledger.apply(edit)
        return self.deliver()

    def deliver(self) -> TypingReport:
        """Type what is pending if the focus is on the target."""
        if isinstance(self.inserter, ClipboardOnlyInserter):
            focus = Focus.UNKNOWN  # the clipboard does not depend on the focus
        else:
            focus = self.guard.check()
            if not focus.may_type:
                if self._on_target:
                    self.ledger.focus_lost()
                self._on_target = False
                return TypingReport(focus, bool(self.ledger.pending()))
            self._on_target = True
        keys = self.ledger.pending()
        if not keys:
            return TypingReport(focus, False)
        try:
            self.inserter.backspace(keys.backspaces)
        except InsertError as error:
            return self._failed(focus, error)
        try:
            self.inserter.type_text(keys.text)
        except InsertError as error:
            self.ledger.sent(keys, error.delivered)
            return self._failed(focus, error)
        self.ledger.sent(keys)
        return TypingReport(focus, False)

    def finish(self) -> TypingReport:
        """The dictation ended: deliver what can be, then close the inserter and the guard's focus tracker
        (the session owns both: make new ones for the next dictation)."""
        try:
            return self.deliver()
        finally:
            try:
                self.inserter.close()
            finally:
                self.guard.tracker.close()

    def _failed(self, focus: Focus, error: InsertError) -> TypingReport:
        if error.retry or self._fallback is None:
            return TypingReport(focus, True, error)
        self.inserter.close()
        self.inserter = ClipboardOnlyInserter(self._fallback, str(error))
        self.ledger.focus_lost()  # the clipboard starts empty: nothing to erase there
        report = self.deliver()
        return TypingReport(report.focus, report.pending, error, fell_back=True)
