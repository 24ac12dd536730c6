"""Issue 7's target: does fine-tuning on 10 digits of each class from one writer remove at least half
of the errors the shipped model makes on that writer's other digits, while MNIST test accuracy drops
by no more than 0.2 points?

Two stand-ins for "one writer", each prepared exactly as the pad prepares an image file (and as
``digitpad personal import`` does):

* ``narrow-slanted``: MNIST digits in one consistent hand, 40% narrower and leaning right. The 10
  digits of each class to learn from are MNIST *train* digits in that hand; the held-out "other
  digits" are the first 2,000 MNIST *test* digits in that hand (never trained on in any form).
* ``usps``: the USPS zip-code digits (a distinct scanner and population, many writers): 10 of each
  class from USPS train, all 2,007 USPS test digits held out. Caveat: the shipped model already
  makes ~2% errors there, below the 2.5% human error quoted for this test set, so what is left is
  mostly ambiguous or mislabelled digits that no amount of "learning the style" can fix.

For each of ``--draws`` seeded draws the 100 digits go into a fresh ``PersonalStore`` (the real
storage path), the model is fine-tuned on them with MNIST replay (``digitpad.core.finetune``,
default ``FinetuneConfig``), and errors are counted on the writer's held-out digits and on all
10,000 MNIST test digits. Each fine-tune is about a minute on one CPU thread.

The base model is ``resources/models/default.safetensors`` when it exists (or ``--base PATH``; the README's
figures used ``--base resources/models/mnist.safetensors``);
otherwise a quick base model is trained here with a fixed, printed budget and cached.

    DIGITPAD_DATA=/work/shared/data .venv/bin/python benchmarks/personal_finetune.py [--writer usps]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digitpad.core import preprocess  # noqa: E402
from digitpad.core.checkpoints import load_checkpoint, save_checkpoint  # noqa: E402
from digitpad.core.config import TrainConfig  # noqa: E402
from digitpad.core.datasets import DigitData, load_dataset  # noqa: E402
from digitpad.core.evaluation import evaluate_checkpoint  # noqa: E402
from digitpad.core.finetune import FinetuneConfig, finetune  # noqa: E402
from digitpad.core.inference import default_model_path  # noqa: E402
from digitpad.core.personal import PersonalStore  # noqa: E402
from digitpad.core.trainer import Trainer  # noqa: E402

QUICK_BASE_EPOCHS = 3  # the fallback base model's budget: digitpad's default recipe, 3 epochs instead of 15
PER_DIGIT = 10
HELD_OUT = 2000  # narrow-slanted writer: held-out digits
WRITERS = ("usps", "narrow-slanted")


def prepared_usps(cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """USPS train/test prepared to 28x28 uint8 through the pad's file path (width normalised)."""
    path = cache / "usps_prepared.npz"
    if path.exists():
        saved = np.load(path)
        return saved["train_x"], saved["train_y"], saved["test_x"], saved["test_y"]
    usps = load_dataset("usps", download=False)

    def prepare(images):
        out = np.zeros((len(images), 28, 28), np.uint8)
        for i, image in enumerate(images):
            out[i] = _to_u8(preprocess.prepare_image(image, preprocess.MNIST_SPEC))
        return out

    train_x, test_x = prepare(usps.train_images), prepare(usps.test_images)
    np.savez_compressed(path, train_x=train_x, train_y=usps.train_labels, test_x=test_x, test_y=usps.test_labels)
    return train_x, usps.train_labels, test_x, usps.test_labels


def _to_u8(prepared) -> np.ndarray:
    if prepared.image is None:
        return np.zeros((28, 28), np.uint8)
    return np.clip(np.rint(prepared.image * 255), 0, 255).astype(np.uint8)


