"""``digitpad`` and ``python -m digitpad``: the command line; no command (or ``gui``) starts the app.

The one module that knows both front ends: the command line never imports the UI, and the UI
never imports the command line (import-linter contracts), so the app's start is handed to it here.
"""

from __future__ import annotations

import sys


def start_app(model_path: str | None = None) -> int:
    """The app's event loop, until its window closes (Qt is imported only now)."""
    from digitpad.ui.app import main as app_main

    return app_main(model_path=model_path)


def main(argv: list[str] | None = None) -> int:
    from digitpad.cli import main as cli_main

    return cli_main(argv, start_app=start_app)


if __name__ == "__main__":
    sys.exit(main())
