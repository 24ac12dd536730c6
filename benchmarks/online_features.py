"""Would stroke order help? A probe on real pen letters or digits, run by hand, not a product path.

    DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/online_features.py [--what letters|digits] [--epochs 6]

The pad keeps every stroke as it is drawn, but digitpad's networks see only the 28x28 picture. Online
recognisers also see *how* a letter was written: the direction of each piece of the pen's path
(the "8-directional feature maps" of online character recognition, Bai & Huo 2005). This probe
trains one network twice with an equal budget on the letters of the training sites and reads the
held-out sites' letters (``core.letters``: the sites the benchmarks hold out), or with ``--what
digits`` on the pen digits of the training writers, read on the held-out writers (``pen.split_by_writer``):

(a) ink only: one channel, the picture;
(b) ink + direction: the same picture plus four channels holding, along the path, how far the pen
    moved right, left, down and up (unit direction components, 0 where it moved the other way).

Both arms are drawn by this script's own renderer from the same pad drawings (``pen.draw_on_pad``
seeded per drawing), so the only difference is the four direction channels. It prints validation
and held-out accuracy (letters: exact case and case-insensitive), per arm and per held-out site.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from torch import nn  # noqa: E402

from digitpad.core import letters, pen  # noqa: E402
from digitpad.core.alphabets import DIGITS, LETTERS  # noqa: E402
from digitpad.core.models import digitpad_net  # noqa: E402

SIDE, BOX, ZOOM = 28, 20, 4
PEN = 2.2  # output pixels, about the pad's stroke width at 28x28


def direction_channels(strokes: list[np.ndarray]) -> np.ndarray | None:
    """(5, 28, 28) float32 in [0, 1]: ink, then the right/left/down/up share of the path's direction."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    extent = float((high - low).max())
    if extent < 1e-6:
        return None
    scale = (BOX - PEN) / extent
    offset = (SIDE - (high - low) * scale) / 2  # centred by its box, as the pad's box is
    size = SIDE * ZOOM
    layers = [Image.new("L", (size, size), 0) for _ in range(5)]
    draws = [ImageDraw.Draw(layer) for layer in layers]
    width = max(1, round(PEN * ZOOM))
    segments = []
    for stroke in strokes:
        xy = ((stroke - low) * scale + offset) * ZOOM
        if len(xy) == 1:
            xy = np.vstack([xy, xy + 1e-3])
        steps = np.diff(xy, axis=0)
        lengths = np.hypot(*steps.T)
        for start, end, step, length in zip(xy[:-1], xy[1:], steps, lengths):
            unit = step / length if length > 0 else np.zeros(2)
            shares = (max(unit[0], 0), max(-unit[0], 0), max(unit[1], 0), max(-unit[1], 0))
            segments.append((tuple(start), tuple(end), shares))
    for channel in range(5):
        # Drawn weakest first, so where pieces overlap the stronger direction stays (a max, not a sum);
        # round caps at both ends, so a stroke and its reverse paint the same picture.
        for start, end, shares in sorted(segments, key=lambda s: 1.0 if channel == 0 else s[2][channel - 1]):
            value = 255 if channel == 0 else round(255 * shares[channel - 1])
            draws[channel].line([start, end], fill=value, width=width)
            draws[channel].ellipse(_disc(start, width), fill=value)
            draws[channel].ellipse(_disc(end, width), fill=value)
    small = [np.asarray(layer.resize((SIDE, SIDE), Image.Resampling.BOX), np.float32) / 255 for layer in layers]
    return np.stack(small)


def _disc(centre, width) -> tuple:
    radius = width / 2
    return (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius)


