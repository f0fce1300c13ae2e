"""The session's audio kept beside its journal, through the real window: jfk.wav dictated from the file
source twice, exported with its audio, then the session closed. The kept FLAC must be the file's samples at
the times the journal gives its words (the gap between the two recordings silent), the export's audio the
same, and the setting "never" must write nothing."""

from __future__ import annotations

import numpy as np
import pytest

from dictate.audio.capture import FileSource
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE
from dictate.gui.main_window import RECORDING_GAP_SECONDS
from dictate.gui.settings import open_settings
from dictate.transcript.journal import read_journal
from dictate.transcript.session_audio import SessionAudioError, find_session_audio, read_session_audio
from tests.gui.conftest import dictate_to_end

MIN_CORRELATION = 0.99  # the FLAC holds 16-bit samples: the rounding is far below this


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_the_sessions_audio_is_what_was_dictated_at_the_journals_times(jfk_window, journal_dir, jfk_wav, qtbot,
                                                                      engine_timeout_ms, tmp_path):
    window = jfk_window
    dictate_to_end(window, qtbot, engine_timeout_ms)
    first_end = window.captions.committed_words[-1].end
    (journal,) = journal_dir.glob("*.jsonl")
    assert find_session_audio(journal) == journal.with_suffix(".wav")  # recorded as it is heard
    dictate_to_end(window, qtbot, engine_timeout_ms)
    window.export_to(tmp_path / "talk.srt", with_audio=True)  # while the session is open
    exported = read_session_audio(tmp_path / "talk.flac")
    window.new_session()

    kept = find_session_audio(journal)
    assert kept == journal.with_suffix(".flac") and not journal.with_suffix(".wav").exists()
    audio, speech = read_session_audio(kept), load_audio(jfk_wav)
    second = int(round((first_end + RECORDING_GAP_SECONDS) * SAMPLE_RATE))  # where the second recording begins
    assert len(audio) >= second + len(speech)
    assert correlation(audio[: len(speech)], speech) > MIN_CORRELATION
    assert correlation(audio[second : second + len(speech)], speech) > MIN_CORRELATION
    assert not np.any(audio[len(speech) + SAMPLE_RATE : second])  # the time between the recordings is silence
    assert np.array_equal(exported, audio)  # the export's audio: all of it, beside the transcript
    words = read_journal(journal).words
    later = [word for word in words if word.start >= first_end + RECORDING_GAP_SECONDS]
    # the same first word, heard in both recordings, is as far apart in the journal as its audio is in the file
    assert later[0].text == words[0].text
    assert abs((later[0].start - words[0].start) - second / SAMPLE_RATE) < 0.05


def test_never_recording_the_audio_writes_none(make_window, journal_dir, jfk_wav, tiny_model_dir, qtbot,
                                               engine_timeout_ms, tmp_path):
    open_settings().setValue("audio_retention", "never")
    window = make_window(FileSource(jfk_wav, realtime=False))
    dictate_to_end(window, qtbot, engine_timeout_ms)
    with pytest.raises(SessionAudioError, match="no audio"):
        window.export_to(tmp_path / "talk.txt", with_audio=True)
    window.new_session()
    (journal,) = journal_dir.glob("*.jsonl")
    assert read_journal(journal).words
    assert sorted(path.suffix for path in journal_dir.iterdir()) == [".jsonl"]
