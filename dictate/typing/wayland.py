"""Typing on Wayland through command-line tools: wtype, else ydotool, else dotool.

- wtype (wlroots compositors: Sway, Hyprland, river...; not GNOME, not KDE) speaks the
  virtual-keyboard protocol and types any Unicode character (it uploads a keymap
  holding the characters it types). Measured on headless Sway: it loses the first key
  of every run unless it sleeps first, so every command starts with `-s 100`. Every
  character is passed as its own `-k U<hex>` key: wtype joins consecutive text
  arguments with a space, reads text that starts with "-" as an option, and (0.4)
  takes a code point as a keysym, which types the wrong character for some
  (U+01A1 "ơ" is the keysym Aogonek).
- ydotool (any compositor; needs the ydotoold daemon and /dev/uinput) and dotool
  (any compositor; needs /dev/uinput) press evdev keys as if on a US keyboard: they
  type printable ASCII, newline and tab only, and refuse other text before typing any.

GNOME and KDE have none of these protocols by default: they are typed into through the
RemoteDesktop portal (remote_desktop.py), tried before these tools.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence

from dictate.typing.base import NEWLINE, TAB, InsertError, check_typeable

WTYPE_LEAD_MS = 100  # wtype sleeps this long before its first key, which is lost otherwise
TOOL_TIMEOUT_S = 10.0  # a tool that has not finished by then is stuck (a compositor that does not answer)
EVDEV_BACKSPACE = 14  # KEY_BACKSPACE, for ydotool's raw key codes
YDOTOOL_SOCKETS = ("{runtime}/.ydotool_socket", "/tmp/.ydotool_socket")

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[bytes]"]


def tool_runner(env: Mapping[str, str]) -> Runner:
    """Runs a tool in `env` (the session the inserter was made for), capturing its messages."""
    environment = dict(env)

    def run(command: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(list(command), capture_output=True, timeout=TOOL_TIMEOUT_S, check=False,
                              env=environment)

    return run


def _wtype_key(char: str) -> str:
    if char == NEWLINE:
        return "Return"
    if char == TAB:
        return "Tab"
    return f"U{ord(char):04X}"


def wtype_type_command(text: str) -> list[str]:
    """The wtype command line that types `text`."""
    command = ["wtype", "-s", str(WTYPE_LEAD_MS)]
    for char in text:
        command += ["-k", _wtype_key(char)]
    return command


def wtype_keys_command(key: str, count: int = 1, modifiers: Sequence[str] = ()) -> list[str]:
    """The wtype command line that presses `key` `count` times with `modifiers` ("ctrl", "shift") held."""
    command = ["wtype", "-s", str(WTYPE_LEAD_MS)]
    for modifier in modifiers:
        command += ["-M", modifier]
    command += ["-k", key] * count if count else []
    for modifier in reversed(modifiers):
        command += ["-m", modifier]
    return command


def ascii_only(text: str, tool: str) -> None:
    """Raise InsertError unless every character is printable ASCII, newline or tab (a US key types it)."""
    check_typeable(text, tool)
    for char in text:
        if not (0x20 <= ord(char) <= 0x7E or char in (NEWLINE, TAB)):
            raise InsertError(f"{tool} types only what a US keyboard has; it cannot type {char!r}")


def ydotool_type_command(text: str) -> list[str]:
    """The ydotool (1.0) command line that types `text`."""
    return ["ydotool", "type", "--key-delay", "2", "--", text]


def ydotool_backspace_command(count: int) -> list[str]:
    """The ydotool (1.0) command line that presses BackSpace `count` times (raw evdev code:1 / code:0)."""
    return ["ydotool", "key", *[f"{EVDEV_BACKSPACE}:{state}" for _ in range(count) for state in (1, 0)]]


def dotool_type_script(text: str) -> str:
    """dotool's stdin commands that type `text` (one `type` per line, `key enter` between lines)."""
    lines = []
    for index, line in enumerate(text.split(NEWLINE)):
        if index:
            lines.append("key enter")
        if line:
            lines.append(f"type {line}")
    return "".join(f"{command}\n" for command in lines)


def dotool_backspace_script(count: int) -> str:
    return "key backspace\n" * count


def dotool_paste_script(terminal: bool) -> str:
    return "key ctrl+shift+v\n" if terminal else "key ctrl+v\n"


