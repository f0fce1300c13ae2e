"""One dictate per user: real app processes, the real local socket, the real `dictate` command line.

Each test gets its own instance name (DICTATE_INSTANCE_NAME), settings and data folders, so tests and
a dictate the developer runs never meet. The hidden-start test runs the app on Xvfb with a minimal X11
tray host (it owns the tray selection, as a panel does), so Qt finds a system tray.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from dictate.cli_remote import NOT_RUNNING
from dictate.gui.main_window import MainWindow
from dictate.gui.single_instance import INSTANCE_NAME_ENV, InstanceServer, Listening, NoInstance, Reply, send_command

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0  # app start on two busy cores (imports, model load)
QUIT_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 30.0
POLL_S = 0.1


class App:
    """A real `python -m dictate` window process, with its own instance name."""

    def __init__(self, env: dict[str, str], args: list[str], log: Path) -> None:
        self.env = env
        self.name = env[INSTANCE_NAME_ENV]
        self.log = log
        with log.open("w") as handle:
            self.process = subprocess.Popen([sys.executable, "-m", "dictate", *args], env=env, cwd=REPO_ROOT,
                                            stdout=handle, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text()

    def ask(self, command: str) -> Reply:
        """Send a command from this (test) process, as `dictate COMMAND` does."""
        return send_command(command, self.name)

    def wait_until_listening(self) -> Reply:
        """Poll until the instance answers `status`; returns that first reply."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the app exited early:\n{self.output()}"
            try:
                return self.ask("status")
            except NoInstance:
                time.sleep(POLL_S)
        pytest.fail(f"the app did not listen within {START_TIMEOUT_S} s:\n{self.output()}")

    def wait_for_status(self, prefix: str) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = self.ask("status").text
            if text.startswith(prefix):
                return text
            time.sleep(POLL_S)
        pytest.fail(f"status never started with {prefix!r} (last: {text!r}):\n{self.output()}")

    def quit(self) -> int:
        """`quit` over the socket; the exit status once the process has ended."""
        if self.process.poll() is None:
            try:
                self.ask("quit")
            except (NoInstance, TimeoutError):
                pass
            try:
                self.process.wait(timeout=QUIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the app did not quit within {QUIT_TIMEOUT_S} s:\n{self.output()}")
        return self.process.returncode


@pytest.fixture
def app_env(tmp_path: Path) -> dict[str, str]:
    """The environment of app and CLI processes: this checkout, offscreen Qt, private name and folders."""
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "offscreen",
            INSTANCE_NAME_ENV: f"dictate-test-{uuid.uuid4().hex[:12]}",
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "DICTATE_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def launch(tmp_path: Path) -> Iterator:
    """Start app processes; each still running at the end is quit (killed if it will not)."""
    apps: list[App] = []

    def start(env: dict[str, str], *args: str) -> App:
        app = App(env, list(args), tmp_path / f"app{len(apps)}.log")
        apps.append(app)
        return app

    yield start
    for app in apps:
        if app.process.poll() is None:
            app.process.kill()
            app.process.wait()


def dictate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dictate", *args], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT_S)


def test_a_remote_command_with_no_instance_running_is_one_line_and_exit_2(app_env) -> None:
    for command in ("toggle", "paste-last"):
        result = dictate(app_env, command)
        assert result.returncode == 2, result
        assert result.stdout == ""
        assert result.stderr.splitlines() == [NOT_RUNNING]


def test_a_socket_left_by_a_killed_instance_is_taken_over(app_env) -> None:
    """A killed instance leaves its Unix socket file: nobody answers on it, and the next launch replaces it."""
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix domain sockets on this platform (named pipes vanish with their process)")
    name = app_env[INSTANCE_NAME_ENV]
    path = os.path.join(QDir.tempPath(), name)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # bound and closed, never unlinked: what SIGKILL leaves behind
    stale.close()
    try:
        assert dictate(app_env, "toggle").stderr.splitlines() == [NOT_RUNNING]
        first = InstanceServer(name)
        assert first.listen() is Listening.FIRST
        second = InstanceServer(name)
        assert second.listen() is Listening.ANOTHER  # the live one is never taken over
        first.close()
        assert not os.path.exists(path)
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_remote_commands_drive_the_running_window_and_a_second_launch_hands_over(
        app_env, launch, tiny_model_dir, jfk_wav) -> None:
    # --hidden with no system tray (offscreen Qt has none): the window is shown all the same
    app = launch(app_env, "--hidden", "--input", str(jfk_wav))
    assert app.wait_until_listening() == Reply(True, "idle (window shown)")
    assert "no system tray here" in app.output()
    app.wait_for_status("idle")  # the model is ready once Record would start

    toggled = dictate(app_env, "toggle")
    assert toggled.returncode == 0, toggled
    assert toggled.stdout.strip() in ("starting", "opening", "recording")
    app.wait_for_status("recording")
    stopped = dictate(app_env, "stop")
    assert stopped.returncode == 0 and stopped.stdout.strip() in ("stopping", "idle"), stopped
    app.wait_for_status("idle")
    assert dictate(app_env, "stop").stdout.strip() == "idle"  # stopping twice is harmless

    pasted = dictate(app_env, "paste-last")
    if hasattr(MainWindow, "paste_last_dictation"):  # pasted (0), or the window says why not (1): one line
        assert pasted.returncode in (0, 1) and len((pasted.stdout + pasted.stderr).splitlines()) == 1, pasted
    else:
        assert (pasted.returncode, pasted.stderr.strip()) == (1, "dictate: paste-last is not available yet")

    second = dictate(app_env)  # a second launch of the window
    assert second.returncode == 0, second
    assert "already running" in second.stdout
    assert app.process.poll() is None
    assert app.ask("status").text == "idle (window shown)"

    assert dictate(app_env, "quit").stdout.strip() == "quitting"
    assert app.quit() == 0
    assert dictate(app_env, "status").returncode == 2  # the socket went with it


# ------------------------------------------------------------------ X11 with a system tray


class TrayHost:
    """Owns the X11 system-tray selection on a display, as a panel's tray does (dock requests are ignored).

    Qt's xcb platform reports a system tray when this selection has an owner."""

    def __init__(self, display: str) -> None:
        x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultRootWindow.restype = ctypes.c_ulong
        x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x11.XCreateSimpleWindow.restype = ctypes.c_ulong
        x11.XCreateSimpleWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                            ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong,
                                            ctypes.c_ulong]
        x11.XInternAtom.restype = ctypes.c_ulong
        x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x11.XSetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        x11.XGetSelectionOwner.restype = ctypes.c_ulong
        x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self._x11 = x11
        self._display = x11.XOpenDisplay(display.encode())
        assert self._display, f"cannot open X display {display}"
        window = x11.XCreateSimpleWindow(self._display, x11.XDefaultRootWindow(self._display), 0, 0, 1, 1, 0, 0, 0)
        selection = x11.XInternAtom(self._display, b"_NET_SYSTEM_TRAY_S0", 0)
        x11.XSetSelectionOwner(self._display, selection, window, 0)  # CurrentTime
        assert x11.XGetSelectionOwner(self._display, selection) == window

    def close(self) -> None:
        self._x11.XCloseDisplay(self._display)


@pytest.fixture
def x_display() -> Iterator[str]:
    """A private Xvfb display (Xvfb picks a free number)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (packaging/bootstrap.sh test installs it)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                              pass_fds=[write_end], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], START_TIMEOUT_S)
        assert ready, "Xvfb did not start"
        number = os.read(read_end, 64).decode().strip()
        assert number.isdigit(), f"Xvfb did not say its display ({number!r})"
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)


def test_start_hidden_lives_in_the_tray_until_a_second_launch_shows_the_window(app_env, launch, x_display) -> None:
    tray = TrayHost(x_display)
    try:
        env = {**app_env, "QT_QPA_PLATFORM": "xcb", "DISPLAY": x_display}
        app = launch(env, "--hidden")
        assert app.wait_until_listening().text.endswith("(window hidden)")
        second = dictate(env)
        assert second.returncode == 0, second
        assert app.ask("status").text.endswith("(window shown)")
        assert app.quit() == 0
    finally:
        tray.close()
