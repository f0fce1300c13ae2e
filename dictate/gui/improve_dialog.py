"""Improve Transcript: the session's audio transcribed again offline (beam 5, the best prepared model) in a
worker thread, with progress; its changes to the shown text are then offered one by one or all at once."""

from __future__ import annotations

from pathlib import Path

import soundfile
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dictate.gui.worker_threads import CancellableWorker
from dictate.modelstore.store import list_models
from dictate.transcript.improve import Change, suggest_changes

IMPROVE_BEAM = 5


class ImproveCancelled(Exception):
    """The dialog was closed while the pass ran."""


def best_prepared_model(language: str | None, multilingual: bool = False) -> str | None:
    """The largest prepared model that can transcribe `language` (None: any; English-only models need "en"),
    or only among the multilingual ones."""
    usable = [status for status in list_models() if status.prepared_variants
              and (status.entry.multilingual or (language in (None, "en") and not multilingual))]
    return max(usable, key=lambda status: status.prepared_bytes).entry.name if usable else None


class ImproveWorker(CancellableWorker):
    """Transcribes the session's audio offline; `progress` is the share done, `improved` the text."""

    progress = Signal(float)
    improved = Signal(str, str)  # the text, the model that wrote it
    failed = Signal(str)

    def __init__(self, audio: Path, model: str, language: str | None) -> None:
        super().__init__()
        self.audio, self.model, self.language = audio, model, language

    @Slot()
    def run(self) -> None:
        from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe

        try:
            duration = soundfile.info(str(self.audio)).duration or 1.0

            def progress(seconds: float) -> None:
                if self.cancel.is_set():
                    raise ImproveCancelled
                self.progress.emit(min(seconds / duration, 1.0))

            options = TranscribeOptions(beam_size=IMPROVE_BEAM, language=self.language)
            segments, _ = transcribe(self.audio, Recognizer.load(self.model), options, progress=progress)
            text = "".join(segment.text for segment in segments)
            self.improved.emit(text, self.model)
        except ImproveCancelled:
            pass
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.failed.emit(f"{type(error).__name__}: {error}")
        finally:
            self.finished.emit()


class ImproveDialog(QDialog):
    """Progress while the pass runs, then its changes: each a checkable line; the user's own edits unchecked."""

    apply_requested = Signal(list)  # the Changes to apply

    def __init__(self, shown: str, committed: str, parent: QWidget | None = None) -> None:
        """`shown`: the transcript's text now; `committed`: the text dictation wrote (tells the user's edits)."""
        super().__init__(parent)
        self._shown, self._committed = shown, committed
        self.setWindowTitle("Improve transcript")
        self.label = QLabel("Transcribing the session's audio again, more slowly and more carefully…", wordWrap=True)
        self.progress_bar = QProgressBar(minimum=0, maximum=100)
        self.changes_list = QListWidget()
        self.changes_list.hide()
        self.accept_all_button = QPushButton("Accept All")
        self.accept_checked_button = QPushButton("Accept Checked")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.accept_all_button, self.accept_checked_button):
            button.setEnabled(False)
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.accept_all_button.clicked.connect(self.accept_all)
        self.accept_checked_button.clicked.connect(self.accept_checked)
        layout = QVBoxLayout(self)
        for widget in (self.label, self.progress_bar, self.changes_list, buttons):
            layout.addWidget(widget)
        self.resize(560, 420)
        self._changes: list[Change] = []

    @Slot(float)
    def set_progress(self, share: float) -> None:
        self.progress_bar.setValue(round(share * 100))

    @Slot(str, str)
    def show_improved(self, improved: str, model: str) -> None:
        """The pass is done: list its changes (those touching the user's edits unchecked)."""
        changes = suggest_changes(self._shown, self._committed, improved)
        self._changes = changes
        self.progress_bar.hide()
        edits = sum(change.touches_edit for change in changes)
        self.label.setText(f"{len(changes)} change(s) suggested by {model} with beam search."
                           + (f" {edits} touch words you edited: they are unchecked, and Accept All leaves them."
                              if edits else "") if changes else f"{model} suggests no change.")
        for change in changes:
            item = QListWidgetItem(change.describe() + ("   (your edit)" if change.touches_edit else ""))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if change.touches_edit else Qt.CheckState.Checked)
            self.changes_list.addItem(item)
        self.changes_list.show()
        for button in (self.accept_all_button, self.accept_checked_button):
            button.setEnabled(bool(changes))

    @Slot(str)
    def show_failure(self, message: str) -> None:
        self.progress_bar.hide()
        self.label.setText(f"The transcript could not be improved: {message}")

    @Slot()
    def accept_all(self) -> None:
        """Every change except those that would replace the user's own words."""
        self._apply([change for change in self._changes if not change.touches_edit])

    @Slot()
    def accept_checked(self) -> None:
        self._apply([change for row, change in enumerate(self._changes)
                     if self.changes_list.item(row).checkState() is Qt.CheckState.Checked])

    def _apply(self, changes: list[Change]) -> None:
        self.apply_requested.emit(changes)
        self.accept()
