"""Autosave journal: round trip, crash recovery, torn records, arbitrary bytes, a full disk (/dev/full)
and a write limit that is lifted again (the kept records are written, in order, nothing lost)."""

from __future__ import annotations

import contextlib
import json
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dictate.transcript.journal import (
    DATA_DIR_ENV,
    Journal,
    JournalWriteError,
    default_sessions_dir,
    new_journal_path,
    read_journal,
    sessions_to_recover,
)
from dictate.transcript.types import Word

# JFK's words as a streaming session commits them, in three batches
BATCHES = [
    (Word(0.0, 0.3, " And", 0.93), Word(0.3, 0.5, " so", 0.99), Word(0.5, 0.7, " my", 0.98)),
    (Word(0.7, 1.1, " fellow", 0.97), Word(1.1, 2.0, " Americans,", 0.88)),
    (Word(3.0, 3.3, " ask", 0.95), Word(3.3, 3.6, " not", 0.99), Word(3.6, 4.0, " «what»", 0.5)),
]
ALL_WORDS = tuple(word for batch in BATCHES for word in batch)


def _write_session(path: Path, clean: bool | None) -> None:
    """Journal the batches with a marker after the first; `clean=None` leaves it as a crash would."""
    journal = Journal.open(path)
    journal.append_words(BATCHES[0])
    journal.append_marker("audio_dropped", start=0.7, seconds=0.25)
    for batch in BATCHES[1:]:
        journal.append_words(batch)
    if clean is not None:
        journal.close(clean=clean)


