"""Issue 7's target: does fine-tuning on 10 digits of each class from one writer remove at least half
of the errors the shipped model makes on that writer's other digits, while MNIST test accuracy drops
by no more than 0.2 points?

"One writer" is USPS: zip codes scanned from envelopes, a style distinct from MNIST's (thick,
frame-filling strokes). Each USPS digit goes through ``prepare_image`` exactly as a file opened in
the pad (or imported into the personal set) does. For each of ``--draws`` seeded draws, 10 digits of
each class from USPS *train* are added to a fresh ``PersonalStore`` (the real storage path), the model
is fine-tuned on them with MNIST replay (``digitpad.core.finetune``), and errors are counted on all
2,007 USPS *test* digits (never trained on) and on the 10,000 MNIST test digits.

The base model is ``resources/models/default.safetensors`` when it exists (or ``--base PATH``);
otherwise a quick base model is trained here with a fixed, printed budget and cached.

    DIGITPAD_DATA=/work/shared/data .venv/bin/python benchmarks/personal_finetune.py
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
            prepared = preprocess.prepare_image(image, preprocess.MNIST_SPEC)
            if prepared.image is not None:
                out[i] = np.clip(np.rint(prepared.image * 255), 0, 255).astype(np.uint8)
        return out

    train_x, test_x = prepare(usps.train_images), prepare(usps.test_images)
    np.savez_compressed(path, train_x=train_x, train_y=usps.train_labels, test_x=test_x, test_y=usps.test_labels)
    return train_x, usps.train_labels, test_x, usps.test_labels


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="base checkpoint (default: the shipped model, else a quick one)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "digitpad-bench"), help="cache folder")
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
    train_x, train_y, test_x, test_y = prepared_usps(cache)
    checkpoint, base_name = base_checkpoint(args, mnist, cache)
    overrides = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(FinetuneConfig)
        if f.name not in ("device", "threads", "seed") and getattr(args, f.name, None) is not None
    }
    config = dataclasses.replace(FinetuneConfig(), device=args.device, threads=args.threads, **overrides)
    print(f"fine-tune config: {json.dumps(config.to_dict())}")

    base_usps = evaluate_checkpoint(checkpoint, test_x, test_y, args.device)
    print(
        f"base model on the writer's held-out digits (USPS test, {len(test_y)}): "
        f"{base_usps.accuracy * 100:.2f}% ({base_usps.errors} errors)"
    )
    rows = []
    for draw in range(args.draws):
        images, labels = draw_personal(train_x, train_y, seed=100 + draw)
        with tempfile.TemporaryDirectory() as home:
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
            "draw": draw,
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
            f"draw {draw}: writer's other digits {errors_before} -> {errors_after} errors "
            f"({removed * 100:.0f}% removed); its 100 personal digits {result.personal_before * 100:.0f}% -> "
            f"{result.personal_after * 100:.0f}%; MNIST test {result.base_before * 100:.2f}% -> "
            f"{result.base_after * 100:.2f}% (drop {result.base_drop_points:+.2f} points); {result.seconds:.0f}s",
            flush=True,
        )
        if args.json:
            print(json.dumps({"base": base_name, "config": config.to_dict(), **row}))
    removed = np.array([r["errors_removed"] for r in rows])
    drops = np.array([r["mnist_drop_points"] for r in rows])
    met = bool((removed >= 0.5).all() and (drops <= 0.2).all())
    print(
        f"summary over {len(rows)} draws: errors removed mean {removed.mean() * 100:.0f}% (min {removed.min() * 100:.0f}%), "
        f"MNIST drop mean {drops.mean():+.2f} points (max {drops.max():+.2f}); target "
        f"(>=50% removed, drop <=0.2 points) {'MET' if met else 'NOT met'} on every draw"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
