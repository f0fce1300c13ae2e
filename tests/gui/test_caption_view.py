"""The caption view on its own: grey tentative tail, committed text appended, user edits kept."""

from __future__ import annotations

from PySide6.QtGui import QTextCursor

from dictate.gui.caption_view import PARAGRAPH_GAP_SECONDS, TENTATIVE_COLOR, CaptionView
from dictate.transcript.types import Word


def words(*spans: tuple[float, str]) -> list[Word]:
    return [Word(start=start, end=start + 0.4, text=" " + text) for start, text in spans]


def tail_color(view: CaptionView) -> str:
    cursor = QTextCursor(view.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    return cursor.charFormat().foreground().color().name()


def test_tentative_tail_is_grey_and_settles_into_committed_text(view):
    view.set_tentative(words((0.0, "ask"), (0.4, "not")))
    assert view.committed_text() == ""
    assert view.tentative_text() == "ask not"
    assert tail_color(view) == TENTATIVE_COLOR.name()

    view.append_committed(words((0.0, "ask")))
    view.set_tentative(words((0.4, "not"), (0.8, "what")))
    assert view.committed_text() == "ask"
    assert view.tentative_text() == " not what"
    assert view.toPlainText() == "ask not what"

    view.append_committed(words((0.4, "not"), (0.8, "what")))
    view.settle()
    assert view.toPlainText() == view.committed_text() == "ask not what"
    assert tail_color(view) != TENTATIVE_COLOR.name()


def test_user_edits_survive_appends_and_are_not_undone_by_ctrl_z(view, qtbot):
    with qtbot.assertNotEmitted(view.user_edited):
        view.append_committed(words((0.0, "ask"), (0.4, "not")))
        view.set_tentative(words((0.8, "what")))
    cursor = view.textCursor()
    cursor.setPosition(0)
    with qtbot.waitSignal(view.user_edited, timeout=1000):
        cursor.insertText("Quote: ")
    view.setTextCursor(cursor)

    with qtbot.assertNotEmitted(view.user_edited):
        view.append_committed(words((0.8, "what"), (1.2, "your")))
        view.set_tentative(words((1.6, "country")))
    assert view.committed_text() == "Quote: ask not what your"
    assert view.tentative_text() == " country"
    assert view.textCursor().position() == len("Quote: ")  # the caret stays where the user left it
    assert [w.text for w in view.committed_words] == [" ask", " not", " what", " your"]

    view.document().undo()  # engine text is not on the undo stack
    assert view.committed_text().endswith("ask not what your")


def test_long_pause_starts_a_new_paragraph(view):
    view.append_committed(words((0.0, "one")))
    view.append_committed(words((0.4 + PARAGRAPH_GAP_SECONDS, "two")))
    assert view.committed_text() == "one\ntwo"


def test_view_follows_new_words_unless_scrolled_back(view, qtbot):
    for index in range(200):
        view.append_committed(words((index * 0.5, f"word{index}")))
    scroll = view.verticalScrollBar()
    qtbot.waitUntil(lambda: scroll.maximum() > 0 and scroll.value() == scroll.maximum())

    scroll.setValue(0)
    before = scroll.maximum()
    for index in range(200, 300):
        view.append_committed(words((index * 0.5, f"word{index}")))
    qtbot.waitUntil(lambda: scroll.maximum() > before)
    assert scroll.value() == 0
