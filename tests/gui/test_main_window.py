"""The real main window with the real model, dictating jfk.wav through the capture path."""

from __future__ import annotations

import json
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from dictate.gui.main_window import RecorderState
from dictate.gui.settings import load_settings, open_settings
from dictate.modelstore.store import list_models
from dictate.transcript.exporters import FORMATS
from dictate.transcript.journal import Journal, read_journal, sessions_to_recover
from dictate.transcript.types import Word
from tests.gui.conftest import dictate_to_end

PHRASE = "ask not what your country can do for you"


def words_of(text: str) -> str:
    """Lower-case words only: digits (cue numbers, times), punctuation and markup dropped."""
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def test_jfk_captions_edits_and_every_export_format(jfk_window, qtbot, tmp_path, engine_timeout_ms):
    window = jfk_window
    tentative_seen = []
    window.captions.updated.connect(lambda: tentative_seen.append(window.captions.tentative_text().strip()))
    qtbot.waitUntil(window.record_button.isEnabled)
    with qtbot.waitSignal(window.recording_started, timeout=engine_timeout_ms):
        window.toggle_recording()
    assert window.state is RecorderState.RECORDING
    assert "CPU" in window.model_label.text() or "CUDA" in window.model_label.text()

    # the user types while words keep arriving; the edit must survive the appends
    qtbot.waitUntil(lambda: len(window.captions.committed_words) >= 2, timeout=engine_timeout_ms)
    cursor = window.captions.textCursor()
    cursor.setPosition(0)
    cursor.insertText("Inaugural: ")
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        pass

    text = window.captions.committed_text()
    assert text.startswith("Inaugural: ")
    assert PHRASE in words_of(text)
    assert window.captions.tentative_text() == ""
    assert any(tentative_seen), "no grey tentative tail was ever shown"
    assert window.state is RecorderState.IDLE and window.record_button.text() == "Record"

    for fmt in FORMATS:
        path = tmp_path / f"jfk.{fmt}"
        window.export_to(path)
        content = path.read_text(encoding="utf-8")
        if fmt == "json":
            document = json.loads(content)
            assert PHRASE in words_of(document["text"]) and "inaugural" in words_of(document["text"])
            words = [word for segment in document["segments"] for word in segment["words"]]
            assert PHRASE in words_of(" ".join(word["word"] for word in words))
            starts = [word["start"] for word in words]
            assert starts == sorted(starts) and 8.0 < words[-1]["end"] < 12.0
        else:
            assert PHRASE in words_of(content), fmt
            assert "inaugural" in words_of(content), fmt

    window.copy_all()
    assert QGuiApplication.clipboard().text() == window.captions.toPlainText()


def test_second_recording_continues_the_transcript_and_the_journal(jfk_window, journal_dir, qtbot, engine_timeout_ms):
    window = jfk_window
    dictate_to_end(window, qtbot, engine_timeout_ms)
    first = window.captions.committed_words
    dictate_to_end(window, qtbot, engine_timeout_ms)
    words = window.captions.committed_words
    assert words[: len(first)] == first
    assert words[len(first)].start > first[-1].end  # the second recording's times follow the first
    assert words_of(window.captions.committed_text()).count(PHRASE) == 2

    (journal,) = journal_dir.glob("*.jsonl")
    assert read_journal(journal).words == words and not read_journal(journal).clean_end
    window.new_session()
    assert window.captions.toPlainText() == ""
    assert read_journal(journal).clean_end


def test_closing_while_recording_stops_cleanly_and_keeps_the_transcript(jfk_window, journal_dir, qtbot, engine_timeout_ms):
    window = jfk_window
    qtbot.waitUntil(window.record_button.isEnabled)
    with qtbot.waitSignal(window.recording_started, timeout=engine_timeout_ms):
        window.start_recording()
    qtbot.waitUntil(lambda: len(window.captions.committed_words) >= 1, timeout=engine_timeout_ms)
    window.toggle_pause()
    assert window.state is RecorderState.PAUSED and window.pause_button.text() == "Resume"
    window.toggle_pause()
    assert window.state is RecorderState.RECORDING and window.pause_button.text() == "Pause"
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        window.close()
    qtbot.waitUntil(lambda: not window.isVisible())
    kept = window.captions.committed_words
    assert kept and window.captions.tentative_text() == ""
    (journal,) = journal_dir.glob("*.jsonl")
    session = read_journal(journal)
    assert session.words == kept and session.clean_end


