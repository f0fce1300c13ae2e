"""Disk problems on real filesystems (small tmpfs mounts): exports to a read-only, full or vanished folder
fail with one clear sentence, the transcript stays intact in memory and in the journal, and a retry works.
The journal itself on a full disk raises a message to show and keeps the words until there is room."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dictate.transcript.exporters import ExportError, export_text, write_transcript
from dictate.transcript.journal import Journal, JournalWriteError, read_journal
from dictate.transcript.types import Segment, Transcript, TranscriptInfo, Word
from tests.reliability.conftest import one_line_error, remount_read_only, run_dictate

WORDS = tuple(Word(i * 0.5, i * 0.5 + 0.4, f" word{i}", 0.9) for i in range(40))
MANY_WORDS = tuple(Word(i * 0.5, i * 0.5 + 0.4, f" word{i}", 0.9) for i in range(400))
TRANSCRIPT = Transcript(segments=[Segment(0, 0.0, 20.0, "".join(w.text for w in WORDS), words=WORDS)],
                        info=TranscriptInfo(duration=20.0))


def test_export_failures_keep_the_transcript_and_a_retry_works(tmpfs, tmp_path: Path) -> None:
    expected = export_text(TRANSCRIPT, "srt")
    journal_path = tmp_path / "session.jsonl"
    with Journal.open(journal_path) as journal:
        journal.append_words(WORDS)
        read_only = tmpfs("ro", "size=64k")
        remount_read_only(read_only)
        full = tmpfs("full", "size=8k")
        (full / "filler").write_bytes(b"\0" * 8192)
        for target, reason in ((read_only / "talk.srt", "read-only"), (full / "talk.srt", "disk is full"),
                               (tmp_path / "unplugged-usb" / "talk.srt", "does not exist")):
            with pytest.raises(ExportError) as caught:
                write_transcript(TRANSCRIPT, target)
            message = str(caught.value)
            assert str(target) in message and reason in message and "\n" not in message
            assert not target.exists()
            assert export_text(TRANSCRIPT, "srt") == expected  # nothing lost in memory
            assert read_journal(journal_path).words == WORDS  # nor on disk
        (full / "filler").unlink()  # room again: the same export now works
        write_transcript(TRANSCRIPT, full / "talk.srt")
        assert (full / "talk.srt").read_text() == expected


def test_transcribe_to_a_read_only_folder_is_one_line_and_retry_works(tmpfs, jfk_wav: Path) -> None:
    folder = tmpfs("ro", "size=64k")
    remount_read_only(folder)
    line = one_line_error(run_dictate("transcribe", "--beam-size", "1", "-o", folder / "jfk.srt", jfk_wav))
    assert str(folder / "jfk.srt") in line and "read-only" in line
    writable = tmpfs("rw", "size=64k")
    result = run_dictate("transcribe", "--beam-size", "1", "-o", writable / "jfk.srt", jfk_wav)
    assert result.returncode == 0 and "ask not" in (writable / "jfk.srt").read_text()


def fill(path: Path) -> None:
    """Write zeros into `path` until the filesystem has no block left."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(descriptor, bytes(1024)):
            pass
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)


def test_journal_on_a_full_disk_warns_keeps_the_words_and_catches_up(tmpfs) -> None:
    folder = tmpfs("small", "size=128k")
    journal = Journal.open(folder / "session.jsonl")
    journal.append_words(MANY_WORDS[:5])
    filler = folder / "filler"
    fill(filler)
    pending = []  # records kept in memory after each append (the file's last page fills up first)
    for start in range(5, len(MANY_WORDS), 5):
        try:
            journal.append_words(MANY_WORDS[start : start + 5])
        except JournalWriteError as error:
            assert "the disk is full" in str(error) and "kept in memory" in str(error)
        pending.append(journal.pending_records)
    failing = pending[pending.index(1):]
    assert failing == list(range(1, len(failing) + 1)) and len(failing) >= 10  # every later record kept
    filler.unlink()
    journal.close()  # room again: every kept record is written, in order, then the clean end
    session = read_journal(folder / "session.jsonl")
    assert session.words == MANY_WORDS and session.clean_end
