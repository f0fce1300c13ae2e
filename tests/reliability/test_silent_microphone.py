"""A microphone that goes digitally silent (pulled with the stream kept alive, moved to a fallback source,
muted by a switch) is reported once, capture goes on, and words continue when it comes back (D-4).

Three levels: the watch on real speech, room noise and exact zeros; the engine with the real model and an
injected device stream; and PulseAudio's real fallback: the microphone's sink is removed while
`module-always-sink` keeps a null sink, so the stream moves to its monitor, which delivers exact zeros.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from dictate.asr.transcribe import Recognizer
from dictate.audio.capture import FileSource, MicrophoneSource
from dictate.audio.silence_watch import DEAD_INPUT_SECONDS, DigitalSilenceWatch
from dictate.constants import SAMPLE_RATE
from dictate.streaming.events import Committed, EngineError, EngineStatus, Event
from tests.conftest import SINK_NAME, SOURCE_NAME, PulseServer
from tests.reliability.test_microphone_loss import PULSE_DEVICE, Session, _Ok, recognizer  # noqa: F401 - fixture
from tests.reliability.test_no_words_from_nothing import brown_noise

SILENT_S = DEAD_INPUT_SECONDS + 1.0  # a silent stretch that must be reported
BLOCK_S = 0.02  # device callback block of the injected stream
SPEED = 4.0  # the injected stream runs four times faster than real time
INT16_SCALE = 32768.0


def zeros(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def as_16_bit(audio: np.ndarray) -> np.ndarray:
    """What a 16-bit microphone delivers: samples on the int16 grid (quiet noise rounds to many zeros)."""
    return (np.round(audio * INT16_SCALE) / INT16_SCALE).astype(np.float32)


def blocks(audio: np.ndarray, seconds: float = BLOCK_S) -> list[np.ndarray]:
    size = int(seconds * SAMPLE_RATE)
    return [audio[start : start + size] for start in range(0, len(audio), size)]


def reports(watch: DigitalSilenceWatch, audio: np.ndarray, seconds: float = BLOCK_S) -> int:
    return sum(watch.update(block) for block in blocks(audio, seconds))


@pytest.fixture(scope="module")
def speech(jfk_wav: Path) -> np.ndarray:
    audio, rate = soundfile.read(jfk_wav, dtype="float32")
    assert rate == SAMPLE_RATE
    return audio


def test_the_watch_reports_each_silent_stretch_once_and_never_noise_or_a_silent_start(speech: np.ndarray) -> None:
    watch = DigitalSilenceWatch()
    assert reports(watch, zeros(10.0)) == 0  # a virtual device silent from the start
    assert reports(watch, speech) == 0  # real speech (with its sub-millisecond zero runs)
    assert reports(watch, zeros(DEAD_INPUT_SECONDS - BLOCK_S)) == 0  # a pause shorter than the limit
    assert reports(watch, zeros(10.0)) == 1  # ...becomes a dead microphone: told once, not every block
    assert reports(watch, speech) == 0  # the microphone is back
    assert reports(watch, zeros(SILENT_S)) == 1  # and gone again: re-armed, told again
    assert reports(watch, speech) == 0
    # a quiet room through a 16-bit microphone (about -50 dBFS), and a far fainter one (-90 dBFS, about one
    # 16-bit step): a third of its samples are exact zeros, but never in a run of seconds
    room = as_16_bit(brown_noise(30))
    assert reports(watch, room) == 0
    faint = as_16_bit(room * 0.01)
    assert np.mean(faint == 0) > 0.3
    assert reports(watch, faint) == 0


def test_the_watch_finds_a_silent_stretch_inside_one_long_read(speech: np.ndarray) -> None:
    """A consumer that fell behind reads up to seconds at once: a stretch between two sounds still counts."""
    watch = DigitalSilenceWatch()
    assert reports(watch, np.concatenate([speech[:SAMPLE_RATE], zeros(SILENT_S), speech]), seconds=30.0) == 1
    # the stretch that ends at the next read's first sound, across two reads
    assert reports(watch, zeros(DEAD_INPUT_SECONDS / 2)) == 0
    assert reports(watch, np.concatenate([zeros(DEAD_INPUT_SECONDS / 2), speech]), seconds=30.0) == 1


class PlayedStream:
    """A `sounddevice.InputStream` stand-in that plays `audio` into the callback, then stays open and quiet."""

    def __init__(self, audio: np.ndarray, **kwargs: Any) -> None:
        self._audio, self._callback = audio, kwargs["callback"]
        self._block = int(kwargs["blocksize"])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _play(self) -> None:
        for start in range(0, len(self._audio), self._block):
            if self._stop.wait(self._block / SAMPLE_RATE / SPEED):
                return
            block = self._audio[start : start + self._block, None]
            self._callback(block, len(block), None, _Ok())

    def stop(self) -> None:
        self._stop.set()

    close = stop


class TimedSession(Session):
    """A `Session` that also notes the audio time (s) at which each EngineError came."""

    def __init__(self, recognizer: Recognizer, source: Any) -> None:
        self.error_times: list[float] = []
        super().__init__(recognizer, source)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, EngineError):
            self.error_times.append(self.engine.processor.audio_time)
        super()._on_event(event)


def is_country(event: Event) -> bool:
    return isinstance(event, Committed) and any("country" in word.text for word in event.words)


def test_a_microphone_gone_silent_is_reported_once_and_words_continue_when_it_returns(
        recognizer: Recognizer, speech: np.ndarray) -> None:
    # silent start (not reported), speech, a quiet room, the microphone muted, speech again
    room = as_16_bit(brown_noise(4))
    parts = [zeros(SILENT_S), speech, room, zeros(SILENT_S), speech]
    muted_at = sum(map(len, parts[:3])) / SAMPLE_RATE
    source = MicrophoneSource(device="USB mic", samplerate=SAMPLE_RATE,
                              stream_factory=lambda **kw: PlayedStream(np.concatenate(parts), **kw))
    session = TimedSession(recognizer, source)
    try:
        events = session.wait_for(lambda e: isinstance(e, EngineError), "report of the silent microphone")
        error = events[-1]
        assert error.recoverable and error.message.startswith(f"No sound from the microphone for {DEAD_INPUT_SECONDS:g} s")
        assert session.error_times[0] >= muted_at + DEAD_INPUT_SECONDS  # not before 3 s of zeros, not on noise
        assert any(is_country(e) for e in events)  # the speech before it was committed
        kept = session.text()
        after = session.wait_for(is_country, "words after the microphone came back")
    finally:
        session.close()
    assert not any(isinstance(e, EngineError) for e in after)
    while not session.events.empty():  # nothing else went wrong up to the stop
        assert not isinstance(session.events.get(), EngineError)
    assert len(session.error_times) == 1
    text = session.text()
    assert text.startswith(kept) and text[len(kept):].count("country") >= 1


def test_a_file_ending_in_digital_silence_is_no_microphone_to_report(recognizer: Recognizer, speech: np.ndarray,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "speech-then-silence.wav"
    soundfile.write(path, np.concatenate([speech, zeros(2 * SILENT_S)]), SAMPLE_RATE, subtype="PCM_16")
    session = Session(recognizer, FileSource(path, realtime=False))
    session.thread.join(timeout=120)
    assert not session.thread.is_alive()  # the file's end ended the run
    events = list(session.events.queue)
    assert not any(isinstance(e, EngineError) for e in events)
    assert "country" in session.text()


def pactl_short(pulse: PulseServer, kind: str) -> list[list[str]]:
    """`pactl list short KIND` as rows of fields."""
    out = subprocess.run(["pactl", "list", "short", kind], env=pulse.env, check=True, capture_output=True,
                         text=True).stdout
    return [line.split() for line in out.splitlines()]


def recording_stream(pulse: PulseServer) -> tuple[str, str]:
    """The engine's PulseAudio recording stream (the only one): its index and the name of its source."""
    (stream,) = pactl_short(pulse, "source-outputs")
    names = {row[0]: row[1] for row in pactl_short(pulse, "sources")}
    return stream[0], names[stream[1]]