class _CommandInserter:
    """Runs one tool per call; a failing run is an InsertError with the tool's own message."""

    name = "command"

    def __init__(self, env: Mapping[str, str], runner: Runner | None = None) -> None:
        self._runner = runner or tool_runner(env)

    def _call(self, command: Sequence[str]) -> None:
        try:
            result = self._runner(command)
        except FileNotFoundError:
            raise InsertError(f"{command[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise InsertError(f"{command[0]} did not finish within {TOOL_TIMEOUT_S:.0f} s") from None
        if result.returncode != 0:
            message = (result.stderr or b"").decode("utf-8", "replace").strip() or f"exit status {result.returncode}"
            raise InsertError(f"{command[0]} failed: {message}")

    def close(self) -> None:
        pass


class WtypeInserter(_CommandInserter):
    """wtype: any character, on compositors with the virtual-keyboard protocol (wlroots)."""

    name = "wtype"

    def __init__(self, env: Mapping[str, str] | None = None, runner: Runner | None = None, probe: bool = True) -> None:
        env = os.environ if env is None else env
        super().__init__(env, runner)
        if not env.get("WAYLAND_DISPLAY"):
            raise InsertError("wtype needs a Wayland session (WAYLAND_DISPLAY is not set)")
        if runner is None and shutil.which("wtype", path=env.get("PATH")) is None:
            raise InsertError("wtype is not installed")
        if probe:  # a run that only sleeps: fails at once where the compositor lacks the protocol
            self._call(["wtype", "-s", "1"])

    def type_text(self, text: str) -> None:
        check_typeable(text, self.name)
        if text:
            self._call(wtype_type_command(text))

    def backspace(self, count: int) -> None:
        if count > 0:
            self._call(wtype_keys_command("BackSpace", count))

    def paste_keystroke(self, terminal: bool = False) -> None:
        self._call(wtype_keys_command("v", 1, ("ctrl", "shift") if terminal else ("ctrl",)))


def ydotool_socket(env: Mapping[str, str]) -> str | None:
    """The ydotoold socket this session would use, if it exists."""
    candidates = [env["YDOTOOL_SOCKET"]] if env.get("YDOTOOL_SOCKET") else []
    runtime = env.get("XDG_RUNTIME_DIR")
    candidates += [path.format(runtime=runtime) for path in YDOTOOL_SOCKETS if runtime or "{runtime}" not in path]
    return next((path for path in candidates if os.path.exists(path)), None)


class YdotoolInserter(_CommandInserter):
    """ydotool 1.x through its daemon: printable ASCII, newline and tab."""

    name = "ydotool"

    def __init__(self, env: Mapping[str, str] | None = None, runner: Runner | None = None) -> None:
        env = os.environ if env is None else env
        super().__init__(env, runner)
        if runner is None:
            if shutil.which("ydotool", path=env.get("PATH")) is None:
                raise InsertError("ydotool is not installed")
            if ydotool_socket(env) is None:
                raise InsertError("ydotoold is not running (no ydotool socket; start the ydotoold service)")

    def type_text(self, text: str) -> None:
        ascii_only(text, self.name)
        if text:
            self._call(ydotool_type_command(text))

    def backspace(self, count: int) -> None:
        if count > 0:
            self._call(ydotool_backspace_command(count))

    def paste_keystroke(self, terminal: bool = False) -> None:
        ctrl, shift, v = 29, 42, 47  # evdev KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_V
        held = [ctrl, shift] if terminal else [ctrl]
        keys = [f"{code}:1" for code in held] + [f"{v}:1", f"{v}:0"] + [f"{code}:0" for code in reversed(held)]
        self._call(["ydotool", "key", *keys])


class DotoolInserter:
    """dotool fed on stdin by one process kept for the dictation: printable ASCII, newline and tab."""

    name = "dotool"

    def __init__(self, env: Mapping[str, str] | None = None,
                 spawn: Callable[[], subprocess.Popen] | None = None) -> None:
        env = os.environ if env is None else env
        if spawn is None:
            if shutil.which("dotool", path=env.get("PATH")) is None:
                raise InsertError("dotool is not installed")
            if not os.access("/dev/uinput", os.W_OK):
                raise InsertError("dotool cannot write /dev/uinput (add the user to the input group)")
            spawn = lambda: subprocess.Popen(["dotool"], stdin=subprocess.PIPE,  # noqa: E731
                                             stderr=subprocess.DEVNULL, env=dict(env))
        self._process = spawn()

    def type_text(self, text: str) -> None:
        ascii_only(text, self.name)
        self._send(dotool_type_script(text))

    def backspace(self, count: int) -> None:
        if count > 0:
            self._send(dotool_backspace_script(count))

    def paste_keystroke(self, terminal: bool = False) -> None:
        self._send(dotool_paste_script(terminal))

    def _send(self, script: str) -> None:
        if self._process.poll() is not None:
            raise InsertError(f"dotool exited (status {self._process.returncode})")
        try:
            self._process.stdin.write(script.encode("utf-8"))
            self._process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise InsertError(f"dotool stopped reading: {exc}") from None

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._process.stdin.close()
                self._process.wait(timeout=TOOL_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
