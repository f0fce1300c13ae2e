"""Entry point of the desktop app (`dictate` with no arguments, or `dictate-gui`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from dictate.audio.capture import FileSource
from dictate.gui.demo import DemoDriver
from dictate.gui.main_window import MainWindow
from dictate.gui.resources import app_icon, stylesheet
from dictate.gui.settings import APPLICATION, ORGANIZATION, load_settings, open_settings
from dictate.gui.worker_threads import join_all

INPUT_FILE_ENV = "DICTATE_INPUT_FILE"  # hidden: dictate from this audio file instead of a microphone
DESKTOP_FILE_NAME = "io.github.dictate"  # matches packaging/io.github.dictate.desktop


def build_parser() -> argparse.ArgumentParser:
    """Options for demos, tests and packaging checks; all hidden from --help."""
    parser = argparse.ArgumentParser(prog="dictate-gui", description="Offline live dictation with Whisper.")
    hidden = argparse.SUPPRESS
    parser.add_argument("--input", type=Path, default=os.environ.get(INPUT_FILE_ENV) or None, help=hidden)
    parser.add_argument("--autostart", action="store_true", help=hidden)
    parser.add_argument("--screenshot", type=Path, help=hidden)
    parser.add_argument("--quit-when-shown", action="store_true", help=hidden)
    return parser


def create_application(argv: Sequence[str]) -> QApplication:
    """The QApplication with the app's names, icon and stylesheet (reused if one exists)."""
    app = QApplication.instance() or QApplication(list(argv))
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Dictate")
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    app.setWindowIcon(app_icon())
    app.setStyleSheet(stylesheet())
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window and run the event loop; returns the exit status."""
    args, qt_args = build_parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    app = create_application([sys.argv[0], *qt_args])
    store = open_settings()
    file_source = FileSource(args.input, realtime=True) if args.input else None
    window = MainWindow(store, load_settings(store), file_source=file_source)
    window.show()
    if args.quit_when_shown:
        # printed after the first paint: with the launch time this gives the start-up time
        QTimer.singleShot(0, lambda: (print(f"window shown at {time.time():.3f}", flush=True), window.close()))
    DemoDriver(window, autostart=args.autostart or args.screenshot is not None, screenshot=args.screenshot)
    status = app.exec()
    join_all()  # the app may quit with work running (a session ending): no thread is destroyed while it runs
    return status


if __name__ == "__main__":
    sys.exit(main())
