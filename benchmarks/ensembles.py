"""Would averaging models read better? Each model alone, then every pair and triple averaged.

Run by hand: ``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/ensembles.py MODEL MODEL [MODEL ...]``
(paths or shipped names). Each model's calibrated log-probabilities are summed over the members of
a combination (the geometric mean of their probabilities) and the best digit is compared with the
truth on the MNIST and USPS test sets and on the held-out pen writers' digits, drawn as the `pen`
datasets draw their test split, through the stroke path and as painted PNGs (``prepare_image``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def test_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from digitpad.core import pen
    from digitpad.core.datasets import load_dataset

    mnist, usps = load_dataset("mnist", download=False), load_dataset("usps", download=False)
    held_out = pen.held_out_digits()
    return {
        "MNIST": (mnist.test_images, mnist.test_labels),
        "USPS": (usps.test_images, usps.test_labels),
        "pen strokes": pen.render_digits(held_out, pen.TEST_DRAWING_SEED, 1, 0.0),
        "pen PNG": pen.render_digits(held_out, pen.TEST_DRAWING_SEED, 1, 1.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="checkpoint paths or shipped model names")
    parser.add_argument("--largest", type=int, default=3, help="the most members a combination has")
    args = parser.parse_args()

    from digitpad.core.checkpoints import load_checkpoint
    from digitpad.core.evaluation import evaluate_checkpoint
    from digitpad.core.inference import find_model

    torch.set_num_threads(1)
    sets = test_sets()
    log_probs = {}
    for name in args.models:
        checkpoint = load_checkpoint(find_model(name))
        for test, (images, labels) in sets.items():
            log_probs[name, test] = np.log(evaluate_checkpoint(checkpoint, images, labels).probabilities + 1e-12)
    print(f"{'models':<60}" + "".join(f"{test:>13}" for test in sets))
    for size in range(1, min(args.largest, len(args.models)) + 1):
        for members in itertools.combinations(args.models, size):
            row = [float((sum(log_probs[m, test] for m in members).argmax(1) == labels).mean()) for test, (_, labels) in sets.items()]
            label = " + ".join(Path(m).stem for m in members)
            print(f"{label:<60}" + "".join(f"{100 * accuracy:>12.2f}%" for accuracy in row), flush=True)


if __name__ == "__main__":
    main()
