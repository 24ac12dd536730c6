"""Start digitpad from a checkout: ``python main.py`` (same as ``digitpad``)."""

import sys

from digitpad.cli import main

if __name__ == "__main__":
    sys.exit(main())
