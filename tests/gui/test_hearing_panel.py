"""What Whisper hears, in the window: the live spectrogram is the log-mel of the audio the engine heard
(columns compared with dictate.audio.features on the file), and "Where Whisper Heard It" on a word shows
the decoder's attention, which peaks inside the word."""

from __future__ import annotations

import numpy as np

from dictate.audio.features import log_mel_frames, normalize_log_mel
from dictate.audio.loading import load_audio
from dictate.constants import FRAMES_PER_SECOND
from tests.gui.conftest import dictate_to_end

EDGE_FRAMES = 3  # the newest frames still wait for samples after them


def test_the_live_spectrogram_is_the_log_mel_of_what_was_heard(jfk_window, jfk_wav, qtbot, engine_timeout_ms):
    window = jfk_window
    window.hearing_dock.show()
    panel = window.hearing
    dictate_to_end(window, qtbot, engine_timeout_ms)
    panel.refresh()
    shown = panel.spectrogram()
    assert shown is not None and shown.shape[1] >= 9 * FRAMES_PER_SECOND  # about the last 10 s
    first = int(round(panel.first_time * FRAMES_PER_SECOND))
    speech = load_audio(jfk_wav)
    frames = log_mel_frames(np.concatenate([speech, np.zeros(len(speech), np.float32)]))[:, first:]
    count = min(shown.shape[1], frames.shape[1]) - EDGE_FRAMES
    expected = normalize_log_mel(frames[:, : shown.shape[1]])[:, :count]
    assert np.allclose(shown[:, :count], expected, atol=1e-3)


def test_where_whisper_heard_a_word_peaks_inside_it(jfk_window, qtbot, engine_timeout_ms):
    window = jfk_window
    dictate_to_end(window, qtbot, engine_timeout_ms)
    span = max(window.captions.spans, key=lambda span: span.word.end - span.word.start)  # the longest word
    window.show_where_heard(span)
    assert window.hearing_dock.isVisible()
    attention = window.hearing.attention
    assert attention is not None and span.word.start <= attention.peak_time() <= span.word.end
