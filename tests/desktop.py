"""Desktops for tests of typing into other applications: Xvfb with xterm targets, headless Sway with foot.

Facts measured on these machines (../shared/NOTES-desktop.md): Xvfb has no window
manager, so `xdotool windowfocus` gives a window the focus (windowactivate fails);
sway refuses to run as root, so it runs as a throwaway user with the headless
wlroots backend; a terminal running `cat > FILE` is a target whose received text
ends up in FILE once it gets Return and Ctrl+D.

    with xvfb() as x:
        target = XtermTarget.start(x, tmp_path / "typed.txt")
        target.focus()
        ...                                   # type into it
        text = target.finish()                # Return, Ctrl+D; the file's text

The dictate app itself runs in its own process on such a desktop (`DictateApp`): its own
instance name, settings file, journal folder and microphone (a PulseAudio server's), so a
test drives it as a user would (the hotkey through XTest, `dictate toggle`) and reads back
what it committed from its autosave journal.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 10.0
EXIT_TIMEOUT_S = 5.0
APP_START_TIMEOUT_S = 60.0  # the app's first answer on two busy cores (imports, window)
APP_STATE_TIMEOUT_S = 60.0  # a dictation starting (model load) or finishing its tail
APP_QUIT_TIMEOUT_S = 30.0
WAYLAND_USER = "dictatewl"  # throwaway user that runs sway and the Wayland target (sway refuses root)
XTERM_CLIPBOARD_PASTE = "*VT100.translations: #override Ctrl Shift <Key>V: insert-selection(CLIPBOARD)"


def require(*programs: str) -> None:
    """Fail (not skip) if a program the test set-up installs is missing."""
    missing = [name for name in programs if shutil.which(name) is None]
    if missing:
        import pytest

        pytest.fail(f"{', '.join(missing)} not installed (bash packaging/bootstrap.sh test installs them)")


def dictation_chunks(text: str) -> list[str]:
    """`text` cut the way a dictation commits it: a word at a time, with the space or newline before it."""
    chunks, current = [], ""
    for char in text:
        if char in " \n" and current:
            chunks.append(current)
            current = ""
        current += char
    return chunks + [current] if current else chunks


def _wait(predicate, what: str, timeout: float = START_TIMEOUT_S, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.02)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _stop_as_user(process: subprocess.Popen) -> None:
    """Stop a program started through runuser: signal the program itself (runuser, when signalled,
    waits 2 s before it kills its child)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    with contextlib.suppress(OSError):
        for pid in children.read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
    try:
        process.wait(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _stop(process)


# X11


@dataclass(frozen=True)
class XDisplay:
    """A running Xvfb: `env` is this environment pointed at it."""

    name: str
    env: dict[str, str]
    process: subprocess.Popen

    def xdotool(self, *args: str) -> str:
        result = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True,
                                timeout=START_TIMEOUT_S, check=True)
        return result.stdout.strip()


@contextlib.contextmanager
def xvfb(size: str = "1280x800x24") -> Iterator[XDisplay]:
    """A private Xvfb (it picks a free display number); stopped on exit.

    -noreset: by default Xvfb resets when its last client leaves, and a client connecting
    meanwhile fails ("Can't open display"); seen between two xterms of one test."""
    require("Xvfb", "xdotool", "xterm")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp",
                                "-noreset"],
                               pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        name = f":{number}"
        env = {**os.environ, "DISPLAY": name}
        env.pop("WAYLAND_DISPLAY", None)
        env["XDG_SESSION_TYPE"] = "x11"
        yield XDisplay(name, env, process)
    finally:
        _stop(process)


