"""PyInstaller entry script: subcommands go to the `dictate` dispatcher, anything else opens the window.

The window's hidden options (`--input`, `--screenshot`, `--quit-when-shown`) reach the GUI
this way; the console script's parser would reject them.
"""

import sys

from dictate.cli import SUBCOMMANDS
from dictate.cli import main as cli_main
from dictate.gui.app import main as gui_main

if __name__ == "__main__":
    arguments = sys.argv[1:]
    wants_cli = bool(arguments) and (arguments[0] in SUBCOMMANDS or arguments[0] in ("-h", "--help"))
    sys.exit(cli_main(arguments) if wants_cli else gui_main(arguments))
