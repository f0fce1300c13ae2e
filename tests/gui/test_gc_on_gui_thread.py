"""Garbage in reference cycles is collected on the GUI thread, never on a worker thread."""

from __future__ import annotations

import gc
import threading

from dictate.gui.gc_on_gui_thread import GuiThreadCollector


class Cyclic:
    """Part of a reference cycle; records the thread that collects it."""

    def __init__(self, collected_on: list[str]) -> None:
        self.me = self
        self._collected_on = collected_on

    def __del__(self) -> None:
        self._collected_on.append(threading.current_thread().name)


def allocate_in_a_worker() -> list[list[int]]:
    """Enough containers, kept, that automatic collection would run on the worker, were it on."""
    kept: list[list[int]] = []
    worker = threading.Thread(target=lambda: kept.extend([index] for index in range(5 * gc.get_threshold()[0])),
                              name="worker")
    worker.start()
    worker.join()
    return kept


def test_a_cycle_is_collected_on_the_gui_thread_while_a_worker_allocates(qtbot) -> None:
    collector = GuiThreadCollector(interval_ms=20)
    collected_on: list[str] = []
    try:
        assert not gc.isenabled()
        Cyclic(collected_on)
        allocated = allocate_in_a_worker()
        assert collected_on == [] and allocated  # the worker did not collect it
        qtbot.waitUntil(lambda: collected_on == [threading.current_thread().name], timeout=2000)
    finally:
        collector.stop()
    assert gc.isenabled()
