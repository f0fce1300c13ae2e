"""A microphone that goes digitally silent mid-recording (muted, or unplugged with its stream kept alive):
the window shows the warning, keeps the stream and the recording, and clears the warning when sound returns.

The real window and the real tiny.en model; the device stream is injected through the capture's stream
factory (the seam the hardware is reached by), and the test flips the microphone's mute switch.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from dictate.audio.capture import InputDevice, MicrophoneSource
from dictate.audio.silence_watch import DEAD_INPUT_SECONDS
from dictate.constants import SAMPLE_RATE
from dictate.gui.main_window import SILENT_INPUT_HINT, RecorderState
from tests.injected_stream import InjectedStream

PAUSE_S = 1.5  # exact zeros after the last speech: ends the utterance, too short to be reported
PHRASE = "what your country can do for you"
BUILT_IN = InputDevice(index=0, name="Built-in Microphone", channels=1, default_samplerate=16000.0, is_default=True)


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


class MutedMicrophone(InjectedStream):
    """A microphone whose mute switch the test flips: speech, then exact zeros (as a muted or pulled microphone
    delivers) until `unmuted` is set, speech again and a short pause; then it stays open and delivers nothing."""

    def __init__(self, speech: np.ndarray, unmuted: threading.Event, **kwargs: Any) -> None:
        self._speech, self._unmuted = speech, unmuted
        super().__init__(**kwargs)

    def play(self) -> None:
        silent = np.zeros(self._block, np.float32)
        if not self.deliver(self._speech):
            return
        while not self._unmuted.is_set():
            if not self.deliver(silent):
                return
        if self.deliver(self._speech):
            self.deliver(np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32))


class CountingLister:
    """The device query, counted: a rescan while a stream is open would close it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[InputDevice]:
        self.calls += 1
        return [BUILT_IN]


@pytest.fixture
def speech(jfk_wav: Path) -> np.ndarray:
    audio, rate = soundfile.read(jfk_wav, dtype="float32")
    assert rate == SAMPLE_RATE
    return audio


def test_a_silent_microphone_is_a_warning_and_recording_goes_on(make_window, tiny_model_dir, speech, qtbot,
                                                                 engine_timeout_ms):
    unmuted = threading.Event()
    source = MicrophoneSource(device="USB mic", samplerate=SAMPLE_RATE,
                              stream_factory=lambda **kw: MutedMicrophone(speech, unmuted, **kw))
    lister = CountingLister()
    window = make_window(source, device_lister=lister)
    qtbot.waitUntil(window.record_button.isEnabled, timeout=engine_timeout_ms)
    with qtbot.waitSignal(window.recording_started, timeout=engine_timeout_ms):
        window.toggle_recording()
    scans = lister.calls

    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=engine_timeout_ms)  # the microphone is muted
    assert window.banner.text() == (f"No sound from the microphone for {DEAD_INPUT_SECONDS:g} s: it may have been "
                                    f"unplugged or muted. {SILENT_INPUT_HINT}")
    assert PHRASE in words_of(window.captions.committed_text())  # the speech before it was kept
    assert window.state is RecorderState.RECORDING and window.record_button.text() == "Stop"
    assert lister.calls == scans and not window.devices.refresh_button.isEnabled()  # no rescan: the stream is kept
    before = words_of(window.captions.committed_text())

    unmuted.set()  # the user unmutes: the same stream delivers speech again
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=engine_timeout_ms)
    qtbot.waitUntil(lambda: words_of(window.captions.committed_text()).count(PHRASE) == 2, timeout=engine_timeout_ms)
    assert window.state is RecorderState.RECORDING and window.record_button.text() == "Stop"
    assert words_of(window.captions.committed_text()).startswith(before)
    assert not window.banner.isVisible() and lister.calls == scans

    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        window.toggle_recording()
    assert not window.banner.isVisible() and window.state is RecorderState.IDLE
