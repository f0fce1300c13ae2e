"""Python's cyclic garbage collector, run on the GUI thread only.

A Qt object caught in a reference cycle is destroyed on whichever thread the collector happens to run, and
Qt aborts the process when that is a worker thread (the engine's: seen once in the GUI tests). So while the
app runs, automatic collection is off and a timer on the GUI thread collects whenever the collector's own
thresholds say it would have (pyqtgraph's GarbageCollector does the same).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500  # how often the GUI thread looks at the allocation counts


class GuiThreadCollector(QObject):
    """Turns automatic collection off until `stop`; collects from a timer on the thread it was made on."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)
        gc.disable()

    def collect_due(self) -> None:
        """Collect each generation whose count has passed its threshold, as automatic collection would."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in range(3):
            if counts[generation] <= thresholds[generation]:
                break
            gc.collect(generation)

    def stop(self) -> None:
        """Automatic collection as it was before."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
