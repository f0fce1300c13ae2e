"""The window's text stage: the profile picker, the vocabulary editor and "what was said"."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from dictate.audio.capture import FileSource
from dictate.gui.settings import load_settings, open_settings
from dictate.streaming.guards import word_key
from dictate.text.vocabulary import load_vocabulary
from tests.scripted_speech import build_joined, spoken_piece


def keys(text: str) -> str:
    """Word keys (lower case, no punctuation) joined by single spaces."""
    return " ".join(key for key in (word_key(token) for token in text.split()) if key)


def _save(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()


def test_vocabulary_editor_saves_valid_text_and_names_a_bad_line(make_window, tmp_path: Path, qtbot) -> None:
    window = make_window()
    dialog = window.edit_vocabulary()
    dialog.editor.setPlainText("Kubernetes\n -> nothing on the left\n")
    _save(dialog)
    assert dialog.isVisible() and "line 2" in dialog.error_label.text()
    path = tmp_path / "config" / "vocabulary.txt"
    assert not path.exists()  # nothing half-valid is written
    dialog.editor.setPlainText("Kubernetes\nkubernetties -> Kubernetes")
    _save(dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    vocabulary = load_vocabulary(path)
    assert vocabulary.terms == ("Kubernetes",) and vocabulary.replacements[0].written == "Kubernetes"
    reopened = window.edit_vocabulary()
    assert reopened.editor.toPlainText() == "Kubernetes\nkubernetties -> Kubernetes\n"
    reopened.reject()


def test_profile_choice_is_offered_with_user_profiles_and_remembered(make_window, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "profiles.json").write_text('{"notes": {"numbers": true}}', encoding="utf-8")
    window = make_window()
    names = [window.options.profile_box.itemData(i) for i in range(window.options.profile_box.count())]
    assert names == ["plain", "dictation", "chat", "notes"]
    assert window.options.profile() == "plain"  # the default changes nothing
    window.options.profile_box.setCurrentIndex(names.index("chat"))
    window.close()
    assert load_settings(open_settings()).profile == "chat"
    again = make_window()
    assert again.options.profile() == "chat"


def test_a_bad_profiles_file_is_shown_and_the_built_in_profiles_remain(make_window, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "profiles.json").write_text("{not json", encoding="utf-8")
    window = make_window()
    assert "profiles.json" in window.banner.text() and window.banner.isVisibleTo(window)
    assert window.options.profile_box.count() == 3


def test_what_was_said_shows_the_words_before_the_profile(jfk_window, qtbot, engine_timeout_ms) -> None:
    window = jfk_window
    window.options.profile_box.setCurrentIndex(window.options.profile_box.findData("chat"))
    qtbot.waitUntil(window.record_button.isEnabled)
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        qtbot.mouseClick(window.record_button, Qt.MouseButton.LeftButton)
    shown = window.captions.committed_text()
    said = window.show_what_was_said()
    heard = said.text_view.toPlainText()
    said.reject()
    assert heard.startswith("And so") and heard.endswith(".")  # Whisper's own capital and period
    assert shown.startswith("and so") and not shown.endswith(".")  # chat style: neither
    assert shown.split()[1:-1] == heard.split()[1:-1]


def test_new_paragraph_said_while_dictating_breaks_the_window_text_and_every_export(
        make_window, audio_dir: Path, tiny_model_dir: Path, tmp_path: Path, qtbot, engine_timeout_ms) -> None:
    pieces = [spoken_piece(name, audio_dir, tmp_path) for name in ("1688-142285-0002", "new paragraph",
                                                                    "1688-142285-0003")]
    joined = build_joined(tmp_path, "paragraph", pieces)
    window = make_window(FileSource(joined.wav, realtime=False))
    window.options.profile_box.setCurrentIndex(window.options.profile_box.findData("dictation"))
    qtbot.waitUntil(window.record_button.isEnabled, timeout=engine_timeout_ms)
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        qtbot.mouseClick(window.record_button, Qt.MouseButton.LeftButton)
    said = window.show_what_was_said()
    heard = keys(said.text_view.toPlainText())
    said.reject()
    assert "new paragraph" in heard, heard  # else tiny.en misheard the synthesised command
    shown = window.captions.committed_text()
    paragraphs = shown.split("\n\n")
    assert len(paragraphs) == 2 and all(keys(paragraph) for paragraph in paragraphs), shown
    assert "new paragraph" not in keys(shown)
    exports = {}
    for fmt in ("txt", "md", "srt", "json"):
        window.export_to(tmp_path / f"out.{fmt}", fmt)
        exports[fmt] = (tmp_path / f"out.{fmt}").read_text(encoding="utf-8")
    assert exports["txt"].rstrip("\n").split("\n\n") == [paragraph.strip() for paragraph in paragraphs]
    assert json.loads(exports["json"])["text"].count("\n\n") == 1
    assert sum(line.startswith("**[") for line in exports["md"].splitlines()) == 2
    cues = [block.split("\n", 2)[2] for block in exports["srt"].strip().split("\n\n")]
    first = keys(paragraphs[0])
    assert any(keys(" ".join(cues[:count])) == first for count in range(1, len(cues))), cues  # a cue ends there
