"""A screenshot of correcting a transcript, under Xvfb: the window after dictating jfk.wav, with "What Whisper
Hears" showing where the decoder heard a word, and the Alternatives menu open on streaming's "am I".

    .venv/bin/python packaging/screenshot_correcting.py [OUTPUT.png]    (default docs/screenshot-correcting.png)

The real window runs in this process on a private Xvfb (no window manager), dictates jfk.wav through its
file source, then opens the panel and the menu as a user would from the right-click menu. The window and the
menu are grabbed by Qt and the menu drawn at the place it opened: without a compositor, `xwd -root` shows
a popup menu as a black box. Needs Xvfb and a prepared tiny.en.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JFK = REPO.parent / "shared" / "audio" / "misc" / "wav" / "jfk.wav"
TIMEOUT_MS = 120_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=REPO / "docs" / "screenshot-correcting.png")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.desktop import xvfb

    with tempfile.TemporaryDirectory() as folder, xvfb() as display:
        os.environ.update({"DISPLAY": display.name, "QT_QPA_PLATFORM": "xcb", "DICTATE_DATA_DIR": folder,
                           "DICTATE_CONFIG_DIR": folder})
        shot(Path(folder), args.output)
    print(args.output)
    return 0


def shot(folder: Path, output: Path) -> None:
    """Dictate jfk.wav in the window, open the panel on one word and the Alternatives menu on another, and save
    the window with the menu drawn where it opened."""
    from PySide6.QtCore import QEventLoop, QPoint, QSettings, QTimer
    from PySide6.QtGui import QPainter, QTextCursor
    from PySide6.QtWidgets import QApplication, QMenu

    from dictate.audio.capture import FileSource
    from dictate.gui.main_window import MainWindow
    from dictate.gui.session_store import SessionStore
    from dictate.gui.settings import load_settings, open_settings

    app = QApplication([])
    app.setStyle("Fusion")  # its menus are opaque: without a compositor a translucent one shows black
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    store = open_settings()
    window = MainWindow(store, load_settings(store), file_source=FileSource(JFK, realtime=False),
                        sessions=SessionStore(folder / "sessions"), config_folder=folder)
    window.setGeometry(0, 0, 1000, 720)
    window.show()
    wait = QEventLoop()
    window.recording_finished.connect(wait.quit)
    QTimer.singleShot(TIMEOUT_MS, wait.quit)
    ready = QTimer(interval=200)
    ready.timeout.connect(lambda: window.record_button.isEnabled() and (ready.stop(), window.start_recording()))
    ready.start()
    wait.exec()
    spans = window.captions.spans
    window.show_where_heard(max(spans, key=lambda span: span.word.end - span.word.start))
    keys = [span.text.strip(",.").lower() for span in spans]
    at = next((i for i in range(len(keys) - 1) if keys[i : i + 2] == ["am", "i"]), None)  # streaming's "am I"
    chosen = spans[at : at + 2] if at is not None else [spans[2]]
    selection = QTextCursor(chosen[0].cursor)
    selection.setPosition(chosen[0].cursor.selectionStart())
    selection.setPosition(chosen[-1].cursor.selectionEnd(), QTextCursor.MoveMode.KeepAnchor)
    window.captions.setTextCursor(selection)
    menu = QMenu(window)
    menu.addSection("Alternatives")
    for text in window.alternatives_for(chosen) or ["(nothing else heard)"]:
        menu.addAction(text)
    rect = window.captions.cursorRect(selection)
    menu.popup(window.captions.viewport().mapToGlobal(QPoint(rect.right(), rect.bottom() + 4)))
    settle = QEventLoop()
    QTimer.singleShot(1500, settle.quit)
    settle.exec()
    image = window.grab()
    painter = QPainter(image)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    image.save(str(output))


if __name__ == "__main__":
    sys.exit(main())
