"""The ``digitpad`` command line: one module per command group, this one the parser and ``main``.

- ``catalog``: ``models``, ``download``;  ``train``: ``train``;  ``evaluate``: ``eval``, ``predict``;
- ``experiment``: ``experiment``;  ``personal``: ``personal ...``, ``finetune``;
- ``tools``: ``doctor``, ``export``;
- ``common``: what they share (exit codes, ``CliError``, the progress bar, data and model loading).

Exit codes: 0 success, 2 usage error (argparse), 1 failure with a one-line message on stderr
(a traceback only with ``--debug``). The command line never imports Qt or the UI: ``gui`` (and no
command at all) calls the ``start_app`` that ``digitpad.__main__`` hands to ``main``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from . import catalog, evaluate, experiment, personal, tools, train
from .common import EXIT_FAILURE, CliError

# Each adds its sub-commands to the parser, in the order ``digitpad --help`` lists them (after gui).
COMMAND_GROUPS = (catalog, train, evaluate, experiment, personal, tools)

StartApp = Callable[["str | None"], int]  # model path or None -> exit code


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="digitpad", description="Draw a digit and watch a CNN read it; train it; look inside it.")
    parser.add_argument("--version", action="version", version=f"digitpad {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="start the app (the default)")
    gui.add_argument("--model", help="checkpoint to open instead of the shipped default, or a shipped model's name (digitpad models)")
    gui.set_defaults(func=None)  # main() runs start_app

    for group in COMMAND_GROUPS:
        group.add_commands(commands)
    return parser


def main(argv: list[str] | None = None, start_app: StartApp | None = None) -> int:
    """Run one command; ``gui`` (or none) calls ``start_app(model_path)`` (``digitpad.__main__``'s)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `digitpad` alone starts the app
        args.func, args.model = None, None
    try:
        if args.func is None:
            if start_app is None:
                raise CliError("the app starts from `digitpad` or `python -m digitpad` (digitpad.__main__)")
            return start_app(args.model)
        return args.func(args)
    except KeyboardInterrupt:
        print("digitpad: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - the CLI's contract is one line, exit 1
        if args.debug:
            raise
        from ..core.checkpoints import CheckpointError
        from ..core.download import DataError

        known = (CliError, CheckpointError, DataError, KeyError, ValueError, OSError)
        message = str(error).strip("'\"") if isinstance(error, known) else f"{type(error).__name__}: {error}"
        print(f"digitpad: error: {message.splitlines()[0] if message else type(error).__name__}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
