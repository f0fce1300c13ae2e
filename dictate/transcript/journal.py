"""Autosave journal of a dictation session: append-only JSON lines, each record fsynced.

Records, one JSON object per line:
    {"type": "words", "time": t, "words": [{"start", "end", "text", "probability"}, ...],
     "text": {"delete": n, "insert": "..."}}   (optional: what the text stage made of them)
    {"type": "marker", "time": t, "kind": "...", "data": {...}}
    {"type": "end", "time": t, "clean": true}
(`time`: wall-clock seconds since the epoch.) The words are the raw engine words;
the text the user saw is rebuilt from them: each words record appends its words'
text, or applies its "text" edit (remove `delete` characters from the end, then
append `insert`); a "text" marker is such an edit on its own, and an "edited"
marker replaces the whole text with the user's. A crash can tear only the last
line; `read_journal` skips anything it cannot read, so it recovers every whole
record from any bytes. A journal without a clean end record is a session to
offer for recovery; once recovered, `Journal.open(path).close()` marks it done.
When the disk is full, `append_*` raises `JournalWriteError` and keeps the
records it could not write, retrying them (in order) on the next call.
"""

from __future__ import annotations

import errno
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from platformdirs import user_data_dir

from dictate.transcript.types import Word

DATA_DIR_ENV = "DICTATE_DATA_DIR"  # overrides the user data folder (sessions go in its `sessions/`)
SESSIONS_FOLDER = "sessions"
JOURNAL_SUFFIX = ".jsonl"
JOURNAL_FILE_MODE = 0o600  # the user's own words: readable by them only
EDIT_MARKER = "edited"  # data: {"text": the whole text as the user edited it}
TEXT_MARKER = "text"  # data: {"delete": n, "insert": "..."}, a text-stage edit not tied to new words


class JournalWriteError(Exception):
    """The journal could not be written; the message says why in one sentence the GUI can show."""


@dataclass(frozen=True)
class Marker:
    """An event recorded between words (audio dropped, an edit, ...)."""

    kind: str
    data: Mapping[str, Any]
    word_count: int  # words journaled before this marker
    time: float  # wall-clock seconds since the epoch when it was written


@dataclass(frozen=True)
class RecoveredSession:
    """What a journal holds: its words, its markers and whether the session ended cleanly."""

    words: tuple[Word, ...] = ()
    markers: tuple[Marker, ...] = ()
    clean_end: bool = False
    shown_text: str = ""  # the text as the user last saw it: edits and the text stage's output applied

    @property
    def text(self) -> str:
        """The raw words' text: what was said."""
        return "".join(word.text for word in self.words).strip()


def default_sessions_dir() -> Path:
    """`$DICTATE_DATA_DIR/sessions`, or `sessions/` in the platform's user data folder for dictate."""
    root = os.environ.get(DATA_DIR_ENV) or user_data_dir("dictate", appauthor=False)
    return Path(root) / SESSIONS_FOLDER


def new_journal_path(folder: Path | None = None) -> Path:
    """A fresh journal file name in `folder` (default: `default_sessions_dir()`), named by the local time."""
    folder = default_sessions_dir() if folder is None else folder
    return folder / f"session-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}{JOURNAL_SUFFIX}"


