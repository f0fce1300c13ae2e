"""The streaming engine in a worker QObject on its own QThread; its callbacks become Qt signals."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from dictate.asr.runtime import resolve_device
from dictate.audio.capture import AudioSource
from dictate.streaming.engine import EngineOptions, StreamingEngine


class EngineWorker(QObject):
    """Runs `StreamingEngine.run()` (blocking) in the thread it was moved to.

    `event` is emitted from the engine's thread; Qt queues it to receivers in the UI
    thread. `stop`, `pause`, `resume` and `set_source` are called from the UI thread
    and go straight to the engine, which is thread-safe for them.
    """

    event = Signal(object)  # one dictate.streaming.events.Event
    ready = Signal(str)  # the model is loaded; the compute device it runs on ("CPU" or "CUDA")
    failed = Signal(str)  # the engine could not start or crashed
    finished = Signal()  # run() returned; the transcript's tail has been flushed

    def __init__(self, options: EngineOptions, source: AudioSource,
                 on_audio: Callable[[np.ndarray, float], None] | None = None) -> None:
        """`on_audio`: called on the engine's thread with every block it hears (the session audio recorder)."""
        super().__init__()
        self._options = options
        self._source = source
        self._on_audio = on_audio
        self._lock = threading.Lock()
        self._engine: StreamingEngine | None = None
        self._stopped = False

    @Slot()
    def run(self) -> None:
        """Build the engine (loads the model) and run it until stopped or the source ends."""
        try:
            engine = StreamingEngine(self._options, source=self._source, on_event=self.event.emit,
                                     on_audio=self._on_audio)
            self.ready.emit(resolve_device(self._options.device).upper())
            with self._lock:
                self._engine = engine
                stopped = self._stopped
            if not stopped:
                engine.run()
        except Exception as error:  # noqa: BLE001 - any failure is shown to the user, not lost in a thread
            self.failed.emit(f"{type(error).__name__}: {error}")
        finally:
            self.finished.emit()

    def stop(self) -> None:
        """Ask the engine to finish the tail and return (safe before the engine exists)."""
        with self._lock:
            self._stopped = True
            engine = self._engine
        if engine is not None:
            engine.stop()

    def pause(self) -> None:
        engine = self._current()
        if engine is not None:
            engine.pause()

    def resume(self, preroll_s: float = 0.0) -> None:
        """Listen again, from `preroll_s` seconds before now (see `StreamingEngine.resume`)."""
        engine = self._current()
        if engine is not None:
            engine.resume(preroll_s)

    def set_source(self, source: AudioSource) -> None:
        """Switch the input; before the engine exists, it simply starts with the new one."""
        with self._lock:
            engine = self._engine
            self._source = source
        if engine is not None:
            engine.set_source(source)

    def _current(self) -> StreamingEngine | None:
        with self._lock:
            return self._engine