def drawn(part: list, seed: int, first_label: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every drawing of ``part`` made once on the pad (seeded per drawing): (x (n, 5, 28, 28), labels
    counted from ``first_label``, kept indices)."""
    images, labels, kept = [], [], []
    for index, drawing in enumerate(part):
        rng = np.random.default_rng([seed, index])
        channels = direction_channels(pen.draw_on_pad(drawing, rng))
        if channels is not None:
            images.append(channels)
            labels.append(drawing.label - first_label)
            kept.append(index)
    return np.stack(images), np.asarray(labels, np.int64), np.asarray(kept)


def network(channels: int, classes: int) -> nn.Module:
    model = digitpad_net(SIDE, width=32, hidden=256, dropout=0.3, num_classes=classes)
    model[0] = nn.Conv2d(channels, 32, 5, bias=False)
    return model


def train(x: torch.Tensor, y: torch.Tensor, channels: int, classes: int, epochs: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = network(channels, classes)
    steps = epochs * ((len(y) + 127) // 128)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.05, total_steps=steps, pct_start=0.2)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=generator)
        for batch in order.split(128):
            optimizer.zero_grad()
            loss_fn(model(x[batch, :channels]), y[batch]).backward()
            optimizer.step()
            schedule.step()
        print(f"  epoch {epoch + 1}/{epochs} done", flush=True)
    return model.eval()


@torch.no_grad()
def read(model: nn.Module, x: torch.Tensor, channels: int) -> np.ndarray:
    return torch.cat([model(batch[:, :channels]).argmax(1) for batch in x.split(512)]).numpy()


def scores(predicted: np.ndarray, labels: np.ndarray, classes) -> dict:
    names = np.asarray(classes)
    folded = np.char.lower(names[predicted]) == np.char.lower(names[labels])
    return {"exact": float((predicted == labels).mean()), "case_insensitive": float(folded.mean()), "folded": folded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", choices=("letters", "digits"), default="letters")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--arms", choices=("both", "ink", "direction"), default="both", help="which arms to train")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    started = time.perf_counter()
    digit_parts, letter_parts = letters.pen_parts()
    parts, classes = (letter_parts, LETTERS) if args.what == "letters" else (digit_parts, DIGITS)
    first_label = len(DIGITS) if args.what == "letters" else 0
    sets = {}
    for name, seed in (("train", args.seed), ("val", pen.VAL_DRAWING_SEED), ("test", pen.TEST_DRAWING_SEED)):
        x, y, kept = drawn(parts[name], seed, first_label)
        sets[name] = (torch.from_numpy(x), torch.from_numpy(y), kept)
        print(f"{name}: {len(y)} {args.what} drawn ({time.perf_counter() - started:.0f} s)", flush=True)
    test_sites = np.asarray([parts["test"][i].site for i in sets["test"][2]])

    results = {}
    arms = [("ink only", 1), ("ink + direction", 5)]
    arms = arms if args.arms == "both" else arms[:1] if args.arms == "ink" else arms[1:]
    for arm, channels in arms:
        print(f"training '{arm}' ({channels} channel{'s' if channels > 1 else ''}), {args.epochs} epochs", flush=True)
        tick = time.perf_counter()
        model = train(sets["train"][0], sets["train"][1], channels, len(classes), args.epochs, args.seed)
        result = {"seconds": round(time.perf_counter() - tick)}
        for name in ("val", "test"):
            x, y, _ = sets[name]
            figures = scores(read(model, x, channels), y.numpy(), classes)
            result[name] = {k: v for k, v in figures.items() if k != "folded"}
            if name == "test":
                result["test_per_site_case_insensitive"] = {
                    site: float(figures["folded"][test_sites == site].mean()) for site in sorted(set(test_sites))}
        results[arm] = result
        print(json.dumps({arm: result}, indent=1), flush=True)

    folded = " (case-insensitive)" if args.what == "letters" else ""
    print(f"\n| arm | validation{folded} | held out{folded} | exact case | per held-out site |")
    print("|---|---|---|---|---|")
    for arm, r in results.items():
        sites = ", ".join(f"{s} {v:.1%}" for s, v in r["test_per_site_case_insensitive"].items())
        print(f"| {arm} | {r['val']['case_insensitive']:.2%} | {r['test']['case_insensitive']:.2%} | "
              f"{r['test']['exact']:.2%} | {sites} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