@dataclass
class XtermTarget:
    """An xterm running `cat > path`: what it receives ends up in the file."""

    display: XDisplay
    path: Path
    window: int
    process: subprocess.Popen
    live: bool = False

    @classmethod
    def start(cls, display: XDisplay, path: Path, title: str = "target",
              resources: Sequence[str] = (), live: bool = False) -> XtermTarget:
        """Start it and wait for its window (`resources`: extra X resources, e.g. XTERM_CLIPBOARD_PASTE).

        `live`: the terminal hands cat each character as it arrives (`stty -icanon`), so `text()` shows what
        was typed so far; otherwise cat gets whole lines. A live target has no Ctrl+D end of input."""
        args = ["xterm", "-title", title, "-geometry", "80x10"]
        for resource in resources:
            args += ["-xrm", resource]
        log = path.with_name(path.name + ".xterm.log")
        with log.open("wb") as errors:
            command = ("stty -icanon; " if live else "") + f"exec cat > '{path}'"
            process = subprocess.Popen([*args, "-e", "sh", "-c", command], env=display.env,
                                       stdout=subprocess.DEVNULL, stderr=errors)

        def window() -> int | None:
            found = subprocess.run(["xdotool", "search", "--pid", str(process.pid)], env=display.env,
                                   capture_output=True, text=True).stdout.split()
            return int(found[-1]) if found else None

        try:
            wid = _wait(window, "xterm's window", process=process)
            _wait(path.exists, "cat's output file", process=process)
        except Exception as exc:
            _stop(process)
            raise RuntimeError(f"{exc}; xterm said: {log.read_text(errors='replace')[-2000:]}") from exc
        return cls(display, path, wid, process, live)

    def focus(self) -> None:
        self.display.xdotool("windowfocus", "--sync", str(self.window))

    def text(self) -> str:
        """What cat has written so far."""
        return self.path.read_text(encoding="utf-8")

    def finish(self) -> str:
        """Give it the focus, end cat's input with Return (and Ctrl+D), and return the file's text."""
        self.focus()
        if self.live:
            self.display.xdotool("key", "Return")
            _wait(lambda: self.text().endswith("\n"), "the Return in cat's output", process=self.process)
            _stop(self.process)
            return self.text()
        self.display.xdotool("key", "Return", "ctrl+d")
        try:
            self.process.wait(timeout=EXIT_TIMEOUT_S)
        finally:
            _stop(self.process)
        return self.text()

    def stop(self) -> None:
        _stop(self.process)


# Wayland


def ensure_wayland_user() -> pwd.struct_passwd:
    """The throwaway user sway runs as (created once, as root)."""
    try:
        return pwd.getpwnam(WAYLAND_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", WAYLAND_USER],
                       capture_output=True, check=False)
        return pwd.getpwnam(WAYLAND_USER)


@dataclass(frozen=True)
class SwayWindow:
    """An application window in sway's tree."""

    app_id: str
    title: str
    focused: bool