def test_pulled_pulseaudio_microphone_moved_to_a_fallback_source_is_reported(pulse_server: PulseServer,
                                                                           recognizer: Recognizer,
                                                                           jfk_wav: Path) -> None:
    session = Session(recognizer, MicrophoneSource(device=PULSE_DEVICE))
    player = pulse_server.play(jfk_wav)
    try:
        session.wait_for(lambda e: isinstance(e, Committed), "committed words from the microphone")
        player.kill()
        pulse_server.unload_sink()  # pulled: module-always-sink loads a null sink, the stream moves to its monitor
        events = session.wait_for(lambda e: isinstance(e, EngineError), "report of the silent microphone")
        assert events[-1].recoverable and events[-1].message.startswith("No sound from the microphone")
        assert recording_stream(pulse_server)[1] != SOURCE_NAME  # the stream lives on, on the fallback source
        kept = session.text()
        # capture goes on: audio time keeps advancing with no other error
        status = session.wait_for(lambda e: isinstance(e, EngineStatus), "status after the report")[-1]
        later = session.wait_for(lambda e: isinstance(e, EngineStatus) and e.audio_time > status.audio_time + 1.0,
                                 "second of audio after the report")
        assert not any(isinstance(e, EngineError) for e in later)
        # the microphone comes back and the user moves the stream to it (pavucontrol): words continue
        subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={SINK_NAME}", "rate=48000",
                        "channels=2"], env=pulse_server.env, check=True, capture_output=True)
        subprocess.run(["pactl", "move-source-output", recording_stream(pulse_server)[0], SOURCE_NAME],
                       env=pulse_server.env, check=True)
        player = pulse_server.play(jfk_wav)
        after = session.wait_for(is_country, "words from the microphone that came back")
        assert not any(isinstance(e, EngineError) for e in after)
    finally:
        player.kill()
        session.close()
    assert session.text().startswith(kept) and len(session.text()) > len(kept) + 20
