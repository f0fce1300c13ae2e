"""A microphone that goes digitally silent (pulled with the stream kept alive, moved to a fallback source,
muted by a switch) is reported once, capture goes on, and words continue when it comes back (D-4).

Four levels: the watch on real speech, room noise and exact zeros; the engine with the real model and an
injected device stream; PulseAudio's real fallback: the microphone's sink is removed while
`module-always-sink` keeps a null sink, so the stream moves to its monitor, which delivers exact zeros; and
`dictate stream --device pulse` as a real process through the same fallback (it warns and goes on).
The window's banner is tested in tests/gui/test_silent_microphone_banner.py.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from dictate.asr.transcribe import Recognizer
from dictate.audio.capture import FileSource, MicrophoneSource
from dictate.audio.silence_watch import DEAD_INPUT_SECONDS, DigitalSilenceWatch
from dictate.constants import SAMPLE_RATE
from dictate.streaming.events import Committed, EngineError, EngineStatus, Event, InputSilent
from dictate.transcript.journal import read_journal
from tests.conftest import SINK_NAME, SOURCE_NAME, PulseServer
from tests.injected_stream import InjectedStream
from tests.reliability.conftest import (
    EVENT_WAIT_S,
    PULSE_DEVICE,
    REPO_ROOT,
    Session,
    brown_noise,
    dictate_env,
    write_wav,
)

SILENT_S = DEAD_INPUT_SECONDS + 1.0  # a silent stretch that must be reported
BLOCK_S = 0.02  # device callback block of the injected stream
INT16_SCALE = 32768.0
POLL_S = 0.05  # how often the test looks at a file or the sound server


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


class PlayedStream(InjectedStream):
    """Plays `audio` into the callback, then stays open and quiet."""

    def __init__(self, audio: np.ndarray, **kwargs: Any) -> None:
        self._audio = audio
        super().__init__(**kwargs)

    def play(self) -> None:
        self.deliver(self._audio)


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
        assert isinstance(error, InputSilent) and error.recoverable  # a warning: the stream is still open
        assert error.message.startswith(f"No sound from the microphone for {DEAD_INPUT_SECONDS:g} s")
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
        assert isinstance(events[-1], InputSilent) and events[-1].message.startswith("No sound from the microphone")
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


def move_back_to_the_microphone(pulse: PulseServer) -> None:
    """The microphone comes back and the user moves the recording stream to it (as pavucontrol does)."""
    subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={SINK_NAME}", "rate=48000",
                    "channels=2"], env=pulse.env, check=True, capture_output=True)
    subprocess.run(["pactl", "move-source-output", recording_stream(pulse)[0], SOURCE_NAME], env=pulse.env,
                   check=True)


class Lines:
    """A process's stderr lines as they come."""

    def __init__(self, pipe: Any) -> None:
        self.seen: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self.seen.put(line.rstrip("\n"))

    def next(self, what: str) -> str:
        try:
            return self.seen.get(timeout=EVENT_WAIT_S)
        except queue.Empty:
            pytest.fail(f"no {what} within {EVENT_WAIT_S} s")

    def rest(self) -> list[str]:
        return list(self.seen.queue)


def exited_after_ctrl_c(process: subprocess.Popen[str], stderr: Lines) -> None:
    """Wait for the process to exit; if it hangs, fail with its threads' stacks (faulthandler on SIGABRT)."""
    try:
        process.wait(timeout=EVENT_WAIT_S)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=EVENT_WAIT_S)
        time.sleep(1.0)  # the reader thread takes the last lines
        pytest.fail(f"dictate stream did not exit within {EVENT_WAIT_S} s of Ctrl-C; its threads:\n"
                    + "\n".join(stderr.rest()))


def poll_until(done: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    """Until `done()`, while the process runs (a file or the sound server is polled: nothing signals)."""
    deadline = time.monotonic() + EVENT_WAIT_S
    while not done():
        assert process.poll() is None, f"dictate stream ended waiting for {what}"
        assert time.monotonic() < deadline, f"no {what} within {EVENT_WAIT_S} s"
        time.sleep(POLL_S)


def journal_count(journal: Path, word: str) -> int:
    """How often `word` is among the committed words of a `dictate stream` journal (fsynced per commit)."""
    return read_journal(journal).text.count(word) if journal.is_file() else 0


def test_dictate_stream_warns_of_a_silent_microphone_and_goes_on(pulse_server: PulseServer, jfk_wav: Path,
                                                                 speech: np.ndarray, tmp_path: Path) -> None:
    journal, output = tmp_path / "journal.jsonl", tmp_path / "transcript.txt"
    # the second time, a quiet room follows the speech: no second warning before the test stops the stream
    then_room = write_wav(tmp_path / "speech-then-room.wav", np.concatenate([speech, as_16_bit(brown_noise(10))]))
    process = subprocess.Popen([sys.executable, "-m", "dictate", "stream", "--device", PULSE_DEVICE,
                                "--journal", str(journal), "-o", str(output)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=dictate_env(PYTHONFAULTHANDLER="1"),
                               cwd=REPO_ROOT)
    stderr = Lines(process.stderr)
    player: subprocess.Popen[bytes] | None = None
    try:
        poll_until(journal.is_file, process, "journal (the model is loaded, the stream opens)")
        poll_until(lambda: pactl_short(pulse_server, "source-outputs") != [], process, "recording stream")
        player = pulse_server.play(jfk_wav)
        poll_until(lambda: journal_count(journal, "country") >= 1, process, "committed words")
        player.kill()
        pulse_server.unload_sink()  # pulled: the stream moves to the fallback null sink's monitor (exact zeros)
        warning = stderr.next("line on stderr")
        assert warning == f"dictate stream: warning: No sound from the microphone for {DEAD_INPUT_SECONDS:g} s: " \
                          "it may have been unplugged or muted."
        assert process.poll() is None  # a warning: the stream goes on
        kept = journal_count(journal, "country")
        move_back_to_the_microphone(pulse_server)
        player = pulse_server.play(then_room)
        poll_until(lambda: journal_count(journal, "country") >= kept + 2, process, "words after the warning")
        process.send_signal(signal.SIGINT)  # Ctrl-C: the transcript is written
        exited_after_ctrl_c(process, stderr)
    finally:
        if player is not None:
            player.kill()
        if process.poll() is None:
            process.kill()
    # told once, nothing else went wrong (soxr's binding may add its own notes at interpreter exit)
    assert [line for line in stderr.rest() if line.startswith("dictate stream") or "Traceback" in line] == []
    text = output.read_text(encoding="utf-8")
    assert text.count("country") >= kept + 2
