"""The experiments: each trains with the ordinary Trainer and returns rows for one CSV file.

Every function takes the data (or a loader) and a budget, so the same code runs the full
experiments for ``docs/seeds.md`` and a one-second version in the tests. Budgets are explicit
because the paper's are not affordable: Bastani & Wang gave every point 10 hours.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..core.datasets import DigitData, split_validation
from ..core.models import MODELS
from ..core.presets import get_preset
from .probe import hardware, run_probed
from .shared_layer import COLUMNS as SHARED_LAYER_COLUMNS

Log = Callable[[str], None]


class ExperimentError(Exception):
    """An experiment cannot run (a bad argument, a missing optional dependency)."""


def _quiet(_message: str) -> None:
    pass


# --- CSV ------------------------------------------------------------------------------------

SWEEP_COLUMNS = [
    "experiment", "value", "model", "filters", "filter_size", "pool_blocks", "budget_steps", "budget_s", "train_s",
    "steps", "examples", "epochs_seen", "s_per_iteration", "s_per_iteration_mean", "s_per_epoch", "train_error", "test_error",
    "threads",
]  # fmt: skip
COLUMNS: dict[str, list[str]] = {
    "reproduce": [
        "preset", "seed", "dataset", "model", "reported", "reported_error", "test_error", "epochs_done",
        "epochs", "complete", "train_s", "wall_s", "s_per_epoch", "device", "threads", "hardware",
    ],
    "filter-size": SWEEP_COLUMNS,
    "filter-count": SWEEP_COLUMNS,
    "pool-size": SWEEP_COLUMNS,
    "time-curve": ["preset", "model", "dataset", "train_s", "steps", "examples", "epoch", "train_error", "test_error", "threads"],
    "train-fraction": [
        "preset", "fraction", "train_size", "budget_steps", "budget_s", "train_s", "steps", "examples", "epochs_seen",
        "train_error", "test_error", "threads",
    ],
    "hog-svm": ["method", "weight_decay", "train_s", "validation_error", "test_error", "chosen"],
    "shared-first-layer": SHARED_LAYER_COLUMNS,
}  # fmt: skip


def _cell(value):
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return "" if value is None else value


def write_csv(path: str | os.PathLike, name: str, rows: Iterable[dict]) -> Path:
    """Write ``rows`` with experiment ``name``'s columns, in order; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS[name], extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in COLUMNS[name]})
    return path


def read_csv(path: str | os.PathLike) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- reproduce the seed presets ---------------------------------------------------------------


def reproduce(
    presets: list[str],
    load: Callable[[str], DigitData],
    *,
    threads: int = 1,
    max_minutes: float = 0.0,
    epochs: int | None = None,
    on_row: Callable[[dict], None] | None = None,
    log: Log = _quiet,
) -> list[dict]:
    """Train each preset as it is (optionally capped) and measure its test error.

    ``load(dataset_name)`` returns the data; ``max_minutes`` caps each run's training time on top
    of the preset's own cap; ``epochs`` overrides the preset's epochs (for quick tries and tests).
    A capped run is reported with ``complete`` = 0, never passed off as the preset's figure.
    ``on_row`` receives each row as soon as it is measured (the CLI saves it at once).
    """
    rows = []
    cache: dict[str, DigitData] = {}
    for name in presets:
        preset = get_preset(name)
        overrides: dict = {"threads": threads}
        if max_minutes > 0:
            own = preset.config.max_minutes
            overrides["max_minutes"] = min(own, max_minutes) if own > 0 else max_minutes
        if epochs is not None:
            overrides["epochs"] = epochs
        config = preset.make_config(**overrides)
        if config.dataset not in cache:
            cache[config.dataset] = load(config.dataset)
        log(f"reproduce {name}: {config.model} on {config.dataset}, {config.epochs} epochs, batch {config.batch_size}")
        run = run_probed(config, cache[config.dataset])
        steps_per_epoch = run.started.steps_per_epoch if run.started else 0
        row = {
            "preset": name,
            "seed": preset.seed,
            "dataset": config.dataset,
            "model": config.model,
            "reported": preset.reported,
            "reported_error": preset.reported_error,
            "test_error": run.test_error,
            "epochs_done": run.finished.epochs_done if run.finished else 0,
            "epochs": config.epochs,
            "complete": int(bool(run.finished and not run.finished.stopped)),
            "train_s": run.train_s,
            "wall_s": run.wall_s,
            "s_per_epoch": run.train_s / run.steps * steps_per_epoch if run.steps else float("nan"),
            "device": run.started.device if run.started else "",
            "threads": threads,
            "hardware": hardware(),
        }
        log(
            f"  test error {row['test_error'] * 100:.2f}% after {row['epochs_done']} epochs, "
            f"{row['train_s']:.0f}s training ({'complete' if row['complete'] else 'capped'})"
        )
        rows.append(row)
        if on_row:
            on_row(row)
    return rows


