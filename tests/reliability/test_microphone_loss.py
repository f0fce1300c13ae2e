"""The microphone goes away mid-session: the engine says so (EngineError), keeps the transcript and
continues on the same or another input without a restart.

Two real failures: the PulseAudio source behind PortAudio's `pulse` device is removed while speech
plays, and an injected stream (the capture's stream factory) that fails as a vanishing device does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sounddevice
import soundfile

from dictate.asr.transcribe import Recognizer
from dictate.audio.capture import CaptureError, FileSource, MicrophoneSource
from dictate.constants import SAMPLE_RATE
from dictate.streaming.events import Committed, EngineError, Event
from tests.conftest import SINK_NAME, SOURCE_NAME, PulseServer, _rescan_portaudio_devices
from tests.injected_stream import InjectedStream
from tests.reliability.conftest import EVENT_WAIT_S, PULSE_DEVICE, Session


def committed_words(events: list[Event]) -> int:
    return sum(len(e.words) for e in events if isinstance(e, Committed))


def test_pulled_pulseaudio_microphone_is_reported_and_recording_resumes(pulse_server: PulseServer,
                                                                        recognizer: Recognizer,
                                                                        jfk_wav: Path) -> None:
    # no fallback sink: with the microphone gone there is nothing left to record
    subprocess.run(["pactl", "unload-module", "module-always-sink"], env=pulse_server.env, check=True)
    session = Session(recognizer, MicrophoneSource(device=PULSE_DEVICE))
    player = pulse_server.play(jfk_wav)
    try:
        session.wait_for(lambda e: isinstance(e, Committed), "committed words from the microphone")
        player.kill()
        pulse_server.unload_sink()  # the microphone is unplugged
        events = session.wait_for(lambda e: isinstance(e, EngineError), "error after the microphone vanished")
        error = events[-1]
        assert error.recoverable and "unplugged" in error.message
        before = session.text()
        assert before  # committed words from the microphone (the first ones are checked in tests/gui)
        # a microphone comes back: the same session records again, no restart
        subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={SINK_NAME}", "rate=48000",
                        "channels=2"], env=pulse_server.env, check=True, capture_output=True)
        subprocess.run(["pactl", "set-default-source", SOURCE_NAME], env=pulse_server.env, check=True)
        _rescan_portaudio_devices()  # as the app's device picker does
        session.engine.set_source(MicrophoneSource(device=PULSE_DEVICE))
        player = pulse_server.play(jfk_wav)
        session.wait_for(lambda e: isinstance(e, Committed) and any("country" in w.text for w in e.words),
                         "words from the new microphone")
    finally:
        player.kill()
        session.close()
    after = session.text()
    assert after.startswith(before) and len(after) > len(before) + 20  # kept, then continued


class BurstThenGone:
    """A 48-kHz device that delivers all its audio at once and then vanishes (finished_callback)."""

    def __init__(self, audio: np.ndarray, **kwargs: Any) -> None:
        self._audio, self._callback, self._finished = audio, kwargs["callback"], kwargs["finished_callback"]

    def start(self) -> None:
        self._callback(self._audio[:, None], len(self._audio), None, sounddevice.CallbackFlags())
        self._finished()

    def stop(self) -> None:
        pass

    close = stop


def test_a_resampled_microphone_that_vanishes_with_audio_queued_is_a_capture_error(jfk_wav: Path) -> None:
    speech, rate = soundfile.read(jfk_wav, dtype="float32")
    device_audio = np.repeat(speech, 3)  # 48 kHz
    capture = MicrophoneSource(device="USB mic", samplerate=48_000,
                               stream_factory=lambda **kw: BurstThenGone(device_audio, **kw)).open()
    taken = 0
    with pytest.raises(CaptureError, match="unplugged"):
        for _ in range(10):
            taken += len(capture.read(0.1).samples)
    assert taken == pytest.approx(len(speech), abs=SAMPLE_RATE // 10)  # the queued audio was delivered first


class VanishingStream(InjectedStream):
    """Delivers speech, then fails as an unplugged device does: PortAudio calls `finished_callback` and no
    more audio comes."""

    def __init__(self, speech: np.ndarray, vanish_after_s: float, **kwargs: Any) -> None:
        self._speech, self._vanish_after_s = speech, vanish_after_s
        super().__init__(**kwargs)

    def play(self) -> None:
        if self.deliver(self._speech[: int(self._vanish_after_s * self._rate)]):
            self._finished()

    def close(self) -> None:
        raise OSError("Error closing stream [PaErrorCode -9999]")  # a vanished device cannot be closed cleanly


def failing_factory(**kwargs: Any) -> Any:
    raise OSError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")


def test_injected_stream_failures_are_reported_and_the_transcript_goes_on(recognizer: Recognizer,
                                                                          jfk_wav: Path) -> None:
    speech, rate = soundfile.read(jfk_wav, dtype="float32")
    source = MicrophoneSource(device="USB mic", samplerate=rate,
                              stream_factory=lambda **kw: VanishingStream(speech, vanish_after_s=6.0, **kw))
    session = Session(recognizer, source)
    try:
        events = session.wait_for(lambda e: isinstance(e, EngineError), "error when the stream vanished")
        assert committed_words(events) >= 4 and events[-1].recoverable
        assert "unplugged" in events[-1].message
        kept = session.text()
        # the device the user picks next cannot be opened: said so, nothing lost
        session.engine.set_source(MicrophoneSource(device="Broken mic", samplerate=rate, stream_factory=failing_factory))
        error = session.wait_for(lambda e: isinstance(e, EngineError), "error opening the next device")[-1]
        assert "Broken mic" in error.message and "Device unavailable" in error.message and error.recoverable
        assert session.text() == kept
        # a working input: dictation continues after the kept words
        session.engine.set_source(FileSource(jfk_wav, realtime=False))
        session.thread.join(timeout=EVENT_WAIT_S)
        assert not session.thread.is_alive()  # the file source ended the run
    finally:
        session.close()
    text = session.text()
    assert text.startswith(kept) and text.count("country") >= 1 and len(text) > len(kept)
