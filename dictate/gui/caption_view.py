"""The live caption view: committed words in normal ink, the tentative tail in grey, user edits kept.

Doubtful committed words get a dotted underline. It is drawn as an extra selection, not as a
character format of the document, so the text, its formats and the user's typing are untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import SequenceMatcher

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QContextMenuEvent, QHelpEvent, QMouseEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication, QMenu, QTextEdit, QToolTip, QWidget

from dictate.streaming.guards import word_key
from dictate.text.stage import TextEdit
from dictate.transcript.types import Word

PARAGRAPH_GAP_SECONDS = 2.5  # a pause this long between committed words starts a new paragraph
FOLLOW_SLACK_PX = 4  # "at the bottom" tolerance of the scroll bar when deciding to follow new words
TENTATIVE_COLOR = QColor("#8a94a6")
PARAGRAPH_SEPARATOR = "\u2029"  # how QTextDocument reports a block break in selectedText()
# Below this decoder word probability a committed word is underlined. Measured with tiny.en on 61
# LibriSpeech files, offline and streaming alike: it marks 3-4 % of the words of clean speech and
# 14-16 % of hard speech (test-other); 56-58 % of the marked words are wrong (15-22 % of all words
# are) and 36-44 % of the wrong words are marked. At 0.6 under half the marks are mistakes; at 0.3
# only a fifth of the mistakes are marked.
DOUBTFUL_PROBABILITY = 0.5
DOUBTFUL_COLOR = QColor("#b0894f")  # a muted amber: noticeable, not alarming
HELD_WORDS_KEPT = 16  # words not yet in the text, kept for later edits: the text stage holds some back (numbers)
TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class WordSpan:
    """A committed word as shown: `cursor` selects its characters, which Qt keeps in place as text changes."""

    cursor: QTextCursor
    text: str  # the characters shown; the span goes when they change (the user corrected the word)
    word: Word  # as the engine committed it: its times in the session's audio, its probability

    @property
    def doubtful(self) -> bool:
        return self.word.probability < DOUBTFUL_PROBABILITY

    @property
    def tool_tip(self) -> str:
        """What hovering over a doubtful word shows."""
        return f"Doubtful: {round(self.word.probability * 100)} % sure"

    def selection(self) -> QTextEdit.ExtraSelection:
        """How the view draws it: a dotted underline in a muted colour."""
        format_ = QTextCharFormat()
        format_.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        format_.setUnderlineColor(DOUBTFUL_COLOR)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = self.cursor
        selection.format = format_
        return selection


def place_words(words: Sequence[Word], text: str) -> tuple[list[tuple[int, int, Word]], int]:
    """(start, end, word) for each of `words` found in `text`, and how many words lead up to the last one found.

    The words and the text's whitespace-separated tokens are matched in order, compared as
    lower case without punctuation; a word the text does not have (changed, removed) is not found.
    """
    tokens = list(TOKEN.finditer(text))
    matcher = SequenceMatcher(None, [word_key(word.text) for word in words],
                              [word_key(token.group()) for token in tokens], autojunk=False)
    blocks = [block for block in matcher.get_matching_blocks() if block.size]
    placed = [(token.start(), token.end(), word) for block in blocks
              for word, token in zip(words[block.a : block.a + block.size], tokens[block.b : block.b + block.size])]
    return placed, blocks[-1].a + blocks[-1].size if blocks else 0


class CaptionView(QTextEdit):
    user_edited = Signal()  # the user changed the text (engine updates do not count)
    updated = Signal()  # engine words went in (committed or tentative)
    hear_requested = Signal(float, float)  # play the session's audio from, to (seconds): Ctrl+click, the menu

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
        self._spans: list[WordSpan] = []  # the committed words found in the text, in document order
        # what else the recogniser heard for some committed words (the window sets it; None: no such menu)
        self.alternatives_for: Callable[[list[WordSpan]], list[str]] | None = None
        self.show_where_heard: Callable[[WordSpan], None] | None = None  # the decoder's attention for a word
        self._held: list[Word] = []  # committed words not shown yet (the text stage held them back)
        self.document().contentsChange.connect(self._on_contents_change)
        self._follow = True  # keep the newest words in view; off while the user has scrolled back
        scroll = self.verticalScrollBar()
        scroll.valueChanged.connect(self._on_scrolled)
        scroll.rangeChanged.connect(self._on_range_changed)

    @property
    def committed_words(self) -> tuple[Word, ...]:
        """Every committed word as the engine delivered it (before user edits)."""
        return tuple(self._words)

    @property
    def spans(self) -> tuple[WordSpan, ...]:
        """The committed words found in the text, in document order."""
        return tuple(self._spans)

    @property
    def doubts(self) -> tuple[WordSpan, ...]:
        """The underlined doubtful words, in document order."""
        return tuple(span for span in self._spans if span.doubtful)

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
        self._apply(edit if edit is not None else TextEdit(insert="".join(word.text for word in words)), words)

    def apply_edit(self, edit: TextEdit) -> None:
        """Apply a text-stage edit before the tentative tail, in normal ink."""
        self._apply(edit, ())

    def _apply(self, edit: TextEdit, words: Sequence[Word]) -> None:
        """Apply `edit`; underline the doubtful ones among `words` (what it inserts) where its text has them."""
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
            start = cursor.position()
            cursor.insertText(text, self._committed_format)
            self._tail.setPosition(cursor.position())
        self._place(words, text, start)
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
        text = text.rstrip("\n")
        with self._engine_edit():
            self._tail.insertText(text, self._committed_format)
        self._place(words, text, 0)

    def clear_all(self) -> None:
        """Empty the view for a new session."""
        self._words = []
        self._paragraph_due = False
        self._spans = []
        self._held = []
        with self._engine_edit():
            self.clear()
        self._tail = QTextCursor(self.document())
        self._show_doubts()

    def _place(self, words: Sequence[Word], text: str, at: int) -> None:
        """Find `words` (after any held back before) in `text`, put in at position `at`; underline the doubtful."""
        words = [*self._held, *words]
        placed, passed = place_words(words, text)
        self._held = words[passed:][-HELD_WORDS_KEPT:]
        doubtful = False
        for start, end, word in placed:
            cursor = QTextCursor(self.document())
            cursor.setPosition(at + start)
            cursor.setPosition(at + end, QTextCursor.MoveMode.KeepAnchor)
            cursor.setKeepPositionOnInsert(True)  # text typed or appended right after the word stays plain
            span = WordSpan(cursor, cursor.selectedText(), word)
            self._spans.append(span)
            doubtful = doubtful or span.doubtful
        if doubtful:
            self._show_doubts()

    def _show_doubts(self) -> None:
        self.setExtraSelections([doubt.selection() for doubt in self.doubts])

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
        if not (removed or added):
            return
        kept = [span for span in self._spans if span.cursor.selectedText() == span.text]
        if len(kept) < len(self._spans):  # a word was edited or deleted: it is no longer the one heard
            self._spans = kept
            self._show_doubts()
        if not self._engine_editing:
            self.user_edited.emit()

    def viewportEvent(self, event: QEvent) -> bool:
        """Tool tips over doubtful words say how sure the recogniser was."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            doubt = self.doubt_at(event.pos())
            if doubt is not None:
                QToolTip.showText(event.globalPos(), doubt.tool_tip, self.viewport())
                return True
        return super().viewportEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Ctrl+click on a committed word plays it; inside a selection, the selected words as a whole (the caret
        and the selection stay where they are)."""
        hearing = event.button() is Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if hearing and self.hear_at(event.position().toPoint()):
            event.accept()
            return
        super().mousePressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """The editing menu, with "Hear" and "Alternatives" for the word under the pointer or the selection."""
        menu = self.createStandardContextMenu(event.pos())
        spans = self._spans_to_hear(event.pos())
        if spans:
            menu.addSeparator()
            action = menu.addAction("Hear the selection" if len(spans) > 1 else f"Hear “{spans[0].text}”")
            action.triggered.connect(lambda: self._hear(spans))
            if self.alternatives_for is not None:
                other = menu.addAction("Alternatives…")
                other.triggered.connect(lambda: self._offer_alternatives(spans, event.globalPos()))
            if self.show_where_heard is not None and len(spans) == 1:
                where = menu.addAction("Where Whisper Heard It")
                where.triggered.connect(lambda: self.show_where_heard(spans[0]))
        menu.exec(event.globalPos())

    def _offer_alternatives(self, spans: list[WordSpan], at: QPoint) -> None:
        """A menu of what else the recogniser heard there; the chosen text replaces the words."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            texts = self.alternatives_for(spans)
        finally:
            QApplication.restoreOverrideCursor()
        menu = QMenu(self)
        for text in texts:
            menu.addAction(text).triggered.connect(lambda _=False, text=text: self.replace_words(spans, text))
        if not texts:
            menu.addAction("Nothing else was heard there").setEnabled(False)
        menu.exec(at)

    def replace_words(self, spans: list[WordSpan], text: str) -> None:
        """Put `text` in place of the words, as the user's edit (undoable, journaled, exported like one)."""
        self.replace_text(spans[0].cursor.selectionStart(), spans[-1].cursor.selectionEnd(), text)

    def replace_text(self, start: int, end: int, text: str) -> None:
        """Put `text` in place of the characters [start, end) of the committed text, as the user's edit."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)

    def hear_at(self, point: QPoint) -> bool:
        """Ask to hear the word at `point` (viewport coordinates), or the selection it is in; False if no word."""
        spans = self._spans_to_hear(point)
        if spans:
            self._hear(spans)
        return bool(spans)

    def _spans_to_hear(self, point: QPoint) -> list[WordSpan]:
        span = self.word_at(point)
        selected = self.words_in_selection()
        if selected and (span is None or span in selected):
            return selected
        return [span] if span is not None else []

    def _hear(self, spans: list[WordSpan]) -> None:
        self.hear_requested.emit(spans[0].word.start, spans[-1].word.end)

    def doubt_at(self, point: QPoint) -> WordSpan | None:
        """The doubtful word under `point` (viewport coordinates), if any."""
        span = self.word_at(point)
        return span if span is not None and span.doubtful else None

    def word_at(self, point: QPoint) -> WordSpan | None:
        """The committed word under `point` (viewport coordinates), if any."""
        scrolled = point + QPoint(self.horizontalScrollBar().value(), self.verticalScrollBar().value())
        position = self.document().documentLayout().hitTest(QPointF(scrolled), Qt.HitTestAccuracy.ExactHit)
        return next((span for span in self._spans
                     if span.cursor.selectionStart() <= position < span.cursor.selectionEnd()), None)

    def words_in_selection(self) -> list[WordSpan]:
        """The committed words the user's selection touches, in order."""
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return []
        start, end = cursor.selectionStart(), cursor.selectionEnd()
        return [span for span in self._spans
                if span.cursor.selectionStart() < end and span.cursor.selectionEnd() > start]

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - FOLLOW_SLACK_PX

    @Slot(int, int)
    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        """The text grew (Qt lays it out later than the insert): scroll to it if following."""
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