def merge_rows(old: list[dict], new: list[dict], key: str) -> list[dict]:
    """``old`` with rows of the same ``key`` replaced by ``new`` ones, and the rest appended."""
    fresh = {row[key]: row for row in new}
    merged = [fresh.pop(row[key], row) for row in old]
    return merged + [row for row in new if row[key] in fresh]


# --- Bastani & Wang's sweeps --------------------------------------------------------------------

SWEEPS = {
    # experiment: (model argument, default values); the paper's ranges, sections 5.2-5.4
    "filter-size": ("filter_size", [5, 7, 9, 11, 13, 15]),
    "filter-count": ("filters", [8, 16, 32, 64, 128, 256]),
    "pool-size": ("pool_blocks", [1, 2, 3, 4, 5, 6]),
}


def _train_size(config, data: DigitData) -> int:
    """How many training digits the Trainer will use for ``config`` (its split, then its share)."""
    n = len(split_validation(len(data.train_labels), config.val_fraction, config.seed)[0])
    return max(1, round(n * config.train_fraction)) if config.train_fraction < 1.0 else n


def _budget(
    config, data: DigitData, steps: int | None, budget_s: float | None, epochs: int | None
) -> tuple[dict, dict]:
    """Config overrides and ``run_probed`` arguments for a budget of steps or of seconds.

    A step budget runs enough epochs and stops after ``steps`` steps; the run's final weights are
    the ones measured (``ProbedRun.final_errors``).
    """
    if steps is not None:
        train = _train_size(config, data)
        per_epoch = max(1, train // min(config.batch_size, train))
        return {"epochs": -(-steps // per_epoch), "max_minutes": 0.0}, {"max_steps": steps}
    if budget_s is None:
        raise ExperimentError("give a budget: steps or seconds")
    return {"epochs": epochs or 100_000, "max_minutes": budget_s / 60.0}, {}


def run_sweep(
    name: str,
    data: DigitData,
    *,
    values: list[int] | None = None,
    steps: int | None = None,
    budget_s: float | None = None,
    base: str = "bastani-wang",
    threads: int = 1,
    epochs: int | None = None,
    train_limit: int = 2000,
    memo: dict | None = None,
    log: Log = _quiet,
) -> list[dict]:
    """Train ``base`` with one architecture parameter varied, every point on the same budget.

    The budget is ``steps`` optimizer steps (batches of 256) or ``budget_s`` seconds of training.
    The paper gave every point the same time (10 hours); on a shared machine a time budget
    measures the neighbours' load as much as the network, so the default is a step budget and
    the cost shows in the time columns instead. Time per iteration (one batch) is the median over
    the run's progress reports (robust to a neighbour's burst; the mean is kept beside it), and
    time per epoch is extrapolated from it.
    ``epochs`` caps a time-budgeted run (for tests). ``memo`` shares identical points between
    sweeps (the default network is in all three).
    """
    if name not in SWEEPS:
        raise ExperimentError(f"unknown sweep {name!r}; known: {', '.join(SWEEPS)}")
    arg, defaults = SWEEPS[name]
    rows = []
    for value in values or defaults:
        config = get_preset(base).make_config(threads=threads)
        config.model_args[arg] = int(value)
        overrides, limits = _budget(config, data, steps, budget_s, epochs)
        config = dataclasses.replace(config, **overrides)
        args = {**MODELS[config.model].defaults, **config.model_args}
        key = json.dumps({**config.to_dict(), "model_args": args, "limits": limits}, sort_keys=True)
        if memo is not None and key in memo:
            rows.append({**memo[key], "experiment": name, "value": value})
            continue
        log(f"{name} = {value}: " + (f"{steps} steps" if steps is not None else f"{budget_s:g}s of training"))
        run = run_probed(config, data, train_limit=train_limit, **limits)
        train_error, test_error = run.final_errors(train_limit)
        steps_per_epoch = run.started.steps_per_epoch
        s_per_iteration = run.s_per_step
        row = {
            "experiment": name,
            "value": value,
            "model": config.model,
            "filters": args.get("filters"),
            "filter_size": args.get("filter_size"),
            "pool_blocks": args.get("pool_blocks"),
            "budget_steps": steps,
            "budget_s": budget_s,
            "train_s": run.train_s,
            "steps": run.steps,
            "examples": run.examples,
            "epochs_seen": run.steps / steps_per_epoch,
            "s_per_iteration": s_per_iteration,
            "s_per_iteration_mean": run.train_s / run.steps if run.steps else float("nan"),
            "s_per_epoch": s_per_iteration * steps_per_epoch,
            "train_error": train_error,
            "test_error": test_error,
            "threads": threads,
        }
        log(f"  test error {row['test_error'] * 100:.2f}%, {row['s_per_epoch']:.1f}s per epoch, {run.steps} steps")
        if memo is not None:
            memo[key] = row
        rows.append(row)
    return rows


# --- error against training time (Figure 8) -------------------------------------------------------


def parse_preset_list(text: str) -> list[tuple[str, int | None]]:
    """``"default:3,bastani-wang"`` -> ``[("default", 3), ("bastani-wang", None)]`` (name:epochs)."""
    items = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, epochs = part.partition(":")
        get_preset(name)  # fail early on a typo
        items.append((name, int(epochs) if epochs else None))
    if not items:
        raise ExperimentError("no presets given")
    return items


def time_curve(
    presets: list[tuple[str, int | None]],
    load: Callable[[str], DigitData],
    *,
    interval_s: float = 15.0,
    threads: int = 1,
    train_limit: int = 2000,
    test_limit: int | None = None,
    log: Log = _quiet,
) -> list[dict]:
    """Train each (preset, epochs) and measure train and test error every ``interval_s`` seconds.

    The training clock excludes the measurements. Train error is measured in eval mode on a fixed
    sample of ``train_limit`` training digits without augmentation, test error on the test set.
    """
    rows = []
    for name, epochs in presets:
        preset = get_preset(name)
        config = preset.make_config(threads=threads, **({"epochs": epochs} if epochs else {}))
        data = load(config.dataset)
        log(f"time-curve {name}: {config.epochs} epochs, a point every {interval_s:g}s of training")

        def point(p, name=name, config=config):
            log(f"  {p['train_s']:6.1f}s  train error {p['train_error'] * 100:5.2f}%  test error {p['test_error'] * 100:5.2f}%")
            rows.append({"preset": name, "model": config.model, "dataset": config.dataset, "threads": threads, **p})

        run_probed(config, data, eval_interval_s=interval_s, train_limit=train_limit, test_limit=test_limit, on_point=point)
    return rows


# --- error against the share of training data (Figure 11) ---------------------------------------


def train_fraction(
    data: DigitData,
    *,
    fractions: list[float] | None = None,
    steps: int | None = None,
    budget_s: float | None = None,
    base: str = "bastani-wang-h10",
    threads: int = 1,
    epochs: int | None = None,
    train_limit: int = 5000,
    log: Log = _quiet,
) -> list[dict]:
    """Train ``base`` on a seeded share of the training set, every share on the same budget.

    The budget is ``steps`` batches or ``budget_s`` seconds; small shares are seen many times over. The paper's Figure 11 used the default network
    with a 10-neuron hidden layer, hence ``bastani-wang-h10``. Train error is measured on (up to
    ``train_limit`` of) the share itself.
    """
    rows = []
    for fraction in fractions or [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]:
        config = get_preset(base).make_config(threads=threads, train_fraction=float(fraction))
        overrides, limits = _budget(config, data, steps, budget_s, epochs)
        config = dataclasses.replace(config, **overrides)
        log(f"train-fraction {fraction:g}: " + (f"{steps} steps" if steps is not None else f"{budget_s:g}s of training"))
        run = run_probed(config, data, train_limit=train_limit, **limits)
        train_error, test_error = run.final_errors(train_limit)
        row = {
            "preset": base,
            "fraction": fraction,
            "train_size": run.started.train_size,
            "budget_steps": steps,
            "budget_s": budget_s,
            "train_s": run.train_s,
            "steps": run.steps,
            "examples": run.examples,
            "epochs_seen": run.steps / run.started.steps_per_epoch,
            "train_error": train_error,
            "test_error": test_error,
            "threads": threads,
        }
        log(f"  {row['train_size']} digits, {run.steps} steps: train error {row['train_error'] * 100:.2f}%, "
            f"test error {row['test_error'] * 100:.2f}%")
        rows.append(row)
    return rows


# --- the registry the CLI reads ----------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    csv_names: tuple[str, ...]  # the CSV files it writes (stem = experiment name)


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        Experiment("reproduce", "train each seed preset as described; measured vs reported test error", ("reproduce",)),
        Experiment("filter-size", "Bastani-Wang: test error and time per epoch against filter size (5..15)", ("filter-size",)),
        Experiment("filter-count", "Bastani-Wang: test error and time per epoch against filter count (8..256)", ("filter-count",)),
        Experiment("pool-size", "Bastani-Wang: test error and time per epoch against pooling blocks (1..6)", ("pool-size",)),
        Experiment("sweeps", "the three sweeps above in one run (the default network trained once)",
                   ("filter-size", "filter-count", "pool-size")),
        Experiment("time-curve", "train and test error against training time (the paper's Figure 8)", ("time-curve",)),
        Experiment("train-fraction", "train and test error against the share of training data (Figure 11)", ("train-fraction",)),
        Experiment("hog-svm", "HOG features + linear SVM against the shipped CNN on MNIST (the paper's baseline)", ("hog-svm",)),
        Experiment("shared-first-layer", "the seed's idea: letters and digits with a shared first layer, "
                   "two separate networks, and letters alone, on equal budgets", ("shared-first-layer",)),
        Experiment("plot", "render the PNG plots again from the CSV files in --out", ()),
    ]
}  # fmt: skip
