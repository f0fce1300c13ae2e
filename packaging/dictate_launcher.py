"""PyInstaller entry script: the frozen `dictate` runs the same dispatcher as the console script."""

import sys

from dictate.cli import main

if __name__ == "__main__":
    sys.exit(main())