def test_round_trip_with_clean_end(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    _write_session(path, clean=True)
    session = read_journal(path)
    assert session.words == ALL_WORDS
    assert session.text == "And so my fellow Americans, ask not «what»"
    assert [(m.kind, dict(m.data), m.word_count) for m in session.markers] == [
        ("audio_dropped", {"start": 0.7, "seconds": 0.25}, 3)
    ]
    assert session.markers[0].time > 1e9
    assert session.clean_end
    assert len(path.read_bytes().splitlines()) == 5  # one record per call
    assert sessions_to_recover(tmp_path) == []


def test_crashed_and_unclean_sessions_are_offered_for_recovery(tmp_path: Path) -> None:
    _write_session(tmp_path / "a-crashed.jsonl", clean=None)
    _write_session(tmp_path / "b-clean.jsonl", clean=True)
    _write_session(tmp_path / "c-error.jsonl", clean=False)
    Journal.open(tmp_path / "d-nothing-said.jsonl").close(clean=False)  # no words: nothing to recover
    (tmp_path / "notes.txt").write_text("not a journal")
    assert [p.name for p in sessions_to_recover(tmp_path)] == ["a-crashed.jsonl", "c-error.jsonl"]
    assert read_journal(tmp_path / "a-crashed.jsonl").words == ALL_WORDS
    Journal.open(tmp_path / "a-crashed.jsonl").close()  # recovered: mark it done
    assert [p.name for p in sessions_to_recover(tmp_path)] == ["c-error.jsonl"]


def test_with_block_ends_unclean_on_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    with contextlib.suppress(RuntimeError), Journal.open(path) as journal:
        journal.append_words(BATCHES[0])
        raise RuntimeError("the engine died")
    assert not read_journal(path).clean_end


def test_every_torn_last_record_is_ignored_and_the_journal_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    _write_session(path, clean=None)
    whole = path.read_bytes()
    last_record_start = whole.rstrip(b"\n").rfind(b"\n") + 1
    for cut in range(last_record_start + 1, len(whole) - 1):
        path.write_bytes(whole[:cut])
        assert read_journal(path).words == BATCHES[0] + BATCHES[1]
    # a journal re-opened after the crash starts its next record on a fresh line
    with Journal.open(path) as journal:
        journal.append_words(BATCHES[2])
    session = read_journal(path)
    assert session.words == ALL_WORDS and session.clean_end


@settings(max_examples=300, deadline=None)
@given(
    garbage=st.binary(max_size=400)
    | st.sampled_from(
        [
            b"[" * 100_000,
            b'{"type":"words","words":[{"start":1e999999}]}',
            b'{"type":"words","words":[{"start":' + b"9" * 5000 + b"}]}",
        ]
    )
)
def test_any_bytes_after_the_records_never_crash_the_reader(
    tmp_path_factory: pytest.TempPathFactory, garbage: bytes
) -> None:
    path = tmp_path_factory.mktemp("journal") / "session.jsonl"
    _write_session(path, clean=None)
    path.write_bytes(path.read_bytes() + garbage)
    session = read_journal(path)
    assert session.words[: len(ALL_WORDS)] == ALL_WORDS
    path.write_bytes(garbage)
    read_journal(path)


def test_full_disk_raises_a_showable_error_and_keeps_the_records() -> None:
    journal = Journal.open(Path("/dev/full"))  # every write there fails with ENOSPC
    with pytest.raises(JournalWriteError) as caught:
        journal.append_words(BATCHES[0])
    assert "/dev/full" in str(caught.value) and "disk is full" in str(caught.value)
    assert journal.pending_records == 1
    with pytest.raises(JournalWriteError):
        journal.append_marker("edit", text="fellow")
    assert journal.pending_records == 2
    with pytest.raises(JournalWriteError):
        journal.close()


@contextlib.contextmanager
def _file_size_limit(limit_bytes: int) -> Iterator[None]:
    """Writes past `limit_bytes` in any file fail (EFBIG) until the block ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)


def test_records_kept_during_a_write_failure_are_written_in_order_later(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    journal = Journal.open(path)
    journal.append_words(BATCHES[0])
    size = path.stat().st_size
    with _file_size_limit(size + 40):  # the next record fits only in part: it is torn on disk
        with pytest.raises(JournalWriteError, match="kept in memory"):
            journal.append_words(BATCHES[1])
        with pytest.raises(JournalWriteError):
            journal.append_marker("edit", index=3)
        assert journal.pending_records == 2
        assert read_journal(path).words == BATCHES[0]
    journal.append_words(BATCHES[2])  # room again: the kept records go first
    assert journal.pending_records == 0
    journal.close()
    session = read_journal(path)
    assert session.words == ALL_WORDS
    assert [m.word_count for m in session.markers] == [5]
    assert session.clean_end
    lines = path.read_bytes().split(b"\n")
    assert sum(1 for line in lines if line.startswith(b"{") and not _parses(line)) == 1  # the torn fragment


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def test_cannot_open_in_a_path_under_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(JournalWriteError, match="Cannot open the autosave journal"):
        Journal.open(blocker / "session.jsonl")


def test_default_folder_and_its_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert default_sessions_dir().parts[-2:] == ("dictate", "sessions")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert default_sessions_dir() == tmp_path / "sessions"
    path = new_journal_path()
    assert path.parent == tmp_path / "sessions" and path.suffix == ".jsonl"
    _write_session(path, clean=None)
    assert sessions_to_recover() == [path]


def test_the_text_as_shown_is_rebuilt_from_words_stage_edits_and_user_edits(tmp_path) -> None:
    from dictate.transcript.journal import EDIT_MARKER, TEXT_MARKER

    path = tmp_path / "session.jsonl"
    with Journal.open(path) as journal:
        journal.append_words([Word(0.0, 0.4, " Hello"), Word(0.4, 0.8, " world.")])  # the words' own text
        journal.append_words([Word(2.0, 2.5, " New"), Word(2.5, 3.0, " paragraph.")], text=(0, ""))  # held
        journal.append_marker(TEXT_MARKER, delete=0, insert="\n\n")  # the command, at the end of utterance
        journal.append_words([Word(4.0, 4.5, " Next")], text=(0, "Next"))
        journal.append_marker(EDIT_MARKER, text="Hello world!\n\nNext")
        journal.append_words([Word(5.0, 5.5, " line.")], text=(0, " line."))
        journal.append_marker(TEXT_MARKER, delete=6, insert="")  # "scratch that"
    session = read_journal(path)
    assert session.text == "Hello world. New paragraph. Next line."  # what was said
    assert session.shown_text == "Hello world!\n\nNext"
