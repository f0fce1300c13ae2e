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
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 10.0
EXIT_TIMEOUT_S = 5.0
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

    @classmethod
    def start(cls, display: XDisplay, path: Path, title: str = "target",
              resources: Sequence[str] = ()) -> XtermTarget:
        """Start it and wait for its window (`resources`: extra X resources, e.g. XTERM_CLIPBOARD_PASTE)."""
        args = ["xterm", "-title", title, "-geometry", "80x10"]
        for resource in resources:
            args += ["-xrm", resource]
        log = path.with_name(path.name + ".xterm.log")
        with log.open("wb") as errors:
            process = subprocess.Popen([*args, "-e", "sh", "-c", f"exec cat > '{path}'"], env=display.env,
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
        return cls(display, path, wid, process)

    def focus(self) -> None:
        self.display.xdotool("windowfocus", "--sync", str(self.window))

    def finish(self) -> str:
        """Give it the focus, end cat with Return and Ctrl+D, and return the file's text."""
        self.focus()
        self.display.xdotool("key", "Return", "ctrl+d")
        try:
            self.process.wait(timeout=EXIT_TIMEOUT_S)
        finally:
            _stop(self.process)
        return self.path.read_text(encoding="utf-8")

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
        stack = [self.swaymsg("-t", "get_tree") or {}]
        while stack:
            node = stack.pop()
            if node.get("focused") and node.get("app_id"):
                return node["app_id"]
            stack += node.get("nodes", []) + node.get("floating_nodes", [])
        return None

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
