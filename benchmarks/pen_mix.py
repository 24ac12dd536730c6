"""Choose the mnist+pen mix on the validation writers: how many drawings of each training pen digit.

Run by hand: ``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/pen_mix.py [--epochs 2]``.
Each candidate trains the default recipe with a short one-cycle schedule (--epochs) and is scored on the writer-disjoint validation set: pen validation writers and MNIST's 5,000 held-out
digits, separately. The test writers are never looked at here.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2], help="drawings per pen training digit")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per candidate (a whole one-cycle schedule)")
    args = parser.parse_args()

    from digitpad.core import pen
    from digitpad.core.datasets import load_dataset
    from digitpad.core.presets import get_preset
    from digitpad.core.trainer import Trainer

    digits, reports = pen.load_pen_digits(download=False)
    print("; ".join(str(r) for r in reports))
    mnist = load_dataset("mnist", download=False)
    for copies in args.copies:
        pen.PEN_COPIES = copies
        data = pen.build_pen_data("mnist+pen", digits, mnist)
        n_mnist_val = 5000
        config = dataclasses.replace(get_preset("default").make_config(), dataset="mnist+pen", epochs=args.epochs, threads=2)
        trainer = Trainer(config, data)
        start = time.perf_counter()
        events = list(trainer.run())
        val = next(e for e in events if type(e).__name__ == "Evaluated" and e.split == "val")
        right = np.ones(len(data.val_labels), bool)
        right[val.wrong_indices] = False
        print(f"copies {copies}: {len(data.train_labels)} training images; val MNIST {right[:n_mnist_val].mean() * 100:.2f}%, "
              f"val pen writers {right[n_mnist_val:].mean() * 100:.2f}% ({(~right[n_mnist_val:]).sum()} wrong), "
              f"{time.perf_counter() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
