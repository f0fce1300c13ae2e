"""Worker threads with one owner each: started, told to stop, and joined before anything is deleted.

A QThread destroyed while it runs aborts the process, and a widget it reports to may be deleted
before it ends. So no QThread here has a Qt parent: each is kept alive by this module until its
`finished` signal, whoever deleted the window that started it, and `join_all` ends every one that
is left before the application exits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from PySide6.QtCore import QDeadlineTimer, QObject, QThread, Signal, Slot
from shiboken6 import isValid

JOIN_TIMEOUT_MS = 120_000  # at exit: the longest uninterruptible step (a model load, one conversion step)


@dataclass(eq=False)
class _Running:
    """A started worker and its thread, kept referenced until the thread has finished."""

    worker: QObject  # has run(), stop() and a `finished` signal
    thread: QThread

    def alive(self) -> bool:
        return isValid(self.thread) and not self.thread.isFinished()


_running: list[_Running] = []  # every started thread, pruned once finished: none is destroyed while it runs


class CancellableWorker(QObject):
    """A worker whose `stop()` (thread-safe) sets `cancel`, which its `run()` checks at each step."""

    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.cancel = threading.Event()

    def stop(self) -> None:
        self.cancel.set()


class WorkerThreads(QObject):
    """The worker threads one window owns. `idle` is emitted when the last of them has finished."""

    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._own: list[_Running] = []

    def start(self, worker: QObject) -> QThread:
        """Move `worker` (run, stop, finished) to a new thread and start it.

        finished -> quit -> deleteLater for both, so neither outlives its work.
        """
        thread = QThread()
        worker.moveToThread(thread)
        entry = _Running(worker, thread)
        _running[:] = [other for other in _running if other.alive()]
        _running.append(entry)
        self._own.append(entry)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        worker.finished.connect(worker.deleteLater)
        thread.finished.connect(self._on_thread_finished)  # queued to this owner's thread; dropped if it is gone
        thread.finished.connect(thread.deleteLater)
        thread.start()
        return thread

    def busy(self) -> bool:
        """Whether any of this owner's threads is still running."""
        return bool(self._own)

    def stop_all(self) -> None:
        """Tell every running worker to stop; `idle` follows once all have finished."""
        for entry in list(self._own):
            entry.worker.stop()

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        self._own = [entry for entry in self._own if entry.thread is not thread]
        if not self._own:
            self.idle.emit()


def running_threads() -> list[QThread]:
    """Worker threads started here that have not finished yet (tests check none is left over)."""
    return [entry.thread for entry in _running if entry.alive()]


def join_all(timeout_ms: int = JOIN_TIMEOUT_MS) -> bool:
    """Stop every worker still running and wait for its thread (at application exit); True if all ended."""
    deadline = QDeadlineTimer(timeout_ms)
    left = [entry for entry in _running if entry.alive()]
    for entry in left:
        entry.worker.stop()
    ended = all(entry.thread.wait(deadline) for entry in left)
    if ended:
        _running.clear()
    return ended
