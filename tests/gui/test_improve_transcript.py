"""Improve Transcript through the window: a long-form file dictated from the file source (streaming), the first
word then edited by the user, then the session's audio transcribed again offline (beam 5) in the background.
The change to the user's word is offered unchecked (Accept All leaves it); once every change is accepted the
text is as accurate as offline Whisper on the file, with the same model and settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from bench.common import word_error_rate
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.audio.capture import FileSource
from tests.gui.conftest import dictate_to_end

LONGFORM = "librispeech_test-other_1688-142285_0000-0009"  # 72 s
IMPROVE_TIMEOUT_MS = 240_000
WER_SLACK = 0.6  # points: the session's audio is the file's, but the pass may cut its windows a little differently


def test_improving_reaches_offline_accuracy_and_asks_before_replacing_the_users_word(
        make_window, audio_dir: Path, tiny_model_dir: Path, qtbot, engine_timeout_ms):
    wav = audio_dir / "longform" / f"{LONGFORM}.wav"
    reference = wav.with_suffix(".txt").read_text(encoding="utf-8")
    window = make_window(FileSource(wav, realtime=False))
    dictate_to_end(window, qtbot, engine_timeout_ms)
    view = window.captions
    first = view.spans[0]
    view.replace_text(first.cursor.selectionStart(), first.cursor.selectionEnd(), "Zebra")  # the user's word

    dialog = window.improve_transcript()
    assert dialog is not None
    qtbot.waitUntil(dialog.accept_all_button.isEnabled, timeout=IMPROVE_TIMEOUT_MS)
    rows = [dialog.changes_list.item(row) for row in range(dialog.changes_list.count())]
    edited = [item for item in rows if "Zebra" in item.text()]
    assert len(edited) == 1 and edited[0].checkState() is Qt.CheckState.Unchecked and "your edit" in edited[0].text()
    assert all(item.checkState() is Qt.CheckState.Checked for item in rows if item is not edited[0])
    edited[0].setCheckState(Qt.CheckState.Checked)  # the user accepts that one too
    dialog.accept_checked()

    text = view.committed_text()
    assert not text.startswith("Zebra")
    offline = "".join(segment.text for segment in transcribe(
        str(wav), Recognizer.load(tiny_model_dir), TranscribeOptions(beam_size=5))[0])
    improved, best = word_error_rate([reference], [text]), word_error_rate([reference], [offline])
    assert improved <= best + WER_SLACK, (improved, best)