def narrow_slanted(images: np.ndarray) -> np.ndarray:
    """MNIST digits in one consistent hand: 40% narrower and leaning right (shear 0.45), then
    prepared as the pad prepares a file (at 4x, so the warp itself adds no blur)."""
    out = np.zeros((len(images), 28, 28), np.uint8)
    squeeze, shear, c = 0.6, 0.45, 56.0
    forward = np.array([[squeeze, shear * squeeze], [0.0, 1.0]])
    inverse = np.linalg.inv(forward)  # PIL maps output pixels back to input pixels
    offset = np.array([c, c]) - inverse @ np.array([c, c])
    coeffs = (inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1])
    for i, image in enumerate(images):
        big = Image.fromarray(image).resize((112, 112), Image.Resampling.BILINEAR)
        warped = big.transform((112, 112), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
        out[i] = _to_u8(preprocess.prepare_image(np.asarray(warped), preprocess.MNIST_SPEC))
    return out


def writer_data(name: str, mnist: DigitData, cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """(pool to draw the personal digits from, its labels, the writer's held-out digits, labels, description)."""
    if name == "usps":
        return (*prepared_usps(cache), "USPS (zip codes; train digits to learn from, the 2,007 test digits held out)")
    path = cache / "narrow_slanted.npz"
    if not path.exists():
        pool = np.random.default_rng(7).choice(len(mnist.train_labels), 2000, replace=False)
        np.savez_compressed(
            path,
            train_x=narrow_slanted(mnist.train_images[pool]),
            train_y=mnist.train_labels[pool],
            test_x=narrow_slanted(mnist.test_images[:HELD_OUT]),
            test_y=mnist.test_labels[:HELD_OUT],
        )
    saved = np.load(path)
    return (
        saved["train_x"], saved["train_y"], saved["test_x"], saved["test_y"],
        f"narrow-slanted MNIST (one consistent hand: 40% narrower, leaning right; MNIST train digits to "
        f"learn from, the first {HELD_OUT} MNIST test digits in that hand held out)",
    )


def base_checkpoint(args, mnist: DigitData, cache: Path):
    if args.base:
        print(f"base model: {args.base}")
        return load_checkpoint(args.base), args.base
    if default_model_path().exists():
        print(f"base model: the shipped {default_model_path()}")
        return load_checkpoint(default_model_path()), str(default_model_path())
    quick = cache / f"quick_base_{QUICK_BASE_EPOCHS}ep.safetensors"
    if quick.exists():
        print(f"base model: {quick} (no shipped model; the quick base trained earlier by this benchmark)")
        return load_checkpoint(quick), str(quick)
    print(
        f"no shipped model at {default_model_path()}: training a QUICK base model, digitpad's default recipe "
        f"for {QUICK_BASE_EPOCHS} epochs (the shipped one trains 15), {args.threads} thread(s) ..."
    )
    config = TrainConfig(dataset="mnist", epochs=QUICK_BASE_EPOCHS, threads=args.threads, device=args.device)
    trainer = Trainer(config, mnist)
    started = time.perf_counter()
    for event in trainer.run():
        if type(event).__name__ == "EpochEnded":
            print(f"  epoch {event.epoch}: val {event.val_accuracy * 100:.2f}%  ({time.perf_counter() - started:.0f}s)")
        if type(event).__name__ == "RunFailed":
            raise SystemExit(f"base training failed: {event.message}")
    trainer.checkpoint.meta["name"] = f"quick base ({QUICK_BASE_EPOCHS} epochs)"
    save_checkpoint(trainer.checkpoint, quick)
    print(f"  saved {quick}")
    return trainer.checkpoint, str(quick)


def draw_personal(train_x, train_y, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(train_y == d), PER_DIGIT, replace=False) for d in range(10)])
    return train_x[chosen], train_y[chosen]


