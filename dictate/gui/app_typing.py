"""Dictation into other applications, the window's side: typing, the overlay, "paste last dictation".

One `AppTyping` per window. For each dictation the window calls `begin()` (the focused
window becomes the target), hands over every text-stage edit with `typed(edit)`, the
tentative tail and the engine status for the overlay, and calls `end()`. Typing itself
(what keys, which tool, the focus guard) is `dictate.typing`; this class shows what
happens: the overlay says when typing is paused, a failure falls back to the clipboard
and is told, and the text of the last dictation can be pasted again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication

from dictate.gui.overlay import DictationOverlay
from dictate.hotkey import Hotkey
from dictate.text.stage import TextEdit
from dictate.typing import (
    Clipboard,
    Focus,
    FocusGuard,
    InsertError,
    TypingReport,
    TypingSession,
    choose_inserter,
    focus_tracker,
)

WAYLAND_PLATFORMS = ("wayland", "wayland-egl")  # Qt platform names
DELIVERY_RETRY_MS = 200  # while text waits (the focus is elsewhere), how often the focus is looked at again
HELD_KEYS_WAIT_S = 10.0  # after a dictation, how long its last words wait for held modifier keys to be let go
HELD_KEYS_NOTICE = ("Typing waits until the hotkey, Ctrl, Alt, Shift and Super are released (they would turn words"
                    " into shortcuts).")
PAUSED_NOTICE = "Typing paused: the focus moved to another window. Your words are kept in the transcript."


def qt_clipboard() -> Clipboard:
    """The system clipboard through Qt."""
    clipboard = QGuiApplication.clipboard()
    return Clipboard(get=clipboard.text, set=clipboard.setText)


def overlay_keeps_the_focus_away() -> bool:
    """Whether the overlay can be shown without taking the keyboard focus from the target.

    Not on Wayland: compositors map it as a window of its own and give it the focus (Qt's
    WindowDoesNotAcceptFocus is an X11 hint), so the words would be typed into it. The tray shows the state."""
    return QGuiApplication.platformName() not in WAYLAND_PLATFORMS


def wait_serving_events(seconds: float) -> None:
    """Wait with Qt's event loop running: on X11 the app hands its clipboard to a paste target only then."""
    loop = QEventLoop()
    QTimer.singleShot(max(1, int(seconds * 1000)), loop.quit)
    loop.exec()