@dataclass(frozen=True)
class WaylandSession:
    """Headless sway as the throwaway user; `env` points this process's clients at it."""

    runtime_dir: Path
    env: dict[str, str]
    user_env: dict[str, str]  # for processes started as the user
    process: subprocess.Popen

    def swaymsg(self, *args: str):
        result = subprocess.run(["swaymsg", "-r", *args], env=self.env, capture_output=True, text=True,
                                timeout=START_TIMEOUT_S)
        return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else None

    def focused_app(self) -> str | None:
        """The app_id of the focused window (None if none)."""
        return next((window.app_id for window in self.windows() if window.focused), None)

    def windows(self) -> list[SwayWindow]:
        """The application windows, tiled and floating."""
        found, stack = [], [self.swaymsg("-t", "get_tree") or {}]
        while stack:
            node = stack.pop()
            if node.get("app_id"):
                found.append(SwayWindow(node["app_id"], node.get("name") or "", bool(node.get("focused"))))
            stack += node.get("nodes", []) + node.get("floating_nodes", [])
        return found

    def run_as_user(self, args: Sequence[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(["runuser", "-u", WAYLAND_USER, "--", "env", "-i",
                                 *[f"{key}={value}" for key, value in self.user_env.items()], *args], **kwargs)


@contextlib.contextmanager
def headless_sway() -> Iterator[WaylandSession]:
    """Sway with the headless backend and the pixman renderer; RuntimeError if it does not start."""
    require("sway", "swaymsg", "foot", "wtype", "runuser")
    if os.geteuid() != 0:
        raise RuntimeError("starting sway as a throwaway user needs root")
    user = ensure_wayland_user()
    runtime_dir = Path(tempfile.mkdtemp(prefix="dictate-wl-"))
    os.chown(runtime_dir, user.pw_uid, user.pw_gid)
    runtime_dir.chmod(0o700)
    config = runtime_dir / "config"
    config.write_text("output HEADLESS-1 resolution 1280x800\nxwayland disable\n", encoding="utf-8")
    user_env = {"PATH": "/usr/bin:/bin", "HOME": user.pw_dir, "XDG_RUNTIME_DIR": str(runtime_dir),
                "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1", "WLR_RENDERER": "pixman",
                "LANG": "C.UTF-8"}
    process = subprocess.Popen(["runuser", "-u", WAYLAND_USER, "--", "env", "-i",
                                *[f"{key}={value}" for key, value in user_env.items()],
                                "sway", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def sockets() -> tuple[Path, Path] | None:
            wayland = sorted(runtime_dir.glob("wayland-[0-9]"))
            ipc = sorted(runtime_dir.glob("sway-ipc.*.sock"))
            return (wayland[0], ipc[0]) if wayland and ipc else None

        wayland, ipc = _wait(sockets, "sway's sockets", process=process)
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "WAYLAND_DISPLAY": wayland.name,
               "SWAYSOCK": str(ipc), "XDG_SESSION_TYPE": "wayland"}
        env.pop("DISPLAY", None)
        user_env = {**user_env, "WAYLAND_DISPLAY": wayland.name}
        for key in ("WLR_BACKENDS", "WLR_LIBINPUT_NO_DEVICES", "WLR_RENDERER"):
            user_env.pop(key)
        session = WaylandSession(runtime_dir, env, user_env, process)
        _wait(lambda: session.swaymsg("-t", "get_outputs"), "sway's IPC", process=process)
        yield session
    finally:
        _stop_as_user(process)
        shutil.rmtree(runtime_dir, ignore_errors=True)


@dataclass
class FootTarget:
    """foot running `cat > path` in the Wayland session (as the throwaway user)."""

    session: WaylandSession
    path: Path
    process: subprocess.Popen

    @classmethod
    def start(cls, session: WaylandSession, name: str = "typed.txt") -> FootTarget:
        path = session.runtime_dir / name
        process = session.run_as_user(["foot", "--app-id", "target", "sh", "-c", f"exec cat > '{path}'"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: session.focused_app() == "target", "foot's focused window", process=process)
            _wait(path.exists, "cat's output file", process=process)
        except Exception:
            _stop_as_user(process)
            raise
        return cls(session, path, process)

    def finish(self) -> str:
        """End cat with Return and Ctrl+D (wtype) and return the file's text."""
        subprocess.run(["wtype", "-s", "100", "-k", "Return", "-s", "50", "-M", "ctrl", "-k", "d", "-m", "ctrl"],
                       env=self.session.env, check=True, timeout=START_TIMEOUT_S)
        try:
            self.process.wait(timeout=EXIT_TIMEOUT_S)
        finally:
            _stop_as_user(self.process)
        return self.path.read_text(encoding="utf-8")


# The dictate app in its own process


@dataclass
class DictateApp:
    """A real `python -m dictate` process: private instance name, settings file and journal folder.

    `settings`: values written to its INI file before it starts (e.g. {"hotkey_mode": "toggle"}).

        app = DictateApp.start(display.env, tmp_path / "app", {"input_device": "pulse"})
        app.wait_for_state("recording")           # `dictate status`, over the instance socket
        app.journal().shown_text                  # what it committed, as its window shows it
    """

    env: dict[str, str]
    folder: Path
    process: subprocess.Popen

    @classmethod
    def start(cls, env: Mapping[str, str], folder: Path, settings: Mapping[str, object] = (),
              args: Sequence[str] = (), program: Sequence[str] = ("-m", "dictate")) -> DictateApp:
        """Start it with `env` (a display's, plus e.g. the PulseAudio server's) and wait until it answers.

        `program`: what the Python interpreter runs (a benchmark passes an instrumented launcher)."""
        from dictate.gui.single_instance import INSTANCE_NAME_ENV

        folder.mkdir(parents=True, exist_ok=True)
        ini = folder / "config" / "dictate" / "dictate.ini"  # QSettings' INI file under $XDG_CONFIG_HOME
        ini.parent.mkdir(parents=True, exist_ok=True)
        ini.write_text("[General]\n" + "".join(f"{key}={value}\n" for key, value in dict(settings).items()),
                       encoding="utf-8")
        env = {**env, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1",
               INSTANCE_NAME_ENV: f"dictate-e2e-{uuid.uuid4().hex[:12]}",
               "XDG_CONFIG_HOME": str(folder / "config"), "DICTATE_DATA_DIR": str(folder / "data")}
        with (folder / "app.log").open("wb") as log:
            process = subprocess.Popen([sys.executable, *program, *args], env=env, cwd=REPO_ROOT,
                                       stdout=log, stderr=subprocess.STDOUT)
        app = cls(env, folder, process)
        try:
            app.wait_for_state("idle", timeout=APP_START_TIMEOUT_S)
        except Exception:
            app.stop()
            raise
        return app

    def output(self) -> str:
        """What it printed (stdout and stderr)."""
        return (self.folder / "app.log").read_text(encoding="utf-8", errors="replace")

    def ask(self, command: str) -> str:
        """Send a remote command from this process, as `dictate COMMAND` does; its reply (RuntimeError if refused)."""
        from dictate.gui.single_instance import INSTANCE_NAME_ENV, send_command

        reply = send_command(command, self.env[INSTANCE_NAME_ENV])
        if not reply.ok:
            raise RuntimeError(f"dictate {command}: {reply.text}")
        return reply.text

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the real `dictate` command line against this instance."""
        return subprocess.run([sys.executable, "-m", "dictate", *args], env=self.env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=APP_STATE_TIMEOUT_S)

    def state(self) -> str | None:
        """The recorder state ("idle", "starting", "opening", "recording", "stopping"...); None if it does not
        answer yet."""
        from dictate.gui.single_instance import NoInstance

        try:
            return self.ask("status").split(" ", 1)[0]
        except NoInstance:
            return None

    def wait_until_typed(self, timeout: float = APP_STATE_TIMEOUT_S) -> None:
        """Until no words are on their way into another application (`dictate status` says ", typing" then)."""
        _wait(lambda: "typing)" not in self.ask("status"), "the app's last words typed", timeout=timeout,
              process=self.process)

    def wait_for_state(self, *states: str, timeout: float = APP_STATE_TIMEOUT_S) -> str:
        try:
            return _wait(lambda: (state := self.state()) in states and state, f"the app's state {'|'.join(states)}",
                         timeout=timeout, process=self.process)
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}; the app said:\n{self.output()[-3000:]}") from None

    def journal(self):
        """Its autosave journal, read now (dictate.transcript.journal.RecoveredSession)."""
        from dictate.transcript.journal import read_journal

        paths = sorted((self.folder / "data" / "sessions").glob("*.jsonl"))
        if len(paths) != 1:
            raise RuntimeError(f"expected one journal, found {[path.name for path in paths]}")
        return read_journal(paths[0])

    def session_audio(self) -> Path:
        """What its microphone heard this session (dictate.transcript.session_audio: WAV while the session is
        open, FLAC once it is closed)."""
        paths = [path for suffix in ("wav", "flac") for path in (self.folder / "data" / "sessions").glob(f"*.{suffix}")]
        if len(paths) != 1:
            raise RuntimeError(f"expected one session recording, found {[path.name for path in paths]}")
        return paths[0]

    def quit(self) -> int:
        """`quit` over its socket (a recording finishes first); the exit status. RuntimeError if it had
        already exited by itself, or does not quit in time."""
        if self.process.poll() is not None:
            raise RuntimeError(f"the app had exited by itself (status {self.process.returncode}):\n"
                               f"{self.output()[-3000:]}")
        with contextlib.suppress(Exception):
            self.ask("quit")
        try:
            self.process.wait(timeout=APP_QUIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(f"the app did not quit within {APP_QUIT_TIMEOUT_S:.0f} s") from None
        return self.process.returncode

    def stop(self) -> None:
        _stop(self.process)
