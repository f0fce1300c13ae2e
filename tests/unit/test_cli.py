"""The `dictate` command line: an unknown command is one line and exit 2, never a second window."""

from __future__ import annotations

import subprocess
import sys


def test_an_unknown_command_is_one_line_and_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "dictate", "begin"], capture_output=True, text=True, timeout=60,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "dictate: unknown command 'begin' (commands: models, transcribe, stream, toggle, start, stop, paste-last, "
        "status, quit; none opens the window)"]


def test_stream_takes_the_beams_of_the_final_decode() -> None:
    from dictate.cli import build_parser

    assert build_parser().parse_args(["stream"]).final_beam == 5  # beam search where nothing checks the words
    assert build_parser().parse_args(["stream", "--final-beam", "1"]).final_beam == 1
