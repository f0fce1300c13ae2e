"""Autosave of the current session into the transcript journal, and recovery after a crash.

The journal holds the engine's committed words and what the text stage made of
them; user edits are journaled as `edited` markers carrying the edited text, so
recovery gives the text as the user last saw it: the newest edit plus the text
committed after it. The session's audio is recorded beside its journal
(dictate.transcript.session_audio), kept as long as `retention` says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dictate.transcript.journal import (
    EDIT_MARKER,
    TEXT_MARKER,
    Journal,
    default_sessions_dir,
    new_journal_path,
    read_journal,
    sessions_to_recover,
)
from dictate.transcript.session_audio import (
    AudioRetention,
    SessionAudioError,
    SessionAudioWriter,
    audio_path_for,
    expire_audio,
    find_session_audio,
)
from dictate.transcript.types import Word

AudioSink = Callable[[np.ndarray, float], None]  # (samples, seconds from the recording's start)

DROP_MARKER = "audio_dropped"


class SessionStore:
    """Owns the open journal (at most one). Write failures raise JournalWriteError with a message to show."""

    def __init__(self, folder: Path | None = None, retention: AudioRetention = AudioRetention()) -> None:
        self.folder = default_sessions_dir() if folder is None else folder
        self.retention = retention  # how long session audio is kept (the window sets it from its settings)
        self.audio_error = ""  # why the session's audio stopped being recorded ("" while all is well)
        self._journal: Journal | None = None
        self._audio: SessionAudioWriter | None = None

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

    @property
    def audio_path(self) -> Path | None:
        """The file the session's audio is being recorded to, if it is."""
        return self._audio.path if self._audio is not None else None

    def session_audio(self) -> Path | None:
        """The current session's audio file (being recorded, or kept from before a restore), if it has one."""
        return find_session_audio(self._journal.path) if self._journal is not None else None

    def expire_audio(self) -> list[Path]:
        """Delete the session audio the retention no longer keeps (at start-up, and when it changes)."""
        if not self.folder.is_dir():
            return []
        try:
            return expire_audio(self.folder, self.retention, recording=self.audio_path)
        except SessionAudioError as error:
            self.audio_error = str(error)
            return []

    def begin(self) -> None:
        """Open a journal for the session unless one is open already."""
        if self._journal is None:
            self._journal = Journal.open(new_journal_path(self.folder))

    def audio_sink(self, offset: float) -> AudioSink | None:
        """What the engine calls, from its own thread, with each block it hears; `offset`: the session time at the
        recording's start. The session's audio file is opened with its first recording (an edit made before any
        dictation records nothing). A write that fails stops the recording of audio (`audio_error`), never
        dictation."""
        if self._audio is None and self._journal is not None and self.retention.records:
            try:
                self._audio = SessionAudioWriter(audio_path_for(self._journal.path))
                self.audio_error = ""
            except SessionAudioError as error:
                self.audio_error = str(error)
        writer = self._audio
        if writer is None:
            return None

        def sink(samples: np.ndarray, at: float) -> None:
            if not self.audio_error:
                try:
                    writer.write(samples, offset + at)
                except SessionAudioError as error:
                    self.audio_error = str(error)

        return sink

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
        """Close the session's journal cleanly: nothing to recover; the file stays in the folder. Its audio is
        kept as FLAC, or deleted where the retention keeps it only while the session is open."""
        journal, self._journal = self._journal, None
        audio, self._audio = self._audio, None
        if journal is not None:
            journal.close(clean=True)
        if audio is not None:
            try:
                kept = audio.close()
                if self.retention.kind != "days":  # "session", or "never" chosen while it recorded
                    kept.unlink()
            except (SessionAudioError, OSError) as error:
                self.audio_error = str(error)

