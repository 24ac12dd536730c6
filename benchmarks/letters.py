"""Reading real people's letters, and what reading letters costs the digits.

Run by hand: ``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/letters.py [--model M] [--json F]``.

Letters: the held-out UNIPEN sites' capitals and small letters (``core.letters``: sites whose digits
are held out too, never trained or validated on), each drawn on the pad as a person would
(``pen.render_digits``, the stroke path, the test split's fixed seed), read with the letter head:
exact case, case-insensitive, the unsure rate, per case, per site, and the most frequent confusions.
A sample is also read through PNG files (painted, ``prepare_image``).

Digits: the joint model's digit head beside a digits-only model (``--digits-model``, default the
shipped digits model) on the MNIST test set and the held-out pen writers' digits (stroke path).

Latency: reading one drawn letter from strokes, as the pad does on each frame (``predict_strokes``:
preprocessing and a batch of one), p50 and p99 over many drawings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.pen_digits import cpu_model  # noqa: E402
from digitpad.core import letters, pen  # noqa: E402
from digitpad.core.alphabets import DIGITS, DIGITS_AND_LETTERS, LETTERS  # noqa: E402
from digitpad.core.checkpoints import load_checkpoint  # noqa: E402
from digitpad.core.datasets import load_dataset  # noqa: E402
from digitpad.core.evaluation import evaluate_checkpoint  # noqa: E402
from digitpad.core.inference import Predictor, default_model_path  # noqa: E402


def letter_report(checkpoint, parts) -> dict:
    test = parts["test"]
    images, labels = pen.render_digits(test, pen.TEST_DRAWING_SEED, 1, 0.0)
    result = evaluate_checkpoint(checkpoint, images, labels - len(DIGITS), classes=LETTERS)
    names = np.asarray(LETTERS)
    truth, read = names[result.labels], names[result.predicted]
    folded = np.char.lower(truth.astype(str)) == np.char.lower(read.astype(str))
    report = {
        "count": int(len(labels)),
        "sites": sorted({r.site for r in test}),
        "exact": result.accuracy,
        "case_insensitive": result.case_insensitive_accuracy,
        "unsure": 1.0 - result.confident_fraction,
        "capitals_case_insensitive": float(folded[np.char.isupper(truth.astype(str))].mean()),
        "small_case_insensitive": float(folded[np.char.islower(truth.astype(str))].mean()),
    }
    sites = np.asarray([r.site for r in test])
    report["per_site_case_insensitive"] = {site: float(folded[sites == site].mean()) for site in report["sites"]}
    wrong = Counter(f"{t.lower()}->{p.lower()}" for t, p, ok in zip(truth, read, folded) if not ok)
    report["top_confusions_case_insensitive"] = wrong.most_common(15)
    png_x, png_y = pen.render_digits(test[::6], pen.TEST_DRAWING_SEED + 1, 1, 1.0)  # every 6th, painted
    png = evaluate_checkpoint(checkpoint, png_x, png_y - len(DIGITS), classes=LETTERS)
    report["png_sample"] = {"count": int(len(png_y)), "exact": png.accuracy, "case_insensitive": png.case_insensitive_accuracy}
    return report


def digit_report(joint, digits_only, digit_parts) -> dict:
    mnist = load_dataset("mnist", download=False)
    pen_x, pen_y = pen.render_digits(digit_parts["test"], pen.TEST_DRAWING_SEED, 1, 0.0)
    out = {}
    for name, checkpoint in (("joint", joint), ("digits_only", digits_only)):
        out[name] = {
            "mnist_test": evaluate_checkpoint(checkpoint, mnist.test_images, mnist.test_labels).accuracy,
            "held_out_pen_digits": evaluate_checkpoint(checkpoint, pen_x, pen_y).accuracy,
        }
    out["pen_digits_count"] = int(len(pen_y))
    return out


def latency(checkpoint, parts, count: int) -> dict:
    torch.set_num_threads(1)  # the pad reads on the GUI thread with one torch thread
    predictor = Predictor(checkpoint, alphabet="letters")
    rng = np.random.default_rng(7)
    drawings = [pen.draw_on_pad(parts["test"][i], rng) for i in rng.choice(len(parts["test"]), count)]
    for strokes in drawings[:20]:
        predictor.predict_strokes(strokes)  # warm up
    times = []
    for strokes in drawings:
        start = time.perf_counter()
        predictor.predict_strokes(strokes)
        times.append((time.perf_counter() - start) * 1000)
    return {"count": count, "p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(default_model_path("letters")))
    parser.add_argument("--digits-model", default=str(default_model_path("digits")))
    parser.add_argument("--latency-count", type=int, default=500)
    parser.add_argument("--skip-digits", action="store_true")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    joint = load_checkpoint(args.model)
    digit_parts, letter_parts = letters.pen_parts()
    figures = {"model": args.model, "cpu": cpu_model(), "torch_threads": torch.get_num_threads()}
    figures["letters"] = letter_report(joint, letter_parts)
    if not args.skip_digits and "digits" in joint.alphabets:
        figures["digits"] = digit_report(joint, load_checkpoint(args.digits_model), digit_parts)
    figures["latency"] = latency(joint, letter_parts, args.latency_count)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("DIGITPAD_DATA", str(ROOT.parent / "shared" / "data"))
    main()