def _describe(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if error.errno == errno.EROFS:
        return "the disk is read-only"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "there is no permission to write there"
    return error.strerror or str(error)


def _encode(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class Journal:
    """An open journal; one writer. Use `Journal.open(path)`; a `with` block closes it (clean unless it raised)."""

    def __init__(self, path: Path, descriptor: int, torn: bool) -> None:
        self.path = path
        self._descriptor: int | None = descriptor
        self._torn = torn  # the file may end inside a record: start the next one on a new line
        self._pending: list[bytes] = []  # encoded records not yet written, oldest first

    @classmethod
    def open(cls, path: str | Path) -> Journal:
        """Open (creating it and its folder if needed) the journal at `path` for appending."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, JOURNAL_FILE_MODE)
        except OSError as error:
            raise JournalWriteError(f"Cannot open the autosave journal {path}: {_describe(error)}.") from error
        return cls(path, descriptor, torn=not _ends_with_newline(path))

    @property
    def pending_records(self) -> int:
        """Records kept in memory because writing them failed; they are retried on the next append."""
        return len(self._pending)

    def append_words(self, words: Sequence[Word], text: tuple[int, str] | None = None) -> None:
        """Journal these words as one record, on disk (fsynced) when this returns. Raises JournalWriteError.

        `text`: (delete, insert), what the text stage made of them; None: their own text."""
        record: dict[str, Any] = {
            "type": "words",
            "time": time.time(),
            "words": [{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability} for w in words],
        }
        if text is not None:
            record["text"] = {"delete": text[0], "insert": text[1]}
        self._append(record)

    def append_marker(self, kind: str, **data: Any) -> None:
        """Journal an event, e.g. `append_marker("audio_dropped", start=12.5, seconds=0.4)`. JSON-able data only."""
        self._append({"type": "marker", "time": time.time(), "kind": kind, "data": data})

    def close(self, clean: bool = True) -> None:
        """Write the end record (a clean end means: nothing to recover) and close the file."""
        if self._descriptor is None:
            return
        try:
            self._append({"type": "end", "time": time.time(), "clean": clean})
        finally:
            os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close(clean=kind is None)

    def _append(self, record: dict[str, Any]) -> None:
        if self._descriptor is None:
            raise ValueError(f"the journal {self.path} is closed")
        self._pending.append(_encode(record))
        try:
            self._flush(self._descriptor)
        except OSError as error:
            raise JournalWriteError(
                f"Autosave to {self.path} failed ({_describe(error)}); "
                f"{len(self._pending)} unsaved record(s) are kept in memory and retried."
            ) from error

    def _flush(self, descriptor: int) -> None:
        while self._pending:
            data = (b"\n" if self._torn else b"") + self._pending[0]
            self._torn = True  # until every byte of the record is out
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            self._torn = False
            self._pending.pop(0)
            _fsync(descriptor)


def _fsync(descriptor: int) -> None:
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno != errno.EINVAL:  # EINVAL: a file that cannot be synced (a device); nothing to wait for
            raise


def _ends_with_newline(path: Path) -> bool:
    """Whether a journal file is empty or ends with a whole record."""
    try:
        with path.open("rb") as handle:
            if handle.seek(0, os.SEEK_END) == 0:
                return True
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
    except OSError:
        return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _word(item: Any) -> Word | None:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return None
    start, end, probability = (_number(item.get(key)) for key in ("start", "end", "probability"))
    if start is None or end is None or probability is None:
        return None
    return Word(start=start, end=end, text=item["text"], probability=probability)


def _text_edit(data: Any) -> tuple[int, str] | None:
    if not isinstance(data, dict):
        return None
    delete, insert = data.get("delete"), data.get("insert")
    if isinstance(delete, int) and not isinstance(delete, bool) and delete >= 0 and isinstance(insert, str):
        return delete, insert
    return None


@dataclass
class _Reader:
    words: list[Word] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    clean_end: bool = False
    shown: str = ""

    def _edit(self, delete: int, insert: str) -> None:
        self.shown = self.shown[: max(len(self.shown) - delete, 0)] + insert

    def take(self, record: Any) -> None:
        """Add one decoded record if it is well-formed; ignore it otherwise."""
        if not isinstance(record, dict):
            return
        stamp = _number(record.get("time"))
        stamp = stamp if stamp is not None and math.isfinite(stamp) else 0.0
        kind = record.get("type")
        if kind == "words" and isinstance(record.get("words"), list):
            words = [_word(item) for item in record["words"]]
            if all(word is not None for word in words):
                self.words.extend(words)
                edit = _text_edit(record.get("text"))
                self._edit(*(edit or (0, "".join(word.text for word in words))))
                self.clean_end = False
        elif kind == "marker" and isinstance(record.get("kind"), str) and isinstance(record.get("data"), dict):
            data = record["data"]
            self.markers.append(Marker(record["kind"], data, len(self.words), stamp))
            if record["kind"] == EDIT_MARKER and isinstance(data.get("text"), str):
                self.shown = data["text"]
            elif record["kind"] == TEXT_MARKER and (edit := _text_edit(data)) is not None:
                self._edit(*edit)
            self.clean_end = False
        elif kind == "end" and isinstance(record.get("clean"), bool):
            self.clean_end = record["clean"]


def read_journal(path: str | Path) -> RecoveredSession:
    """Every whole, well-formed record of the journal at `path`; torn or garbled lines are skipped."""
    reader = _Reader()
    for line in Path(path).read_bytes().split(b"\n"):
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            continue
        reader.take(record)
    return RecoveredSession(tuple(reader.words), tuple(reader.markers), reader.clean_end, reader.shown)


def sessions_to_recover(folder: Path | None = None) -> list[Path]:
    """Journals in `folder` (default: `default_sessions_dir()`) that hold records but no clean end, oldest first."""
    folder = default_sessions_dir() if folder is None else Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{JOURNAL_SUFFIX}")):
        try:
            session = read_journal(path)
        except OSError:
            continue
        if not session.clean_end and (session.words or session.markers):
            found.append(path)
    return found
