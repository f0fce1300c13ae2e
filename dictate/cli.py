"""`dictate` command line: subcommands run headless; anything else opens the window with those options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dictate import cli_models, cli_remote, cli_stream, cli_transcribe

SUBCOMMANDS = {"models": cli_models, "transcribe": cli_transcribe, "stream": cli_stream,
               **dict.fromkeys(cli_remote.COMMANDS, cli_remote)}  # these reach the running window


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered by its own module."""
    parser = argparse.ArgumentParser(prog="dictate", description="Offline live dictation with Whisper.")
    subparsers = parser.add_subparsers(dest="command")
    for module in dict.fromkeys(SUBCOMMANDS.values()):  # each module once, in order
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dictate` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-") and argv[0] not in SUBCOMMANDS:  # not a window option either
        print(f"dictate: unknown command {argv[0]!r} (commands: {', '.join(SUBCOMMANDS)}; "
              "none opens the window)", file=sys.stderr)
        return 2
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help"):
        from dictate.gui.app import main as gui_main

        return gui_main(argv)
    args = build_parser().parse_args(argv)
    return SUBCOMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
