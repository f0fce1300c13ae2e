"""Doubtful words in the caption view: a dotted underline over exactly their characters, the text untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.gui.caption_view import DOUBTFUL_COLOR, DOUBTFUL_PROBABILITY, CaptionView
from dictate.text.profiles import profile_named
from dictate.text.stage import TextStage
from dictate.transcript.types import Word

# A hard test-other utterance (3 s): tiny.en gets every word wrong and is unsure of two of them.
HARD_UTTERANCE = "2414-128291-0008"


def words(*spans: tuple[str, float]) -> list[Word]:
    return [Word(start=0.4 * index, end=0.4 * index + 0.4, text=" " + text, probability=probability)
            for index, (text, probability) in enumerate(spans)]


def underlined(view: CaptionView) -> list[str]:
    """The text under each extra selection that draws an underline, in document order."""
    return [selection.cursor.selectedText() for selection in view.extraSelections()
            if selection.format.underlineStyle() != QTextCharFormat.UnderlineStyle.NoUnderline]


def underlined_spans(view: CaptionView) -> list[tuple[int, int]]:
    return [(selection.cursor.selectionStart(), selection.cursor.selectionEnd()) for selection in view.extraSelections()]


def document_is_plain(view: CaptionView) -> bool:
    """No character of the document itself carries an underline (typing would inherit it)."""
    cursor = QTextCursor(view.document())
    for position in range(1, view.document().characterCount()):
        cursor.setPosition(position)
        format_ = cursor.charFormat()
        if format_.underlineStyle() != QTextCharFormat.UnderlineStyle.NoUnderline:
            return False
    return True


def test_exactly_the_doubtful_words_characters_are_underlined(view):
    view.append_committed(words(("ask", 0.9), ("not", 0.2), ("what", 0.95)))
    assert view.committed_text() == "ask not what"
    assert underlined_spans(view) == [(4, 7)]  # "not", not its leading space, nor its neighbours
    selection = view.extraSelections()[0]
    assert selection.format.underlineStyle() == QTextCharFormat.UnderlineStyle.DotLine
    assert selection.format.underlineColor() == DOUBTFUL_COLOR
    assert [doubt.tool_tip for doubt in view.doubts] == ["Doubtful: 20 % sure"]
    assert document_is_plain(view)


def test_the_next_commit_does_not_extend_the_underline(view):
    view.append_committed(words(("ask", 0.9), ("not", 0.2)))
    view.append_committed([Word(0.8, 1.2, " what", 0.95)])
    assert view.committed_text() == "ask not what"
    assert underlined_spans(view) == [(4, 7)]


def test_tool_tip_over_a_doubtful_word_says_how_sure(view, qtbot):
    view.append_committed(words(("ask", 0.9), ("not", 0.38), ("what", 0.95)))
    cursor = QTextCursor(view.document())
    cursor.setPosition(5)  # between "n" and "o": over the word
    point = view.cursorRect(cursor).center()
    viewport = view.viewport()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, point, viewport.mapToGlobal(point)))
    qtbot.waitUntil(lambda: QToolTip.text() == "Doubtful: 38 % sure", timeout=2000)

    cursor.setPosition(1)  # over "ask"
    assert view.doubt_at(view.cursorRect(cursor).center()) is None


def test_a_stage_edit_that_changes_the_words_underlines_only_what_is_still_there(view):
    stage = TextStage(profile_named("dictation"))
    said = words(("I", 0.9), ("have", 0.9), ("twenty", 0.3), ("five", 0.2), ("apples.", 0.1))
    view.append_committed(said[:4], stage.add(said[:4]))  # the stage holds "twenty five" back
    view.append_committed(said[4:], stage.add(said[4:]))
    view.apply_edit(stage.end_utterance())
    assert view.committed_text() == "I have 25 apples."
    assert underlined(view) == ["apples."]
    assert document_is_plain(view)


def test_words_the_stage_held_back_are_underlined_when_they_show(view):
    stage = TextStage(profile_named("dictation"))
    said = words(("new", 0.3), ("idea", 0.9))
    view.append_committed(said[:1], stage.add(said[:1]))  # "new" could start "new line": held
    assert view.committed_text() == ""
    view.append_committed(said[1:], stage.add(said[1:]))
    assert view.committed_text() == "New idea"
    assert underlined(view) == ["New"]


def test_recovery_underlines_the_recovered_words_the_text_still_has(view):
    engine_words = words(("the", 0.2), ("cat", 0.9), ("sat", 0.4), ("on", 0.9), ("the", 0.9), ("mat", 0.1))
    view.load(engine_words, "Cat sat on the rug\n")  # the user deleted the first "the" and retyped "mat"
    assert view.committed_text() == "Cat sat on the rug"
    assert underlined(view) == ["sat"]  # the second "the" was sure: the deleted one's doubt does not move to it
    assert view.committed_words == tuple(engine_words)


def test_text_typed_right_after_a_doubtful_word_is_plain(view):
    view.append_committed(words(("ask", 0.9), ("not", 0.2)))
    view.setFocus()
    cursor = view.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    view.setTextCursor(cursor)
    QTest.keyClicks(view, "ed")
    view.append_committed([Word(0.8, 1.2, " what", 0.95)])
    assert view.committed_text() == "ask noted what"
    assert underlined_spans(view) == [(4, 7)]
    assert document_is_plain(view)


def test_editing_a_doubtful_word_removes_its_underline(view):
    view.append_committed(words(("ask", 0.9), ("knot", 0.2), ("what", 0.95)))
    view.setFocus()
    cursor = view.textCursor()
    cursor.setPosition(5)
    cursor.setPosition(6, QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)
    QTest.keyClicks(view, "\b")  # the user deletes the "n"
    assert view.committed_text() == "ask kot what"
    assert underlined(view) == []


def test_clear_all_removes_the_underlines(view):
    view.append_committed(words(("ask", 0.2)))
    view.clear_all()
    assert view.extraSelections() == [] and view.doubts == ()


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir)


def test_real_speech_underlines_exactly_the_words_below_the_threshold(view, recognizer, audio_dir):
    path = audio_dir / "librispeech" / "wav" / f"{HARD_UTTERANCE}.wav"
    segments, _ = transcribe(path, recognizer, TranscribeOptions(word_timestamps=True))
    said: list[Word] = []
    for segment in segments:
        view.append_committed(segment.words)
        said.extend(segment.words)

    text = view.committed_text()
    assert text == "".join(word.text for word in said).strip()
    expected, at = [], 0
    for word in said:  # each word's characters, found in order in the plain text
        start = text.index(word.text.strip(), at)
        at = start + len(word.text.strip())
        if word.probability < DOUBTFUL_PROBABILITY:
            expected.append((start, at))
    assert underlined_spans(view) == expected
    assert expected, [(word.text, round(word.probability, 2)) for word in said]