class AppTyping(QObject):
    """Types each dictation's committed text into the window that had the focus when it started."""

    typing_paused = Signal(bool)  # typing waits for the focus to come back (True) / goes on (False)
    typing_failed = Signal(str)  # an insertion failed; the rest goes to the clipboard (the message says why)

    def __init__(self, method: str = "auto", parent: QObject | None = None) -> None:
        """`method`: "auto", "type", "paste" or "off" (the window's setting)."""
        super().__init__(parent)
        self.method = method
        self.overlay: DictationOverlay | None = None  # made on first use
        self.last_text = ""  # the text of the last dictation typed into another window
        self.notice = ""  # what the overlay says about typing (paused, failed), "" when all is well
        self._session: TypingSession | None = None
        self._last_session: TypingSession | None = None  # the dictation before (the next one may continue its text)
        self._paused = False
        self._delivering = False  # inside a session call (paste mode runs Qt's event loop while it waits)
        self._end_requested = False  # the dictation ended during a session call: end once it returns
        self._closing = False  # end() is typing a dictation's last words and closing its inserter
        self._finishing: list[tuple[TypingSession, float]] = []  # ended dictations waiting for held keys, deadline
        self._finish_timer = QTimer(self, interval=DELIVERY_RETRY_MS)
        self._finish_timer.timeout.connect(self._finish_waiting)
        self._retry = QTimer(self, interval=DELIVERY_RETRY_MS)
        self._retry.timeout.connect(self._deliver)

    @property
    def active(self) -> bool:
        """A dictation is being typed into another window."""
        return self._session is not None

    @property
    def busy(self) -> bool:
        """Words are still on their way into another window (a delivery under way, or text that waits)."""
        return self._delivering or self._closing or bool(self._finishing) or self._retry.isActive()

    def begin(self, hotkey: Hotkey | None = None) -> Focus | None:
        """A dictation starts: the focused window becomes its target (None: typing is off or impossible).
        `hotkey`: the global hotkey, which the user may hold while words wait to be typed.

        Dictation started in dictate's own window is not typed anywhere."""
        self.end()
        if self.method == "off":
            return None
        clipboard = qt_clipboard()
        tracker = focus_tracker()
        try:
            inserter = choose_inserter(self.method, clipboard=clipboard, focus=tracker, sleep=wait_serving_events,
                                       hotkey=hotkey)
        except InsertError as error:
            tracker.close()
            self._fail(str(error))
            return None
        session = TypingSession(inserter, FocusGuard(tracker), fallback=clipboard)
        focus = session.start(previous=self._last_session)
        if focus is Focus.OWN_WINDOW or self._own_window_active():
            inserter.close()
            tracker.close()
            return Focus.OWN_WINDOW
        self._session, self._paused, self.notice = session, False, ""
        if overlay_keeps_the_focus_away():
            self._show_overlay("Listening")
        return focus

    def typed(self, edit: TextEdit) -> None:
        """A text-stage edit of the dictation (what the window shows): typed now or once the focus is back."""
        if self._session is None or not edit:
            return
        if self._delivering or self._own_window_active():
            self._session.ledger.apply(edit)  # typed by the delivery under way, or once the focus is back
            self._retry.start()
            return
        self._run(lambda session: session.apply(edit))

    def show_tentative(self, text: str) -> None:
        if self.overlay is not None and self.active:
            self.overlay.set_tentative(text)

    def show_status(self, level_db: float, lag_s: float) -> None:
        if self.overlay is not None and self.active:
            self.overlay.show_state("Listening", level_db=level_db, lag_s=lag_s)

    def end(self) -> str:
        """The dictation ended: type what is left if the focus allows, hide the overlay; the dictation's text."""
        if self._delivering:  # called from inside a paste's wait: the delivery under way ends it
            self._end_requested = True
            return self._session.text if self._session is not None else ""
        session, self._session = self._session, None
        self._retry.stop()
        if session is None:
            return ""
        self._closing = True  # paste mode serves Qt's events while it pastes and gives the clipboard back
        try:
            report = session.deliver()
            if report.pending and report.error is not None and report.error.retry:
                # the user holds modifier keys as the dictation ends; the words wait for them
                self._finishing.append((session, time.monotonic() + HELD_KEYS_WAIT_S))
                self._finish_timer.start()
            else:
                report = session.finish()
        finally:
            self._closing = False
        self.last_text = session.text.lstrip(" ")
        self._last_session = session
        if report.pending:
            self.notice = "The focus was elsewhere when dictation ended: the rest is in the transcript."
        if self.overlay is not None:
            self.overlay.hide()
        if self._paused:
            self._paused = False
            self.typing_paused.emit(False)
        return session.text

    def paste_last(self) -> bool:
        """Paste the last dictation's text into the focused window (else put it on the clipboard); False if none."""
        if not self.last_text:
            return False
        clipboard = qt_clipboard()
        if self._own_window_active():  # never into dictate's own windows: the clipboard only
            clipboard.set(self.last_text)
            return True
        try:
            inserter = choose_inserter("paste", clipboard=clipboard, sleep=wait_serving_events)
            try:
                inserter.type_text(self.last_text)
            finally:
                inserter.close()
        except InsertError as error:
            clipboard.set(self.last_text)
            self._fail(f"{error}. The last dictation is on the clipboard.")
        return True

    def _own_window_active(self) -> bool:
        """One of dictate's own windows has the focus (Qt knows, where the focus tracker may not)."""
        return QGuiApplication.focusWindow() is not None and QGuiApplication.focusWindow() is not self._overlay_window()

    def _overlay_window(self) -> object:
        return self.overlay.windowHandle() if self.overlay is not None else None

    @Slot()
    def _deliver(self) -> None:
        if self._session is not None and not self._delivering and not self._own_window_active():
            self._run(lambda session: session.deliver())

    @Slot()
    def _finish_waiting(self) -> None:
        """Deliver the ended dictations' last words once the held keys are released (or give up at the deadline)."""
        waiting, self._finishing = self._finishing, []
        for session, deadline in waiting:
            report = session.deliver()
            if report.pending and report.error is not None and report.error.retry and time.monotonic() < deadline:
                self._finishing.append((session, deadline))
                continue
            report = session.finish()
            if report.pending:
                self._fail("The keys stayed held down: the last words are in the transcript, not typed.")
        if not self._finishing:
            self._finish_timer.stop()

    def _run(self, call: Callable[[TypingSession], TypingReport]) -> None:
        """One session call at a time: what arrives while it runs waits in the ledger, an end waits for it."""
        assert self._session is not None
        self._delivering = True
        try:
            report = call(self._session)
        finally:
            self._delivering = False
        self._handle(report)
        if self._end_requested:
            self._end_requested = False
            self.end()

    def _handle(self, report: TypingReport) -> None:
        held_keys = report.error is not None and report.error.retry  # passing: a hold-to-talk key is down
        if report.error is not None and not held_keys:
            self._fail(str(report.error) + (" Dictation goes on into the clipboard." if report.fell_back else ""))
        paused = report.paused and report.pending
        if paused != self._paused:
            self._paused = paused
            self.notice = PAUSED_NOTICE if paused else ""
            self._set_notice(self.notice)
            self.typing_paused.emit(paused)
        elif held_keys and report.pending and not paused:
            self._set_notice(HELD_KEYS_NOTICE)
        if report.pending:
            self._retry.start()
        else:
            self._retry.stop()

    def _fail(self, message: str) -> None:
        self.notice = message
        self._set_notice(message)
        self.typing_failed.emit(message)

    def _show_overlay(self, state: str) -> None:
        if self.overlay is None:
            self.overlay = DictationOverlay()
        self.overlay.clear_notice()
        self.overlay.set_tentative("")
        self.overlay.show_state(state, level_db=None, lag_s=None)
        self.overlay.show()

    def _set_notice(self, text: str) -> None:
        if self.overlay is None:
            return
        if text:
            self.overlay.show_notice(text)
        else:
            self.overlay.clear_notice()
