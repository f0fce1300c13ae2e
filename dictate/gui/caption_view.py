"""The live caption view: committed words in normal ink, the tentative tail in grey, user edits kept."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit, QWidget

from dictate.text.stage import TextEdit
from dictate.transcript.types import Word

PARAGRAPH_GAP_SECONDS = 2.5  # a pause this long between committed words starts a new paragraph
FOLLOW_SLACK_PX = 4  # "at the bottom" tolerance of the scroll bar when deciding to follow new words
TENTATIVE_COLOR = QColor("#8a94a6")
PARAGRAPH_SEPARATOR = "\u2029"  # how QTextDocument reports a block break in selectedText()


class CaptionView(QTextEdit):
    user_edited = Signal()  # the user changed the text (engine updates do not count)
    updated = Signal()  # engine words went in (committed or tentative)

    """An editable transcript that the engine appends to.

    The tentative tail always sits at the end of the document, from `_tail` (a
    QTextCursor, which Qt keeps in place while the user edits earlier text) to the
    end. Engine updates go through their own cursor with undo recording off, so the
    user's caret, selection and undo history are left alone.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptRichText(False)
        self.setPlaceholderText("Press Record (Ctrl+R) and start speaking. Your words appear here.")
        self._words: list[Word] = []
        self._paragraph_due = False  # a long pause: the next committed text starts a paragraph
        self._tail = QTextCursor(self.document())
        self._tentative_format = QTextCharFormat()
        self._tentative_format.setForeground(TENTATIVE_COLOR)
        self._committed_format = QTextCharFormat()
        self._engine_editing = False  # True while the engine's text goes in: not a user edit
        self.document().contentsChange.connect(self._on_contents_change)
        self._follow = True  # keep the newest words in view; off while the user has scrolled back
        scroll = self.verticalScrollBar()
        scroll.valueChanged.connect(self._on_scrolled)
        scroll.rangeChanged.connect(self._on_range_changed)

    @property
    def committed_words(self) -> tuple[Word, ...]:
        """Every committed word as the engine delivered it (before user edits)."""
        return tuple(self._words)

    def committed_text(self) -> str:
        """The document text before the tentative tail, user edits included; paragraphs end with newlines."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._tail.position(), QTextCursor.MoveMode.KeepAnchor)
        return cursor.selectedText().replace(PARAGRAPH_SEPARATOR, "\n")

    def tentative_text(self) -> str:
        """The grey tail as shown."""
        return self._tail_cursor().selectedText()

    def append_committed(self, words: Sequence[Word], edit: TextEdit | None = None) -> None:
        """Final words; `edit` is what the text stage made of them (default: their text, appended).

        The tentative tail is cleared (a new one follows)."""
        if not words:
            return
        if self._words and words[0].start - self._words[-1].end >= PARAGRAPH_GAP_SECONDS:
            self._paragraph_due = True
        self._words.extend(words)
        self.apply_edit(edit if edit is not None else TextEdit(insert="".join(word.text for word in words)))

    def apply_edit(self, edit: TextEdit) -> None:
        """Apply a text-stage edit before the tentative tail, in normal ink."""
        with self._engine_edit():
            cursor = self._tail_cursor()
            cursor.removeSelectedText()
            if edit.delete:
                cursor.setPosition(max(cursor.position() - edit.delete, 0), QTextCursor.MoveMode.KeepAnchor)
                cursor.removeSelectedText()
            text = edit.insert
            if text and self._paragraph_due:
                if not text.lstrip(" ").startswith("\n"):
                    cursor.insertBlock()
                self._paragraph_due = False
            if cursor.atBlockStart():
                text = text.lstrip(" ")
            cursor.insertText(text, self._committed_format)
            self._tail.setPosition(cursor.position())
        self.updated.emit()

    def set_tentative(self, words: Sequence[Word]) -> None:
        """Replace the grey tail with `words` (possibly none)."""
        with self._engine_edit():
            cursor = self._tail_cursor()
            cursor.removeSelectedText()
            text = "".join(word.text for word in words)
            start = cursor.position()
            cursor.insertText(text.lstrip() if cursor.atBlockStart() else text, self._tentative_format)
            self._tail.setPosition(start)
        self.updated.emit()

    def settle(self) -> None:
        """Drop the tentative tail (recording stopped; whatever stayed tentative was not committed)."""
        self.set_tentative(())

    def load(self, words: Sequence[Word], text: str) -> None:
        """Show a restored session: the engine's `words` and the (edited) `text` they became."""
        self.clear_all()
        self._words = list(words)
        with self._engine_edit():
            self._tail.insertText(text.rstrip("\n"), self._committed_format)

    def clear_all(self) -> None:
        """Empty the view for a new session."""
        self._words = []
        self._paragraph_due = False
        with self._engine_edit():
            self.clear()
        self._tail = QTextCursor(self.document())

    def _tail_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self._tail)
        cursor.clearSelection()
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        return cursor

    @contextmanager
    def _engine_edit(self) -> Iterator[None]:
        """Engine text goes in without touching the undo history and without counting as a user edit."""
        document = self.document()
        self._engine_editing = True
        document.setUndoRedoEnabled(False)
        try:
            yield
        finally:
            document.setUndoRedoEnabled(True)
            self._engine_editing = False

    @Slot(int, int, int)
    def _on_contents_change(self, _position: int, removed: int, added: int) -> None:
        if not self._engine_editing and (removed or added):
            self.user_edited.emit()

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - FOLLOW_SLACK_PX

    @Slot(int, int)
    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        """The text grew (Qt lays it out later than the insert): scroll to it if following."""
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
