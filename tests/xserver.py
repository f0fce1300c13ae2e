"""A private X server for desktop tests: Xvfb on a display number it picks itself, xdotool against it,
and optionally a window manager (openbox) for tests that need real focus behaviour.

Without a window manager a newly shown window never takes the focus, so a "does not steal the
focus" check needs one to mean anything (see ../shared/NOTES-desktop.md for the Xvfb facts).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

START_TIMEOUT_S = 10.0  # Xvfb and openbox start in well under a second on an idle machine
SCREEN = "1280x800x24"


@dataclass
class XServer:
    display: str  # ":N"
    process: subprocess.Popen
    helpers: list[subprocess.Popen] = field(default_factory=list)  # window manager, target windows

    @property
    def env(self) -> dict[str, str]:
        """The environment for a process on this display (and no Wayland)."""
        env = {key: value for key, value in os.environ.items() if key not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
        env["DISPLAY"] = self.display
        env.pop("QT_QPA_PLATFORM", None)
        return env

    def xdotool(self, *args: str, timeout_s: float = 10.0) -> str:
        result = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=timeout_s,
                                check=True)
        return result.stdout.strip()

    def start_window_manager(self) -> None:
        """openbox, waited for until it announces itself on the root window (_NET_SUPPORTING_WM_CHECK)."""
        from Xlib import display as xdisplay

        self.helpers.append(subprocess.Popen(["openbox", "--sm-disable"], env=self.env, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL))
        connection = xdisplay.Display(self.display)
        try:
            check = connection.intern_atom("_NET_SUPPORTING_WM_CHECK")
            deadline = time.monotonic() + START_TIMEOUT_S
            while connection.screen().root.get_full_property(check, 0) is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("openbox did not start")
                time.sleep(0.05)
        finally:
            connection.close()


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian packages: xvfb, xdotool, openbox)")


@contextmanager
def xvfb() -> Iterator[XServer]:
    """A fresh Xvfb; it writes the display number it chose to a pipe once it accepts clients."""
    require_tools("Xvfb", "xdotool")
    read_end, write_end = os.pipe()
    # -noreset: Xvfb would otherwise reset each time its last client leaves, and refuse clients meanwhile
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp",
                                "-noreset"],
                               pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    server = None
    try:
        with os.fdopen(read_end, "rb") as pipe:
            number = pipe.readline().strip()  # empty if Xvfb exited
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit status {process.wait(START_TIMEOUT_S)})")
        server = XServer(f":{number.decode()}", process)
        yield server
    finally:
        for helper in [*(server.helpers if server else []), process]:
            helper.terminate()
            try:
                helper.wait(START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                helper.kill()
                helper.wait()
