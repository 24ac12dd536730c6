"""``digitpad experiment NAME``: run one of the seed experiments (``digitpad.experiments``), write its CSV and PNG.

Each experiment writes ``<out>/<name>.csv`` and, with matplotlib installed,
``<out>/<name>.png``; ``digitpad experiment plot`` redraws the PNGs from the CSV files.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..experiments.suite import EXPERIMENTS, ExperimentError
from .common import DATA_HELP, EXIT_OK, CliError, load_data

DEFAULT_REPRODUCE = "torch5-usps,default-usps,lasagne-5,bastani-wang,bastani-wang-h10,tflearn"


def _log(message: str) -> None:
    print(message, flush=True)


def _load_data(name: str, root):
    """The data set, verified, as the train command loads it (tests replace this)."""
    return load_data(name, root)


def _ints(text: str | None) -> list[int] | None:
    return [int(v) for v in text.split(",") if v.strip()] if text else None


def _floats(text: str | None) -> list[float] | None:
    return [float(v) for v in text.split(",") if v.strip()] if text else None


def _seeds(text: str | None) -> list[int]:
    """--seeds "0,1,2" as whole numbers (default [0]); anything else is a usage error saying so."""
    try:
        return [int(v) for v in text.split(",") if v.strip()] if text else [0]
    except ValueError:
        raise CliError(f"--seeds takes comma-separated whole numbers (like 0,1,2); got {text!r} instead") from None


def _budget(args, default_steps: int) -> dict:
    """--steps or --budget-s (not both); neither: ``default_steps``."""
    if args.steps is not None and args.budget_s is not None:
        raise CliError("give --steps or --budget-s, not both")
    if args.budget_s is not None:
        return {"budget_s": args.budget_s}
    return {"steps": args.steps if args.steps is not None else default_steps}


def cmd_experiment(args) -> int:
    from ..experiments import suite

    if args.threads < 1:
        raise CliError("--threads must be at least 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = args.name
    start = time.perf_counter()
    written: list[Path] = []
    loaded: dict = {}

    def load(dataset: str):
        if dataset not in loaded:
            loaded[dataset] = _load_data(dataset, args.data)
        return loaded[dataset]

    try:
        if name == "reproduce":
            presets = [p.strip() for p in (args.presets or DEFAULT_REPRODUCE).split(",") if p.strip()]
            path = out / "reproduce.csv"
            # Each preset's row is saved as soon as it is measured, replacing that preset's old row:
            # presets can be rerun one at a time, and an interrupted run keeps what it finished.
            table = suite.read_csv(path) if path.is_file() else []

            def save(row):
                table[:] = suite.merge_rows(table, [row], "preset")
                suite.write_csv(path, "reproduce", table)

            suite.reproduce(
                presets, load, threads=args.threads, max_minutes=args.max_minutes, epochs=args.epochs,
                on_row=save, log=_log,
            )  # fmt: skip
            written.append(path)
        elif name in ("filter-size", "filter-count", "pool-size", "sweeps"):
            data = load("mnist")
            memo: dict = {}
            for sweep in EXPERIMENTS[name].csv_names:
                rows = suite.run_sweep(
                    sweep, data, values=_ints(args.values), threads=args.threads, epochs=args.epochs,
                    memo=memo, log=_log, **_budget(args, default_steps=100),
                )  # fmt: skip
                written.append(suite.write_csv(out / f"{sweep}.csv", sweep, rows))
        elif name == "time-curve":
            presets = suite.parse_preset_list(args.presets or "default:2,bastani-wang")
            rows = suite.time_curve(
                presets, load, interval_s=args.interval_s, threads=args.threads, log=_log
            )
            written.append(suite.write_csv(out / "time-curve.csv", "time-curve", rows))
        elif name == "train-fraction":
            data = load("mnist")
            rows = suite.train_fraction(
                data, fractions=_floats(args.values), threads=args.threads, epochs=args.epochs, log=_log,
                **_budget(args, default_steps=300),
            )  # fmt: skip
            written.append(suite.write_csv(out / "train-fraction.csv", "train-fraction", rows))
        elif name == "hog-svm":
            import torch

            from ..experiments.hog_svm import compare

            torch.set_num_threads(args.threads)
            rows = compare(load("mnist"), epochs=args.epochs or 15, checkpoint_path=args.model, log=_log)
            written.append(suite.write_csv(out / "hog-svm.csv", "hog-svm", rows))
        elif name == "shared-first-layer":
            import torch

            from ..experiments.shared_layer import compare

            torch.set_num_threads(args.threads)
            seeds = _seeds(args.seeds)
            rows = compare(load("digits+letters"), fractions=_floats(args.values) or [0.1], epochs=args.epochs or 3,
                           threads=args.threads, seeds=seeds, log=_log)
            written.append(suite.write_csv(out / "shared-first-layer.csv", "shared-first-layer", rows))
        for path in written:
            print(f"wrote {path}")
        if name == "plot" or not args.no_plot:
            from ..experiments.plots import plot_all

            for png in plot_all(out, None if name == "plot" else EXPERIMENTS[name].csv_names):
                print(f"plotted {png}")
    except ExperimentError as error:
        raise CliError(str(error)) from None
    except RuntimeError as error:  # a training run failed
        raise CliError(str(error)) from None
    print(f"experiment {name} took {time.perf_counter() - start:.0f}s", file=sys.stderr)
    return EXIT_OK


def add_commands(commands) -> None:
    """Add ``experiment`` to the ``digitpad`` parser."""
    listing = "; ".join(f"{e.name}: {e.description}" for e in EXPERIMENTS.values())
    parser = commands.add_parser(
        "experiment",
        help="run a seed experiment (CSV + PNG): " + ", ".join(EXPERIMENTS),
        description="Experiments from the seed documents. " + listing,
    )
    parser.add_argument("name", choices=list(EXPERIMENTS), metavar="NAME", help=", ".join(EXPERIMENTS))
    parser.add_argument("--out", default="digitpad-experiments", help="folder for the CSV and PNG files")
    parser.add_argument("--data", help=DATA_HELP)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per run (default 1)")
    parser.add_argument("--steps", type=int,
                        help="sweeps and train-fraction: training batches per point (default 100 and 300)")
    parser.add_argument("--budget-s", type=float,
                        help="sweeps and train-fraction: seconds of training per point instead of --steps")
    parser.add_argument("--values", help="sweeps: comma-separated parameter values; train-fraction and "
                        "shared-first-layer: fractions of the training set (shared-first-layer default 0.1)")
    parser.add_argument("--presets", help="reproduce: comma-separated presets; time-curve: NAME[:EPOCHS],... (default default:2,bastani-wang)")
    parser.add_argument("--interval-s", type=float, default=15.0,
                        help="time-curve: seconds of training between measurements (default 15)")
    parser.add_argument("--max-minutes", type=float, default=0.0,
                        help="reproduce: cap each preset's training time (0: the preset's own)")
    parser.add_argument("--epochs", type=int,
                        help="override epochs (reproduce, hog-svm's SVM: 15) or cap them (sweeps, train-fraction)")
    parser.add_argument("--model", help="hog-svm: the CNN checkpoint to compare with (default: the shipped model)")
    parser.add_argument("--seeds", help="shared-first-layer: comma-separated seeds, each a full repeat (default 0); "
                        "the plot shows their mean and range")
    parser.add_argument("--no-plot", action="store_true", help="write the CSV only")
    parser.set_defaults(func=cmd_experiment)
