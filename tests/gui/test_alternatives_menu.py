"""Choosing an alternative in the window: jfk.wav dictated, alternatives asked for its words (the real model over
the session's audio) until one has some, and the first chosen. It replaces the word as the user's edit: the
window shows it, the journal keeps it, the exports have it."""

from __future__ import annotations

from dictate.transcript.journal import read_journal
from tests.gui.conftest import dictate_to_end


def test_a_chosen_alternative_replaces_the_word_in_the_window_the_journal_and_the_exports(
        jfk_window, journal_dir, qtbot, engine_timeout_ms, tmp_path):
    window = jfk_window
    dictate_to_end(window, qtbot, engine_timeout_ms)
    view = window.captions
    offers = ((span, window.alternatives_for([span])) for span in view.spans)
    span, alternatives = next(((span, found) for span, found in offers if found), (None, []))
    assert span is not None, f"no word of {view.committed_text()!r} had an alternative"
    chosen, before = alternatives[0], view.committed_text()
    start = span.cursor.selectionStart()
    view.replace_words([span], chosen)  # what choosing it in the Alternatives menu does
    text = view.committed_text()
    assert text == before[:start] + chosen + before[start + len(span.text) :]

    (journal,) = journal_dir.glob("*.jsonl")
    qtbot.waitUntil(lambda: read_journal(journal).shown_text.strip() == text.strip(), timeout=5000)
    window.export_to(tmp_path / "talk.txt")
    window.export_to(tmp_path / "talk.srt")
    assert (tmp_path / "talk.txt").read_text(encoding="utf-8").split() == text.split()
    assert chosen in (tmp_path / "talk.srt").read_text(encoding="utf-8")
