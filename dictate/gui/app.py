"""Entry point of the desktop app (`dictate` with no arguments, or `dictate-gui`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

from dictate.audio.capture import FileSource
from dictate.gui.demo import DemoDriver
from dictate.gui.gc_on_gui_thread import GuiThreadCollector
from dictate.gui.main_window import MainWindow, RecorderState
from dictate.gui.resources import app_icon, stylesheet
from dictate.gui.settings import APPLICATION, ORGANIZATION, load_settings, open_settings
from dictate.gui.single_instance import CommandError, Handler, InstanceServer, Listening, NoInstance, send_command
from dictate.gui.tray import Tray, TrayState
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
    parser.add_argument("--hidden", action="store_true",
                        help="start in the system tray, the window hidden (shown anyway if there is no tray)")
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


class Background(QObject):
    """The app's life beside its window: the tray icon, closing into the tray, and quitting for real.

    In background mode (`--hidden` or the start-hidden setting) with a tray icon, closing the window
    only hides it: dictation goes on and the tray or `dictate toggle` reaches it. Otherwise closing
    the window quits, as it always has. Quit (tray, `dictate quit`) closes the window for real: a
    recording finishes its tail first, then the app quits."""

    def __init__(self, window: MainWindow, tray: Tray | None, *, keep_running: bool,
                 on_closed: Callable[[], object]) -> None:
        """`on_closed` ends the app (QApplication.quit) once the window has closed for real."""
        super().__init__(window)
        self._on_closed = on_closed
        self._window = window
        self.tray = tray
        self._keep_running = keep_running and tray is not None
        self._quitting = False
        self._closed = False  # on_closed has been called
        window.installEventFilter(self)
        if tray is None:
            return
        tray.show_requested.connect(self.show_window)
        tray.toggle_requested.connect(lambda: self.act(window.toggle_recording))
        tray.paste_last_requested.connect(self.paste_last)
        tray.quit_requested.connect(self.quit)
        tray.menu.aboutToShow.connect(self.refresh)
        tray.set_paste_available(self.can_paste())
        # state_changed, typing_paused(bool) and typing_failed(str) are the window's hooks for the tray: each
        # is connected once the window has it
        for signal in (window.recording_started, window.recording_finished, getattr(window, "state_changed", None)):
            if signal is not None:
                signal.connect(self.refresh)
        if hasattr(window, "typing_paused"):
            window.typing_paused.connect(self.set_typing_paused)
        if hasattr(window, "typing_failed"):
            window.typing_failed.connect(lambda message: tray.notify("Dictate could not type", message))
        tray.show()

    @Slot()
    def show_window(self) -> None:
        """Show the window (from the tray, or hidden at launch), raised above the others."""
        if self._window.isMinimized():
            self._window.showNormal()
        self._window.show()
        self._window.raise_()
        self._window.activateWindow()

    def can_paste(self) -> bool:
        return callable(getattr(self._window, "paste_last_dictation", None))

    @Slot()
    def paste_last(self) -> None:
        if self.can_paste():
            self._window.paste_last_dictation()

    @Slot()
    def quit(self) -> None:
        """Close the window for real and quit once it has closed (it may finish a recording first)."""
        self._quitting = True
        self._window.close()

    @Slot()
    def refresh(self) -> None:
        """The tray follows the window: idle, or listening (a "typing paused" set by typing is kept)."""
        if self.tray is None:
            return
        if self._window.state is RecorderState.IDLE:
            self.tray.set_state(TrayState.IDLE)
        elif self.tray.state is TrayState.IDLE:
            self.tray.set_state(TrayState.LISTENING)

    @Slot(bool)
    def set_typing_paused(self, paused: bool) -> None:
        """Typing stopped because the focus left the target window (or resumed)."""
        if self.tray is not None and self._window.state is not RecorderState.IDLE:
            self.tray.set_state(TrayState.TYPING_PAUSED if paused else TrayState.LISTENING)

    def act(self, action: Callable[[], object]) -> None:
        """Run a window action (tray, remote command), then show the state it led to."""
        action()
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() is QEvent.Type.Close:
            if self._keep_running and not self._quitting and self.tray is not None and self.tray.is_visible():
                self._window.hide()  # into the tray: nothing stops, nothing is saved yet
                event.ignore()
                return True
            QTimer.singleShot(0, self._quit_if_closed)  # the window decides now; look once it has
        return False

    @Slot()
    def _quit_if_closed(self) -> None:
        """A close the window accepted ends the app (it ignores one while work runs, and closes again later)."""
        if not self._window.isVisible() and not self._window.busy() and not self._closed:
            self._closed = True  # an ignored close and the window's own later close may both end up here
            self._on_closed()


def remote_handlers(window: MainWindow, background: Background) -> dict[str, Handler]:
    """What `dictate toggle|start|stop|paste-last|status|quit` and a second launch (`show`) do here."""

    def state() -> str:
        return window.state.name.lower()

    def started() -> str:
        if window.state is RecorderState.IDLE:  # start_recording refused: say why, as the window shows it
            why = window.banner.text() if not window.banner.isHidden() else window.state_label.text()
            raise CommandError(f"dictation did not start: {why}")
        return state()

    def show() -> str:
        background.show_window()
        return "shown"

    def toggle() -> str:
        was_idle = window.state is RecorderState.IDLE
        background.act(window.toggle_recording)
        return started() if was_idle else state()

    def start() -> str:
        background.act(window.start_recording)
        return started()

    def stop() -> str:
        background.act(window.stop_recording)
        return state()

    def paste_last() -> str:
        if window.paste_last_dictation() is False:  # the window may say that there was nothing to paste
            raise CommandError("nothing dictated into another application yet")
        return "pasted"

    def status() -> str:
        typing = ", typing" if window.typing.busy else ""  # words still on their way into another app
        return f"{state()} (window {'shown' if window.isVisible() else 'hidden'}{typing})"

    def quit_app() -> str:
        QTimer.singleShot(0, background.quit)  # after the reply is on its way
        return "quitting"

    handlers = {"show": show, "toggle": toggle, "start": start, "stop": stop, "status": status, "quit": quit_app}
    if background.can_paste():  # the method arrives with typing; until then the reply says "not available yet"
        handlers["paste-last"] = paste_last
    return handlers


def hand_over(name: str, *, show: bool) -> int | None:
    """Ask a running instance to show its window (or only whether it answers); the exit status, or None
    when none runs."""
    try:
        reply = send_command("show" if show else "status", name)
    except NoInstance:
        return None
    except TimeoutError as error:
        print(f"dictate: {error}", file=sys.stderr)
        return 2
    if not reply.ok:
        print(f"dictate: {reply.text}", file=sys.stderr)
        return 1
    print("dictate is already running" + (": its window is shown" if show else ""), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window and run the event loop; returns the exit status.

    If dictate already runs for this user, its window is shown instead and this launch exits 0."""
    args, qt_args = build_parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    server = InstanceServer()
    handed_over = hand_over(server.name, show=not args.hidden)  # a hidden launch (at login) shows nothing
    if handed_over is not None:
        return handed_over
    app = create_application([sys.argv[0], *qt_args])
    listening = server.listen()
    if listening is Listening.ANOTHER:  # another launch took the name a moment ago
        return hand_over(server.name, show=not args.hidden) or 0
    if listening is Listening.FAILED:
        print(f"dictate: `dictate toggle` and a second launch will not reach this window: {server.error}",
              file=sys.stderr)
    collector = GuiThreadCollector(app)  # no Qt object is ever garbage-collected on the engine's thread
    store = open_settings()
    settings = load_settings(store)
    file_source = FileSource(args.input, realtime=True) if args.input else None
    window = MainWindow(store, settings, file_source=file_source)
    wants_hidden = args.hidden or settings.start_hidden
    tray = Tray(app) if Tray.available() else None
    if tray is not None:
        app.setQuitOnLastWindowClosed(False)  # a dialog closing while the window is hidden must not quit
    background = Background(window, tray, keep_running=wants_hidden, on_closed=app.quit)
    server.set_handlers(remote_handlers(window, background))
    if wants_hidden and tray is None:
        print("dictate: no system tray here, so the window is shown", file=sys.stderr)
    if not wants_hidden or tray is None:
        window.show()
    if args.quit_when_shown:
        # printed after the first paint: with the launch time this gives the start-up time
        QTimer.singleShot(0, lambda: (print(f"window shown at {time.time():.3f}", flush=True), window.close()))
    DemoDriver(window, autostart=args.autostart or args.screenshot is not None, screenshot=args.screenshot)
    status = app.exec()
    collector.stop()
    server.close()  # a launch from now on starts a new instance
    join_all()  # the app may quit with work running (a session ending): no thread is destroyed while it runs
    return status


if __name__ == "__main__":
    sys.exit(main())
