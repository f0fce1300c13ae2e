"""`dictate toggle|start|stop|paste-last|status|quit`: commands for the dictate window that is running.

Bind them to keys in the desktop's own shortcut settings. They reach the running instance over its
local socket (dictate.gui.single_instance), imported only when one runs: no window toolkit is loaded.
"""

from __future__ import annotations

import argparse
import sys

EXIT_REFUSED = 1  # the instance answered, but could not do it (no model yet, nothing to paste)
EXIT_ERROR = 2  # no instance runs, or it did not answer
NOT_RUNNING = "dictate: no dictate window is running; start it with `dictate`"
COMMANDS = {  # command -> help
    "toggle": "start dictating in the running window, or stop if it is dictating",
    "start": "start dictating in the running window",
    "stop": "stop dictating in the running window (the words said so far are kept)",
    "paste-last": "paste the last dictation into the focused application",
    "status": "print what the running window is doing (idle, recording, ...) and whether it is shown",
    "quit": "close the running window and quit (recording finishes first)",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register one subcommand per remote command."""
    for name, text in COMMANDS.items():
        subparsers.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}.")


def run(args: argparse.Namespace) -> int:
    """Send the command; print the instance's reply (stdout) or why it failed (one line on stderr)."""
    from dictate.gui.single_instance import NoInstance, send_command

    try:
        reply = send_command(args.command)
    except NoInstance:
        print(NOT_RUNNING, file=sys.stderr)
        return EXIT_ERROR
    except TimeoutError as error:
        print(f"dictate: {error}", file=sys.stderr)
        return EXIT_ERROR
    if not reply.ok:
        print(f"dictate: {reply.text}", file=sys.stderr)
        return EXIT_REFUSED
    print(reply.text)
    return 0
