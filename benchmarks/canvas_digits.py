"""Reading real people's digits as the pad sees them, and saying "unsure" for things that are not.

Run by hand: ``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/canvas_digits.py``.

Real handwritten digits (the MNIST and USPS test sets: 10,000 + 2,007 digits by hundreds of
writers) are turned into canvas-like drawings: scaled up to a random height of 60-320 px, drawn
with a thinner or thicker pen (grey-level erosion or dilation by up to half the stroke width),
inverted to dark ink on white paper, and placed at a random spot of a 480x400 canvas. Each goes
through exactly the pad's raster path (``Predictor.predict_image`` = ``prepare_image`` + model);
a sample of them is also written to PNG and read back through ``digitpad predict``'s path
(``predict_file``) to check that both paths agree.

Then non-digits (random scribbles, letters, two digits side by side) go through the same path to
measure how often the app says it is unsure about them, next to how often it is unsure about
real digits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

CANVAS_W, CANVAS_H = 480, 400


def canvas_drawing(digit01: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A dataset digit (s, s) float [0, 1], ink = 1, as a drawing on the pad: (H, W) uint8, dark ink."""
    size = digit01.shape[0]
    height = int(rng.uniform(60, 320))
    scale = height / (size * 20 / 28)  # the digit's box is ~20/28 of its frame
    big = Image.fromarray((digit01 * 255).astype(np.uint8)).resize((round(size * scale),) * 2, Image.BILINEAR)
    pen = rng.choice(["thin", "as is", "thick"])
    radius = int(rng.integers(1, max(2, int(scale * 0.6)) + 1))
    for _ in range(radius if pen != "as is" else 0):  # repeated 3x3: a rank filter of size 2r+1 is O(r^2)
        big = big.filter(ImageFilter.MinFilter(3) if pen == "thin" else ImageFilter.MaxFilter(3))
    ink = np.asarray(big, np.uint8)
    if ink.shape[0] > CANVAS_H or ink.shape[1] > CANVAS_W:
        ink = np.asarray(big.resize((min(CANVAS_W, CANVAS_H),) * 2, Image.BILINEAR), np.uint8)
    page = np.zeros((CANVAS_H, CANVAS_W), np.uint8)
    top = int(rng.integers(0, CANVAS_H - ink.shape[0] + 1))
    left = int(rng.integers(0, CANVAS_W - ink.shape[1] + 1))
    page[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return 255 - page, pen


def scribble(rng: np.random.Generator) -> np.ndarray:
    image = Image.new("L", (CANVAS_W, CANVAS_H), 255)
    draw = ImageDraw.Draw(image)
    points = np.cumsum(rng.normal(0, 40, size=(int(rng.integers(8, 30)), 2)), axis=0) + (CANVAS_W / 2, CANVAS_H / 2)
    draw.line([tuple(p) for p in points], fill=0, width=int(rng.integers(6, 20)), joint="curve")
    return np.asarray(image)


def letter(char: str, rng: np.random.Generator) -> np.ndarray:
    image = Image.new("L", (CANVAS_W, CANVAS_H), 255)
    font = ImageFont.load_default(size=int(rng.uniform(120, 300)))
    ImageDraw.Draw(image).text((CANVAS_W / 2, CANVAS_H / 2), char, fill=0, font=font, anchor="mm", stroke_width=int(rng.integers(1, 6)))
    return np.asarray(image)


def two_digits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    pair = np.concatenate([a, b], axis=1)
    big = Image.fromarray((pair * 255).astype(np.uint8)).resize((pair.shape[1] * 8, pair.shape[0] * 8), Image.BILINEAR)
    page = np.zeros((CANVAS_H, CANVAS_W), np.uint8)
    page[88 : 88 + big.height, 16 : 16 + big.width] = np.asarray(big)
    return 255 - page


# Letters that no one would take for a digit (O, I, l, S, Z, B, G, q... are left out on purpose).
LETTERS = "ACEFHKMNPRTUVWXYaefhkmnprtwxy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint (default: the shipped model)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N digits of each test set")
    parser.add_argument("--file-sample", type=int, default=200, help="digits also checked through image files")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from digitpad.core.datasets import load_dataset
    from digitpad.core.inference import Predictor, default_model_path

    predictor = Predictor.from_file(args.model or default_model_path())
    rng = np.random.default_rng(2026)
    print(f"model {args.model or default_model_path()} (threshold {predictor.threshold:.3f}, temperature {predictor.temperature:.3f})")
    unsure_real = []
    for name in ("mnist", "usps"):
        data = load_dataset(name, download=False)
        images, labels = data.test_images, data.test_labels
        if args.limit:
            images, labels = images[: args.limit], labels[: args.limit]
        by_pen: dict[str, list[bool]] = {"thin": [], "as is": [], "thick": []}
        mismatched_files = 0
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            for i, (image, label) in enumerate(zip(images, labels)):
                drawing, pen = canvas_drawing(image / 255.0, rng)
                prediction = predictor.predict_image(drawing)
                by_pen[pen].append(prediction.digit == label)
                unsure_real.append(not prediction.confident)
                if i < args.file_sample:  # the `digitpad predict` path: PNG file -> predict_file
                    path = Path(folder) / f"{i}.png"
                    Image.fromarray(drawing).save(path)
                    mismatched_files += predictor.predict_file(path).digit != prediction.digit
        correct = sum(sum(v) for v in by_pen.values())
        total = sum(len(v) for v in by_pen.values())
        print(f"{name.upper()} test digits drawn on the canvas: {correct / total * 100:.2f}% read correctly ({total - correct} of {total} wrong, {time.perf_counter() - start:.0f}s)")
        for pen, hits in by_pen.items():
            print(f"    pen {pen:<6}: {np.mean(hits) * 100:.2f}% of {len(hits)}")
        print(f"    image-file path disagrees with the canvas path on {mismatched_files} of {min(args.file_sample, total)}")

    mnist = load_dataset("mnist", download=False)
    tests = {
        "scribbles": [scribble(rng) for _ in range(300)],
        "letters": [letter(LETTERS[i % len(LETTERS)], rng) for i in range(300)],
        "two digits": [two_digits(mnist.test_images[2 * i] / 255.0, mnist.test_images[2 * i + 1] / 255.0) for i in range(300)],
    }
    print(f"unsure on real digits: {np.mean(unsure_real) * 100:.1f}%")
    for name, drawings in tests.items():
        predictions = [predictor.predict_image(d) for d in drawings]
        read = [p for p in predictions if not p.empty]
        unsure = np.mean([not p.confident for p in read]) if read else float("nan")
        print(f"unsure on {name:<10}: {unsure * 100:.1f}% of {len(read)}")


if __name__ == "__main__":
    main()
