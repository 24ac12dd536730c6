"""Start digitpad from a checkout: ``python main.py`` (same as ``digitpad``)."""

import sys

from digitpad.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
