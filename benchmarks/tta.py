"""Would reading each input several ways and averaging (test-time augmentation) reach both targets?

Run by hand: ``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/tta.py [MODEL ...]`` (paths or
shipped names; default ``default``). Each prepared 28x28 input (MNIST and USPS test digits, the held-out
pen writers' digits drawn as the `pen` datasets draw their test split, strokes and painted PNGs) is
also read rotated, scaled and shifted a little; the log-probabilities of a set of such views are
summed and the best digit compared with the truth.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks.ensembles import test_sets  # noqa: E402

SHIFT = 1 / 14  # one pixel of 28, in affine_grid's [-1, 1] units
VIEWS = {
    "as drawn": {}, "rotated +7 deg": {"degrees": 7}, "rotated -7 deg": {"degrees": -7},
    "8% larger": {"scale": 1.08}, "8% smaller": {"scale": 0.92},
    "1 px right": {"dx": -SHIFT}, "1 px left": {"dx": SHIFT}, "1 px down": {"dy": -SHIFT}, "1 px up": {"dy": SHIFT},
}
COMBINATIONS = {
    "none": ["as drawn"],
    "rotations": ["as drawn", "rotated +7 deg", "rotated -7 deg"],
    "scales": ["as drawn", "8% larger", "8% smaller"],
    "shifts": ["as drawn", "1 px right", "1 px left", "1 px down", "1 px up"],
    "rotations + scales": ["as drawn", "rotated +7 deg", "rotated -7 deg", "8% larger", "8% smaller"],
    "all nine": list(VIEWS),
}


def view(images: torch.Tensor, degrees: float = 0.0, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0) -> torch.Tensor:
    angle = math.radians(degrees)
    theta = torch.tensor([[math.cos(angle) / scale, -math.sin(angle) / scale, dx],
                          [math.sin(angle) / scale, math.cos(angle) / scale, dy]], dtype=torch.float32)
    grid = F.affine_grid(theta.expand(len(images), 2, 3), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False)


@torch.no_grad()
def log_probabilities(checkpoint, images_u8: np.ndarray) -> dict[str, torch.Tensor]:
    from digitpad.core.evaluation import fit_to_model
    from digitpad.core.inference import batched_logits, spec_for_input_size

    model = checkpoint.build_model()
    mean, std = checkpoint.normalization
    temperature, _ = checkpoint.calibration("digits")
    spec = spec_for_input_size(checkpoint.input_size)
    fits = images_u8.shape[1:] == (spec.size, spec.size)
    x = torch.from_numpy(images_u8 / np.float32(255) if fits else fit_to_model(images_u8, spec)).float().unsqueeze(1)
    out = {}
    for name, how in VIEWS.items():
        shown = view(x, **how) if how else x
        logits = batched_logits(model, shown.squeeze(1), mean, std)[:, :10]  # the pad's normalisation
        out[name] = torch.log_softmax(logits / temperature, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["default"], help="checkpoint paths or shipped model names")
    args = parser.parse_args()
    from digitpad.core.checkpoints import load_checkpoint
    from digitpad.core.inference import find_model

    torch.set_num_threads(1)
    sets = test_sets()
    print(f"{'model, views averaged':<40}" + "".join(f"{name:>13}" for name in sets))
    for name in args.models:
        checkpoint = load_checkpoint(find_model(name))
        read = {test: log_probabilities(checkpoint, images) for test, (images, _) in sets.items()}
        for combination, members in COMBINATIONS.items():
            row = [float((sum(read[test][m] for m in members).argmax(1).numpy() == labels).mean())
                   for test, (_, labels) in sets.items()]
            print(f"{Path(name).stem + ', ' + combination:<40}" + "".join(f"{100 * a:>12.2f}%" for a in row), flush=True)


if __name__ == "__main__":
    main()
