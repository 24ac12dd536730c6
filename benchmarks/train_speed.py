"""Training speed: digitpad's default recipe against pytorch/examples' mnist reference.

Run by hand on an otherwise idle machine:
``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/train_speed.py [--seeds 3]``.

Both train on the same 55,000 MNIST digits with digitpad's Trainer on this machine's CPU (all
cores). The 10,000 test digits are evaluated every ``--eval-every`` seconds of training; the
evaluation is kept off the training clock. A recipe "reaches" an accuracy at the first evaluation
from which two evaluations in a row are at or above it: the reference hovers around 99.0% from its
third epoch on, so the first touch of 99.0% is noise, not speed. Each recipe runs with several
seeds; the table gives the median time and the spread (min-max), the ratio of the medians, and
the CPU it ran on.

The reference re-implements pytorch/examples ``mnist/main.py``: conv 3x3x32, conv 3x3x64,
max-pool, dropout 0.25, dense 128, dropout 0.5, dense 10; Adadelta lr 1.0 with the learning rate
times 0.7 each epoch, batch 64, no augmentation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = (0.990, 0.995)
STAY = 2  # evaluations in a row at or above the target


def reference_config(epochs: int, seed: int):
    from digitpad.core.config import TrainConfig

    return TrainConfig(
        model="pytorch-example", optimizer="adadelta", lr=1.0, schedule="step", step_gamma=0.7, batch_size=64,
        epochs=epochs, augment=False, label_smoothing=0.0, weight_decay=0.0, threads=os.cpu_count() or 1, seed=seed,
    )


def default_config(epochs: int, batch_size: int, lr: float, seed: int):
    from digitpad.core.presets import get_preset

    return get_preset("default").make_config(epochs=epochs, batch_size=batch_size, lr=lr, threads=os.cpu_count() or 1,
                                             seed=seed)


def time_to_stay(points: list[dict], accuracy: float, stay: int = STAY) -> float | None:
    """Training seconds at the first evaluation that starts ``stay`` in a row at or above ``accuracy``."""
    above = [1 - p["test_error"] >= accuracy for p in points]
    for i in range(len(points) - stay + 1):
        if all(above[i : i + stay]):
            return points[i]["train_s"]
    return None


def run_once(name: str, config, data, eval_every: float) -> dict:
    from digitpad.experiments.probe import run_probed

    def on_point(point):
        print(f"    {point['train_s']:7.1f}s  epoch {point['epoch']:5.2f}  test {(1 - point['test_error']) * 100:6.2f}%", flush=True)

    print(f"{name} seed {config.seed}: {config.model}, {config.epochs} epochs, batch {config.batch_size}, "
          f"{config.optimizer} lr {config.lr}", flush=True)
    run = run_probed(config, data, eval_interval_s=eval_every, train_limit=500, on_point=on_point)
    return {"times": [time_to_stay(run.points, t) for t in TARGETS], "rate": run.examples / max(run.train_s, 1e-9),
            "final": 1 - run.points[-1]["test_error"]}


def summary(values: list[float | None]) -> str:
    reached = [v for v in values if v is not None]
    if len(reached) < len(values):
        return f"{len(values) - len(reached)}/{len(values)} not reached"
    return f"{statistics.median(reached):6.1f}s ({min(reached):.1f}-{max(reached):.1f})"


def median_or_none(values: list[float | None]) -> float | None:
    return statistics.median(values) if values and all(v is not None for v in values) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--eval-every", type=float, default=2.0, help="seconds of training between test evaluations")
    parser.add_argument("--default-epochs", type=int, default=4)
    parser.add_argument("--default-batch", type=int, default=128)
    parser.add_argument("--default-lr", type=float, default=0.1)
    parser.add_argument("--reference-epochs", type=int, default=6)
    parser.add_argument("--only", choices=["default", "reference"], help="run one recipe only")
    args = parser.parse_args()

    from digitpad.core.datasets import load_dataset
    from digitpad.experiments.probe import hardware

    data = load_dataset("mnist", download=False)
    print(f"machine: {hardware()}; torch threads {os.cpu_count()}", flush=True)
    recipes = {
        "digitpad default": lambda s: default_config(args.default_epochs, args.default_batch, args.default_lr, s),
        "pytorch/examples reference": lambda s: reference_config(args.reference_epochs, s),
    }
    if args.only:
        recipes = {k: v for k, v in recipes.items() if k.startswith("digitpad" if args.only == "default" else "pytorch")}
    results = {name: [run_once(name, make(seed), data, args.eval_every) for seed in range(args.seeds)]
               for name, make in recipes.items()}

    print(f"\nmachine: {hardware()}")
    print(f"{'':30}{'to 99.0% and staying':>28}{'to 99.5% and staying':>28}{'samples/s':>12}{'final':>9}")
    for name, runs in results.items():
        cells = "".join(f"{summary([r['times'][i] for r in runs]):>28}" for i in range(len(TARGETS)))
        rate = statistics.median(r["rate"] for r in runs)
        final = statistics.median(r["final"] for r in runs)
        print(f"{name:<30}{cells}{rate:>12,.0f}{final * 100:>8.2f}%")
    if len(results) == 2:
        ours, ref = results.values()
        for i, target in enumerate(TARGETS):
            a, b = median_or_none([r["times"][i] for r in ours]), median_or_none([r["times"][i] for r in ref])
            verdict = f"digitpad is {b / a:.1f}x sooner (medians)" if a and b else "ratio not available (not reached)"
            print(f"to {target * 100:.1f}%: {verdict}")


if __name__ == "__main__":
    main()
