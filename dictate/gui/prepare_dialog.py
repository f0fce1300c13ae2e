"""Model preparation (CTranslate2 weights -> ONNX) in a worker thread, with a progress dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from dictate.gui.worker_threads import CancellableWorker
from dictate.modelstore.errors import PreparationCancelled
from dictate.modelstore.prepare import PrepareProgress, ensure_prepared


class PrepareWorker(CancellableWorker):
    """Runs `ensure_prepared(name)` in its thread; progress and the outcome arrive as signals. `stop()` cancels
    at the next progress step; `cancelled` follows."""

    progress = Signal(object)  # PrepareProgress
    prepared = Signal(str, str)  # model name, prepared folder
    failed = Signal(str, str)  # model name, message
    cancelled = Signal(str)  # model name: `stop` ended it; the cache is as it was

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    @Slot()
    def run(self) -> None:
        try:
            folder = ensure_prepared(self.name, progress=self.progress.emit, cancel=self.cancel)
        except PreparationCancelled:
            self.cancelled.emit(self.name)
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.failed.emit(self.name, str(error))
        else:
            self.prepared.emit(self.name, str(Path(folder)))
        finally:
            self.finished.emit()


class PrepareDialog(QProgressDialog):
    """Shows one model's preparation; closes itself when the worker is done.

    The model is needed to dictate, so the dialog has no Cancel button; the window behind it stays
    responsive, and closing the window cancels the preparation.
    """

    def __init__(self, worker: PrepareWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preparing model")
        self.setLabelText(f"Preparing the speech model “{worker.name}” for first use…")
        self.setCancelButton(None)
        self.setRange(0, 0)
        self.setMinimumDuration(0)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self._name = worker.name
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self.accept)

    @Slot(object)
    def _on_progress(self, progress: PrepareProgress) -> None:
        self.setLabelText(f"Preparing “{self._name}”: {progress.stage}…")
        if progress.total > 0:
            self.setRange(0, progress.total)
            self.setValue(progress.done)
        else:
            self.setRange(0, 0)

