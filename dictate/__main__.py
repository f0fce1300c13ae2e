"""`python -m dictate` runs the command line."""

import sys

from dictate.cli import main

sys.exit(main())
