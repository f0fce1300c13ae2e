"""Unattended runs for demos and packaging checks: start dictating at once, screenshot mid-dictation."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot

from dictate.gui.main_window import MainWindow

SCREENSHOT_MIN_WORDS = 14  # committed words on screen before the screenshot is taken


class DemoDriver(QObject):
    """Presses Record as soon as the model is ready; optionally saves a screenshot and quits."""

    def __init__(self, window: MainWindow, *, autostart: bool, screenshot: Path | None) -> None:
        super().__init__(window)
        self._window = window
        self._screenshot = screenshot
        if autostart:
            window.model_ready.connect(self._start)
            self._start()
        if screenshot is not None:
            window.captions.updated.connect(self._maybe_capture)
            window.recording_finished.connect(self._capture)

    @Slot()
    def _start(self) -> None:
        self._window.start_recording()

    @Slot()
    def _maybe_capture(self) -> None:
        tentative = self._window.captions.tentative_text().strip()
        if len(self._window.captions.committed_words) >= SCREENSHOT_MIN_WORDS and tentative:
            self._capture()

    @Slot()
    def _capture(self) -> None:
        """Grab the window as the display server shows it, save it, and close."""
        if self._screenshot is None:
            return
        path, self._screenshot = self._screenshot, None
        self._window.repaint()  # paint the newest words into the backing store before grabbing it
        screen = self._window.screen()
        image = screen.grabWindow(self._window.winId()) if screen is not None else self._window.grab()
        if image.isNull():
            image = self._window.grab()
        image.save(str(path))
        print(f"screenshot saved to {path}", flush=True)
        self._window.close()