def test_crashed_session_is_offered_and_restored_with_its_edits(make_window, journal_dir, tiny_model_dir, qtbot, engine_timeout_ms):
    spoken = (Word(0.0, 0.5, " ask"), Word(0.5, 0.8, " not"), Word(0.8, 1.2, " what"))
    crashed = Journal.open(journal_dir / "session-crashed.jsonl")
    crashed.append_words(spoken[:2])
    crashed.append_marker("edited", text="Quote: ask not")
    crashed.append_words(spoken[2:])  # no close(): the process "died" here

    window = make_window()
    qtbot.waitUntil(lambda: window.restore_box is not None and window.restore_box.isVisible())
    window.restore_box.button(window.restore_box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: window.restore_box is None)
    assert window.captions.committed_text() == "Quote: ask not what"
    assert window.captions.committed_words == spoken
    window.close()
    assert sessions_to_recover(journal_dir) == []


def test_settings_are_restored_on_the_next_launch(make_window, tiny_model_dir, tmp_path, qtbot, engine_timeout_ms):
    window = make_window()
    window.options.select(language="de", task="translate")
    window.resize(800, 520)  # the offscreen screen is 800 px wide
    window.export_to(tmp_path / "empty.txt")
    window.close()

    restored = load_settings(open_settings())
    assert (restored.model, restored.language, restored.task) == ("tiny.en", "de", "translate")
    assert restored.export_dir == str(tmp_path)
    again = make_window()
    assert (again.options.language(), again.options.task()) == ("de", "translate")
    assert restored.geometry and again.height() == 520  # (offscreen Qt trims the width by its frame margins)
    assert not again.options.language_box.isEnabled()  # tiny.en is English-only
    assert "English only" in again.options.language_box.toolTip()


def test_closing_during_first_run_preparation_cancels_it_and_the_next_launch_prepares_again(
        make_window, tmp_path, monkeypatch, qtbot, engine_timeout_ms):
    cache = tmp_path / "empty-cache"
    monkeypatch.setenv("DICTATE_CACHE_DIR", str(cache))
    window = make_window()
    dialog = window.prepare_dialog
    assert dialog is not None and dialog.isVisible()
    assert not window.record_button.isEnabled()
    window.refresh_models()  # the model list is read again while it prepares: no second preparation
    assert window.prepare_dialog is dialog
    qtbot.waitUntil(lambda: "encoder" in dialog.labelText(), timeout=engine_timeout_ms)  # converting now
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=engine_timeout_ms)
    assert not window.busy()
    models = cache / "models"
    assert not (models / "tiny.en").exists()  # nothing half-written that a later launch could load
    assert not [p.name for p in models.iterdir() if p.name.startswith(".")]  # no staging folder left
    assert not {m.entry.name: m.prepared_variants for m in list_models()}["tiny.en"]

    again = make_window()  # the next launch prepares it again, behind the progress dialog
    assert again.prepare_dialog is not None and again.prepare_dialog.isVisible()
    with qtbot.waitSignal(again.model_ready, timeout=engine_timeout_ms) as ready:
        pass
    assert ready.args == ["tiny.en"]
    qtbot.waitUntil(lambda: not again.prepare_dialog.isVisible())
    assert again.record_button.isEnabled()
    assert {m.entry.name: m.prepared_variants for m in list_models()}["tiny.en"]


def test_closing_while_the_model_loads_ends_cleanly(jfk_window, journal_dir, qtbot, engine_timeout_ms):
    window = jfk_window
    qtbot.waitUntil(window.record_button.isEnabled)
    started = []
    window.recording_started.connect(lambda: started.append(True))
    window.start_recording()
    assert window.state is RecorderState.STARTING  # the engine thread is loading the model now
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        window.close()
        assert window.isVisible()  # the window waits for the engine thread instead of deleting it under it
    qtbot.waitUntil(lambda: not window.isVisible() and not window.busy(), timeout=engine_timeout_ms)
    assert window.state is RecorderState.IDLE and not started
    (journal,) = journal_dir.glob("*.jsonl")
    assert read_journal(journal).clean_end
