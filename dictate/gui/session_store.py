"""Autosave of the current session into the transcript journal, and recovery after a crash.

The journal holds the engine's committed words and what the text stage made of
them; user edits are journaled as `edited` markers carrying the edited text, so
recovery gives the text as the user last saw it: the newest edit plus the text
committed after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dictate.transcript.journal import (
    EDIT_MARKER,
    TEXT_MARKER,
    Journal,
    default_sessions_dir,
    new_journal_path,
    read_journal,
    sessions_to_recover,
)
from dictate.transcript.types import Word

DROP_MARKER = "audio_dropped"


class SessionStore:
    """Owns the open journal (at most one). Write failures raise JournalWriteError with a message to show."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = default_sessions_dir() if folder is None else folder
        self._journal: Journal | None = None

    @property
    def path(self) -> Path | None:
        """The current session's journal, if one is open."""
        return self._journal.path if self._journal is not None else None

    def recoverable(self) -> Path | None:
        """The newest journal a crash or kill left without a clean end, if any."""
        found = sessions_to_recover(self.folder)
        return found[-1] if found else None

    def restore(self, path: Path, *, accept: bool) -> tuple[tuple[Word, ...], str]:
        """The words and text of a crashed session. Accepted: it becomes the current session; else it is closed."""
        session = read_journal(path)
        text = session.shown_text.lstrip()
        journal = Journal.open(path)
        if accept:
            self.end()
            self._journal = journal
        else:
            journal.close(clean=True)
        return session.words, text

    def begin(self) -> None:
        """Open a journal for the session unless one is open already."""
        if self._journal is None:
            self._journal = Journal.open(new_journal_path(self.folder))

    def append(self, words: Sequence[Word], text: tuple[int, str] | None = None) -> None:
        """Journal committed words; `text`: (delete, insert), what the text stage made of them, if not their text."""
        if self._journal is not None and words:
            self._journal.append_words(words, text)

    def record_text(self, delete: int, insert: str) -> None:
        """Journal a text-stage edit that came without new words (an end of utterance, the end of dictation)."""
        if self._journal is not None and (delete or insert):
            self._journal.append_marker(TEXT_MARKER, delete=delete, insert=insert)

    def record_edit(self, text: str) -> None:
        """Journal the user's edited text (the committed part of the view)."""
        if self._journal is not None:
            self._journal.append_marker(EDIT_MARKER, text=text)

    def record_drop(self, start: float, seconds: float) -> None:
        """Journal audio the engine lost (session time)."""
        if self._journal is not None:
            self._journal.append_marker(DROP_MARKER, start=start, seconds=seconds)

    def end(self) -> None:
        """Close the session's journal cleanly: nothing to recover; the file stays in the folder."""
        journal, self._journal = self._journal, None
        if journal is not None:
            journal.close(clean=True)