def run_writer(name: str, checkpoint, base_name: str, mnist: DigitData, config: FinetuneConfig, args, cache: Path) -> list[dict]:
    pool_x, pool_y, test_x, test_y, description = writer_data(name, mnist, cache)
    base = evaluate_checkpoint(checkpoint, test_x, test_y, args.device)
    print(f"\nwriter {name}: {description}")
    print(f"  base model on the writer's {len(test_y)} held-out digits: {base.accuracy * 100:.2f}% ({base.errors} errors)")
    rows = []
    for draw in range(args.draws):
        images, labels = draw_personal(pool_x, pool_y, seed=100 + draw)
        with tempfile.TemporaryDirectory() as home:  # through the real store, as the app keeps them
            store = PersonalStore(Path(home) / "personal")
            for image, label in zip(images, labels):
                store.add(image, int(label), source="benchmark")
            personal = store.as_digit_data()
        personal.test_images, personal.test_labels = test_x, test_y  # the writer's other digits
        result = finetune(checkpoint, personal, mnist, dataclasses.replace(config, seed=draw))
        errors_before = round((1 - result.heldout_before) * len(test_y))
        errors_after = round((1 - result.heldout_after) * len(test_y))
        removed = 1 - errors_after / max(errors_before, 1)
        row = {
            "writer": name,
            "draw": draw,
            "heldout_digits": int(len(test_y)),
            "heldout_errors_before": errors_before,
            "heldout_errors_after": errors_after,
            "errors_removed": removed,
            "personal_before": result.personal_before,
            "personal_after": result.personal_after,
            "mnist_before": result.base_before,
            "mnist_after": result.base_after,
            "mnist_drop_points": result.base_drop_points,
            "seconds": result.seconds,
        }
        rows.append(row)
        print(
            f"  draw {draw}: held-out {errors_before} -> {errors_after} errors ({removed * 100:.0f}% removed); "
            f"the 100 personal digits {result.personal_before * 100:.0f}% -> {result.personal_after * 100:.0f}%; "
            f"MNIST test {result.base_before * 100:.2f}% -> {result.base_after * 100:.2f}% "
            f"(drop {result.base_drop_points:+.2f} points); {result.seconds:.0f}s",
            flush=True,
        )
        if args.json:
            print(json.dumps({"base": base_name, "config": config.to_dict(), **row}))
    removed = np.array([r["errors_removed"] for r in rows])
    drops = np.array([r["mnist_drop_points"] for r in rows])
    met = bool((removed >= 0.5).all() and (drops <= 0.2).all())
    print(
        f"  {name}: errors removed mean {removed.mean() * 100:.0f}% (min {removed.min() * 100:.0f}%), "
        f"MNIST drop mean {drops.mean():+.2f} points (max {drops.max():+.2f}) over {len(rows)} draws; "
        f"target (>=50% removed and drop <=0.2 points on every draw) {'MET' if met else 'NOT met'}"
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="base checkpoint (default: the shipped model, else a quick one)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "digitpad-bench"), help="cache folder")
    parser.add_argument("--writer", choices=[*WRITERS, "all"], default="all")
    parser.add_argument("--draws", type=int, default=3, help="independent draws of the 10-per-digit personal set")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true", help="also print one JSON line per draw")
    for f in dataclasses.fields(FinetuneConfig):
        if f.name in ("device", "threads", "seed"):
            continue
        kind = type(f.default)
        if kind is bool:
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=lambda s: s.lower() in ("1", "true", "yes", "on"))
        else:
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)

    mnist = load_dataset("mnist", download=False)
    checkpoint, base_name = base_checkpoint(args, mnist, cache)
    overrides = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(FinetuneConfig)
        if f.name not in ("device", "threads", "seed") and getattr(args, f.name, None) is not None
    }
    config = dataclasses.replace(FinetuneConfig(), device=args.device, threads=args.threads, **overrides)
    print(f"fine-tune config: {json.dumps(config.to_dict())}")
    for name in WRITERS if args.writer == "all" else (args.writer,):
        run_writer(name, checkpoint, base_name, mnist, config, args, cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
