"""The session audio writer on its own: real speech in blocks, a gap, a kill -9 mid-recording, the WAV
becoming FLAC, a recovered session's audio kept, and the retention deleting what is past its time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE
from dictate.transcript.session_audio import (
    FLUSH_EVERY_S,
    AudioRetention,
    SessionAudioWriter,
    expire_audio,
    find_session_audio,
    keep_as_flac,
    read_session_audio,
)
from tests.conftest import REPO_ROOT

BLOCK = SAMPLE_RATE // 10
QUANTUM = 1 / 32768  # one step of 16-bit PCM

# A child process that records speech block by block and says how much it has written, until it is killed.
RECORDER = """
import sys, time
from pathlib import Path
from dictate.audio.loading import load_audio
from dictate.transcript.session_audio import SessionAudioWriter
speech = load_audio(sys.argv[1])
writer = SessionAudioWriter(Path(sys.argv[2]))
for start in range(0, len(speech), 1600):
    writer.write(speech[start:start + 1600], at=start / 16000)
    print(f"{writer.seconds:.1f}", flush=True)
    time.sleep(0.01)
time.sleep(60)
"""


def test_blocks_and_a_gap_are_kept_at_their_times_and_closing_keeps_flac(jfk_wav: Path, tmp_path: Path) -> None:
    speech = load_audio(jfk_wav)
    writer = SessionAudioWriter(tmp_path / "session.wav")
    for start in range(0, len(speech), BLOCK):
        writer.write(speech[start : start + BLOCK], at=start / SAMPLE_RATE)
    later = len(speech) / SAMPLE_RATE + 2.0
    writer.write(speech[:BLOCK], at=later)
    kept = writer.close()
    assert kept == tmp_path / "session.flac" and not (tmp_path / "session.wav").exists()
    audio = read_session_audio(kept)
    assert len(audio) == len(speech) + 2 * SAMPLE_RATE + BLOCK
    assert np.max(np.abs(audio[: len(speech)] - speech)) <= QUANTUM
    assert not np.any(audio[len(speech) : len(speech) + 2 * SAMPLE_RATE])
    assert np.max(np.abs(audio[-BLOCK:] - speech[:BLOCK])) <= QUANTUM


def test_a_killed_recording_is_readable_and_at_most_a_second_short(jfk_wav: Path, tmp_path: Path) -> None:
    wav = tmp_path / "session.wav"
    child = subprocess.Popen([sys.executable, "-c", RECORDER, str(jfk_wav), str(wav)], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        written = 0.0
        while written < 5.0:
            line = child.stdout.readline()
            assert line, "the recorder ended before it had written 5 s"
            written = float(line)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        child.kill()
    audio = read_session_audio(wav)
    assert written - FLUSH_EVERY_S <= len(audio) / SAMPLE_RATE <= written + 0.5
    speech = load_audio(jfk_wav)
    assert np.max(np.abs(audio - speech[: len(audio)])) <= QUANTUM
    assert len(read_session_audio(keep_as_flac(wav))) == len(audio)


def test_a_recovered_sessions_audio_is_kept_before_the_new_recording(jfk_wav: Path, tmp_path: Path) -> None:
    speech = load_audio(jfk_wav)
    first = SessionAudioWriter(tmp_path / "session.wav")
    first.write(speech, at=0.0)
    first.close()
    again = SessionAudioWriter(tmp_path / "session.wav")  # the session goes on after its restore
    assert again.seconds == pytest.approx(len(speech) / SAMPLE_RATE)
    again.write(speech[:BLOCK], at=again.seconds + 1.0)
    audio = read_session_audio(again.close())
    assert len(audio) == len(speech) + SAMPLE_RATE + BLOCK
    assert np.max(np.abs(audio[: len(speech)] - speech)) <= QUANTUM


@pytest.mark.parametrize("kind, kept", [("days", ["new.flac", "crashed.flac"]), ("never", []), ("session", [])])
def test_retention_deletes_what_it_no_longer_keeps(jfk_wav: Path, tmp_path: Path, kind: str, kept: list[str]) -> None:
    speech = load_audio(jfk_wav)[:BLOCK]
    for name in ("old", "new", "recording"):
        writer = SessionAudioWriter(tmp_path / f"{name}.wav")
        writer.write(speech, at=0.0)
        if name != "recording":
            writer.close()
    crashed = SessionAudioWriter(tmp_path / "crashed.wav")  # a kill left its WAV
    crashed.write(speech, at=0.0)
    eight_days_ago = time.time() - 8 * 86400
    os.utime(tmp_path / "old.flac", (eight_days_ago, eight_days_ago))
    expire_audio(tmp_path, AudioRetention(kind, days=7), recording=tmp_path / "recording.wav")
    assert sorted(path.name for path in tmp_path.glob("*.flac")) == sorted(kept)
    assert [path.name for path in tmp_path.glob("*.wav")] == ["recording.wav"]  # the one being recorded stays
    assert find_session_audio(tmp_path / "recording.jsonl") == tmp_path / "recording.wav"
