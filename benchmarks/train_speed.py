"""Training speed: digitpad's default net against pytorch/examples' mnist reference, in one run.

Run by hand: ``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/train_speed.py``.

Both train on the same 55,000 MNIST digits with digitpad's Trainer on this machine's CPU (all
cores). The 10,000 test digits are evaluated every ``--eval-every`` seconds of training; the
evaluation time is kept off the training clock. Printed for each: training time to 99.0% and to
99.5% test accuracy (or "not reached"), samples per second, and the ratio of the two times.

The reference re-implements pytorch/examples ``mnist/main.py``: conv 3x3x32, conv 3x3x64,
max-pool, dropout 0.25, dense 128, dropout 0.5, dense 10; Adadelta lr 1.0 with the learning rate
times 0.7 each epoch, batch 64, no augmentation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = (0.990, 0.995)


def reference_config(epochs: int):
    from digitpad.core.config import TrainConfig

    return TrainConfig(
        model="pytorch-example", optimizer="adadelta", lr=1.0, schedule="step", step_gamma=0.7, batch_size=64,
        epochs=epochs, augment=False, label_smoothing=0.0, weight_decay=0.0, threads=os.cpu_count() or 1,
    )


def default_config(epochs: int, batch_size: int, lr: float):
    from digitpad.core.presets import get_preset

    return get_preset("default").make_config(epochs=epochs, batch_size=batch_size, lr=lr, threads=os.cpu_count() or 1)


def time_to(points, accuracy: float) -> float | None:
    for point in points:
        if 1 - point["test_error"] >= accuracy:
            return point["train_s"]
    return None


def measure(name, config, data, eval_every: float):
    from digitpad.experiments.probe import run_probed

    print(f"{name}: {config.model}, {config.epochs} epochs, batch {config.batch_size}, {config.optimizer} lr {config.lr}", flush=True)

    def on_point(point):
        print(f"    {point['train_s']:7.1f}s  epoch {point['epoch']:5.2f}  test accuracy {(1 - point['test_error']) * 100:6.2f}%", flush=True)

    start = time.perf_counter()
    run = run_probed(config, data, eval_interval_s=eval_every, train_limit=500, on_point=on_point)
    rate = run.examples / max(run.train_s, 1e-9)
    return {"name": name, "points": run.points, "rate": rate, "wall": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-every", type=float, default=5.0, help="seconds of training between test evaluations")
    parser.add_argument("--default-epochs", type=int, default=4)
    parser.add_argument("--default-batch", type=int, default=128)
    parser.add_argument("--default-lr", type=float, default=0.1)
    parser.add_argument("--reference-epochs", type=int, default=5)
    args = parser.parse_args()

    from digitpad.core.datasets import load_dataset
    from digitpad.experiments.probe import hardware

    data = load_dataset("mnist", download=False)
    print(f"machine: {hardware()}; torch threads {os.cpu_count()}")
    runs = [
        measure("digitpad default", default_config(args.default_epochs, args.default_batch, args.default_lr), data, args.eval_every),
        measure("pytorch/examples reference", reference_config(args.reference_epochs), data, args.eval_every),
    ]
    print()
    print(f"{'':30}{'to 99.0%':>12}{'to 99.5%':>12}{'samples/s':>12}{'final':>9}")
    for run in runs:
        times = [time_to(run["points"], t) for t in TARGETS]
        cells = "".join(f"{t:>11.1f}s" if t is not None else f"{'not reached':>12}" for t in times)
        print(f"{run['name']:<30}{cells}{run['rate']:>12,.0f}{(1 - run['points'][-1]['test_error']) * 100:>8.2f}%")
    ours, ref = ([time_to(r["points"], t) for t in TARGETS] for r in runs)
    for target, a, b in zip(TARGETS, ours, ref):
        if a and b:
            print(f"to {target * 100:.1f}%: digitpad is {b / a:.1f}x sooner than the reference")
        else:
            print(f"to {target * 100:.1f}%: ratio not available (a run did not reach it)")
    print(f"throughput ratio: {runs[0]['rate'] / runs[1]['rate']:.2f}x")


if __name__ == "__main__":
    main()
