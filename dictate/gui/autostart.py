"""Start dictate at login, hidden in the tray: an XDG autostart entry (`$XDG_CONFIG_HOME/autostart/`).

The entry is packaging/io.github.dictate.desktop (the launcher's entry) with `--hidden` on its command
and no startup notification (no busy cursor for a window that does not open). No Qt here.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

AUTOSTART_FILE = "dictate.desktop"
HIDDEN_OPTION = "--hidden"
COMMAND_NAME = "dictate"
SAFE_EXEC = re.compile(r"[A-Za-z0-9_/.+,:@%=-]+")  # an Exec argument that needs no quoting
# The launcher entry's keys (packaging/io.github.dictate.desktop; a test keeps the two the same)
# followed by the autostart ones.
ENTRY_TEMPLATE = """\
[Desktop Entry]
Type=Application
Name=Dictate
GenericName=Dictation
Comment=Live offline dictation with Whisper: speak and watch your words appear
Exec={exec}
Icon=io.github.dictate
Terminal=false
Categories=AudioVideo;Audio;Utility;Accessibility;
Keywords=dictation;speech;transcription;captions;whisper;voice;
StartupNotify=false
StartupWMClass=dictate
X-GNOME-Autostart-enabled=true
"""


def autostart_path() -> Path:
    """Where the entry goes: `$XDG_CONFIG_HOME/autostart/dictate.desktop` (default `~/.config`)."""
    config = os.environ.get("XDG_CONFIG_HOME") or ""
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"  # the spec ignores a relative one
    return base / "autostart" / AUTOSTART_FILE


def launch_command() -> str:
    """The program that starts this dictate: the frozen app itself, the `dictate` script beside this
    Python (a virtual environment need not be on the login PATH), or `dictate` from the PATH."""
    if getattr(sys, "frozen", False):
        return sys.executable
    beside = Path(sys.executable).parent / COMMAND_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(COMMAND_NAME) or COMMAND_NAME


def exec_line(program: str) -> str:
    """The Exec value: `program --hidden`, the program quoted as the Desktop Entry spec asks if it needs it."""
    if not SAFE_EXEC.fullmatch(program):
        escaped = re.sub(r'(["`$\\])', r"\\\1", program)
        program = '"' + escaped.replace("\\", "\\\\") + '"'  # the value itself escapes backslashes once more
    return f"{program} {HIDDEN_OPTION}"


def autostart_entry(program: str | None = None) -> str:
    """The entry's text."""
    return ENTRY_TEMPLATE.format(exec=exec_line(program or launch_command()))


def autostart_enabled() -> bool:
    return autostart_path().is_file()


def set_autostart(enabled: bool, program: str | None = None) -> Path:
    """Write the entry (dictate starts hidden at the next login) or remove it; returns its path.

    Raises OSError when the folder cannot be written."""
    path = autostart_path()
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(autostart_entry(program), encoding="utf-8")
        temporary.replace(path)  # a session starting now never reads half an entry
    else:
        path.unlink(missing_ok=True)
    return path
