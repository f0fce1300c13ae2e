"""The window dictates from a real PortAudio device: PulseAudio's virtual microphone speaking jfk.wav."""

from __future__ import annotations

import re

import jiwer
from PySide6.QtCore import Qt

PULSE_DEVICE = "pulse"
PHRASE = "what your country can do for you"
SPOKEN = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
MAX_WER = 0.2  # a word or two misheard at stream start ("so am i", "asked"); a lost first sentence is 0.23


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def test_words_spoken_into_the_virtual_microphone_appear_in_the_captions(
        pulse_server, make_window, tiny_model_dir, jfk_wav, qtbot, engine_timeout_ms):
    window = make_window()
    window.devices.refresh_button.click()  # the user looks for microphones again: PulseAudio's appear
    assert window.devices.select(PULSE_DEVICE), [device.name for device in window.devices.devices]
    qtbot.waitUntil(window.record_button.isEnabled, timeout=engine_timeout_ms)
    with qtbot.waitSignal(window.recording_started, timeout=engine_timeout_ms):
        qtbot.mouseClick(window.record_button, Qt.MouseButton.LeftButton)

    player = pulse_server.play(jfk_wav)
    qtbot.waitUntil(lambda: PHRASE in words_of(window.captions.committed_text()), timeout=engine_timeout_ms)
    assert player.wait(timeout=60) == 0
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        qtbot.mouseClick(window.record_button, Qt.MouseButton.LeftButton)
    text = words_of(window.captions.committed_text())
    assert jiwer.wer(SPOKEN, text) <= MAX_WER, text  # all of it arrived, the first words included
