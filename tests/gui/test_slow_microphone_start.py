"""A microphone that takes a while to deliver its first audio (a Bluetooth headset waking up, a busy sound
server): the window says it is opening the microphone, and says "Recording" only once audio arrives, so
nobody starts speaking into a stream that is not there yet.

The real window and the real tiny.en model; the device stream is injected through the capture's stream
factory (the seam the hardware is reached by), and the test decides when the device starts delivering.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from dictate.audio.capture import MicrophoneSource
from dictate.constants import SAMPLE_RATE
from dictate.gui.main_window import RecorderState
from tests.injected_stream import InjectedStream

TRAILING_SILENCE_S = 1.5  # ends the utterance after the speech


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


class LateMicrophone(InjectedStream):
    """Delivers nothing until `delivering` is set, then speech and a short silence; then stays open and quiet."""

    def __init__(self, audio: np.ndarray, delivering: threading.Event, **kwargs: Any) -> None:
        self._audio, self._delivering = audio, delivering
        super().__init__(**kwargs)

    def play(self) -> None:
        while not self._delivering.wait(0.05):
            if self.stopped(0):
                return
        self.deliver(self._audio)


@pytest.fixture
def speech_then_pause(jfk_wav: Path) -> np.ndarray:
    audio, rate = soundfile.read(jfk_wav, dtype="float32")
    assert rate == SAMPLE_RATE
    return np.concatenate([audio, np.zeros(int(TRAILING_SILENCE_S * SAMPLE_RATE), np.float32)])


def test_recording_is_shown_only_once_the_microphone_delivers(make_window, tiny_model_dir, speech_then_pause,
                                                               qtbot, engine_timeout_ms):
    delivering = threading.Event()
    source = MicrophoneSource(device="Headset", samplerate=SAMPLE_RATE,
                              stream_factory=lambda **kw: LateMicrophone(speech_then_pause, delivering, **kw))
    window = make_window(source)
    qtbot.waitUntil(window.record_button.isEnabled, timeout=engine_timeout_ms)
    started: list[bool] = []
    window.recording_started.connect(lambda: started.append(True))
    window.toggle_recording()

    qtbot.waitUntil(lambda: window.state is RecorderState.OPENING, timeout=engine_timeout_ms)  # model loaded
    qtbot.wait(1000)  # the device is still silent: not a single sample yet
    assert window.state is RecorderState.OPENING and not started
    assert window.state_label.text() == "Opening the microphone…"
    assert window.record_button.text() == "Stop" and window.record_button.isEnabled()  # the user may give up

    with qtbot.waitSignal(window.recording_started, timeout=engine_timeout_ms):
        delivering.set()
    assert window.state is RecorderState.RECORDING and window.state_label.text().startswith("Recording")
    qtbot.waitUntil(lambda: "you can do for your country" in words_of(window.captions.committed_text()),
                    timeout=engine_timeout_ms)
    text = words_of(window.captions.committed_text())
    assert "fellow americans" in text and "ask not what your country can do for you" in text
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        window.toggle_recording()
    assert window.state is RecorderState.IDLE
