"""SIGKILL mid-dictation: the autosave journal keeps every committed word, and the next launch offers it back.

Real processes on a real file source at real time: the desktop app (offscreen Qt, demo input) and
`dictate stream`. The test waits for committed words, kills the process with SIGKILL and reads the
journal the way the relaunched app does.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dictate.gui.session_store import SessionStore
from dictate.transcript.journal import read_journal, sessions_to_recover
from tests.reliability.conftest import REPO_ROOT, dictate_env, run_dictate

LONGFORM = "librispeech_test-other_1688-142285_0000-0009"
WORDS_BEFORE_KILL = 12  # committed words journaled before the kill
WAIT_S = 120.0  # longest wait for them (model loading included, on a loaded machine)
POLL_S = 0.05


@pytest.fixture
def speech(audio_dir: Path) -> Path:
    return audio_dir / "longform" / f"{LONGFORM}.wav"


def wait_for_words(path: Path, count: int, process: subprocess.Popen) -> int:
    """Poll the journal until it holds `count` words; returns how many records it had then."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if path.is_file():
            session = read_journal(path)
            if len(session.words) >= count:
                return len(session.words)
        time.sleep(POLL_S)
    pytest.fail(f"no {count} committed words in {path} after {WAIT_S} s")


def committed_in_events(path: Path) -> list[str]:
    """The committed words of a `--events` log; a line the kill cut short is not counted."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
    return [word["text"] for record in records if record["type"] == "Committed" for word in record["words"]]


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def test_desktop_app_killed_mid_dictation_loses_no_committed_word(tmp_path: Path, speech: Path) -> None:
    data = tmp_path / "data"
    env = dictate_env(QT_QPA_PLATFORM="offscreen", DICTATE_DATA_DIR=str(data), XDG_CONFIG_HOME=str(tmp_path / "config"))
    app = subprocess.Popen([sys.executable, "-m", "dictate.gui.app", "--input", str(speech), "--autostart"],
                           env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        sessions = data / "sessions"
        journal = next(iter(sessions.glob("*.jsonl")), None) if sessions.is_dir() else None
        deadline = time.monotonic() + WAIT_S
        while journal is None and time.monotonic() < deadline:
            assert app.poll() is None, app.communicate()
            time.sleep(POLL_S)
            journal = next(iter(sessions.glob("*.jsonl")), None) if sessions.is_dir() else None
        assert journal is not None, "the app opened no journal"
        wait_for_words(journal, WORDS_BEFORE_KILL, app)
        seen = read_journal(journal).words  # what the app had committed (and fsynced) just before the kill
        kill(app)
    finally:
        if app.poll() is None:
            app.kill()
    after = read_journal(journal)
    assert after.words[: len(seen)] == seen  # every committed word survives, in order, timings intact
    assert not after.clean_end
    # the relaunched app finds the session and gives the words back
    store = SessionStore(sessions)
    assert store.recoverable() == journal
    words, text = store.restore(journal, accept=False)
    assert words == after.words and text == after.text
    assert "iron" in text.lower()  # LibriSpeech 1688-142285-0000: "THERE'S IRON THEY SAY IN ALL OUR BLOOD..."
    assert sessions_to_recover(sessions) == []  # declined: marked done, not offered again


def test_stream_killed_mid_dictation_keeps_every_committed_word_in_its_journal(tmp_path: Path, speech: Path) -> None:
    if "--journal" not in run_dictate("stream", "--help").stdout:
        pytest.xfail("`dictate stream` has no --journal yet (specified to owner D in docs/reliability.md)")
    journal, events = tmp_path / "session.jsonl", tmp_path / "events.jsonl"
    stream = subprocess.Popen(
        [sys.executable, "-m", "dictate", "stream", "--input", str(speech), "--realtime",
         "--events", str(events), "--journal", str(journal)],
        env=dictate_env(), cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_words(journal, WORDS_BEFORE_KILL, stream)
        kill(stream)
    finally:
        if stream.poll() is None:
            stream.kill()
    committed = committed_in_events(events)
    journaled = [word.text for word in read_journal(journal).words]
    assert len(journaled) >= WORDS_BEFORE_KILL
    assert journaled[: len(committed)] == committed  # every word the events log showed as committed
    assert sessions_to_recover(tmp_path) == [journal]


def test_ctrl_c_writes_the_transcript_of_a_stream_started_with_it_ignored(tmp_path: Path, speech: Path) -> None:
    """A script's `dictate stream ... &` starts the stream with SIGINT ignored; `kill -INT` still ends it cleanly."""
    journal, output = tmp_path / "session.jsonl", tmp_path / "transcript.txt"
    stream = subprocess.Popen(
        [sys.executable, "-m", "dictate", "stream", "--input", str(speech), "--realtime", "--journal", str(journal),
         "-o", str(output)],
        env=dictate_env(), cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # what a shell without job control does
    try:
        wait_for_words(journal, WORDS_BEFORE_KILL, stream)
        stream.send_signal(signal.SIGINT)
        _, errors = stream.communicate(timeout=60)
    finally:
        if stream.poll() is None:
            stream.kill()
    assert stream.returncode == 0, errors
    journaled = re.findall(r"[\w']+", "".join(word.text for word in read_journal(journal).words))
    written = re.findall(r"[\w']+", output.read_text(encoding="utf-8"))
    assert len(journaled) >= WORDS_BEFORE_KILL
    assert written[: len(journaled)] == journaled  # every committed word is in the transcript
