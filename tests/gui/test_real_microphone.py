"""The window dictates from a real PortAudio device: PulseAudio's virtual microphone speaking jfk.wav."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt

PULSE_DEVICE = "pulse"
PHRASE = "what your country can do for you"


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
    assert "fellow americans" in text and "ask not" in text and "you can do for your country" in text
