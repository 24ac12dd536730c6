"""``python -m digitpad``: the command line (no arguments starts the app)."""

import sys

from digitpad.cli import main

sys.exit(main())
