"""The one path from a canvas drawing or an image file to exactly what a digit model was trained on.

Longer than most modules (~550 lines) on purpose: strokes, raster drawings and image files share
every step (ink extraction, the blank check, crop, stroke-width normalisation, fit and centre), and
keeping them in one module is what keeps them one path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageOps

# Bump whenever the output for the same input changes; checkpoints store it so a model is never fed
# inputs prepared differently from the ones it was evaluated on.
PREPROCESS_VERSION = 1


@dataclass(frozen=True)
class InputSpec:
    """What a model expects: a size x size image whose digit's longer side is box pixels."""

    size: int  # 28 for MNIST, 16 for USPS
    box: int  # longer side of the digit's bounding box after scaling
    center: str  # "mass": centre of mass at the centre (MNIST); "box": bounding box centred (USPS)

    def __post_init__(self) -> None:
        if not 0 < self.box <= self.size:
            raise ValueError(f"InputSpec needs 0 < box <= size, got box={self.box}, size={self.size}")
        if self.center not in ("mass", "box"):
            raise ValueError(f"InputSpec.center must be 'mass' or 'box', got {self.center!r}")


MNIST_SPEC = InputSpec(28, 20, "mass")
USPS_SPEC = InputSpec(16, 16, "box")  # USPS digits fill their frame


def spec_for(dataset: str) -> InputSpec:
    """The input spec of a dataset name: "mnist", "usps", "usps-seed", "personal", "pen" or
    "mnist+pen", "letters" or "digits+letters" (personal and pen drawings are drawn into MNIST's frame; the torch tutorial's USPS
    sheets hold USPS digits, which fill their frame)."""
    specs = {"mnist": MNIST_SPEC, "usps": USPS_SPEC, "usps-seed": USPS_SPEC, "personal": MNIST_SPEC,
             "pen": MNIST_SPEC, "mnist+pen": MNIST_SPEC, "letters": MNIST_SPEC, "digits+letters": MNIST_SPEC}
    try:
        return specs[dataset.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(specs)}") from None


@dataclass(frozen=True)
class Prepared:
    """A model-ready image, or the verdict that there is nothing to classify."""

    image: np.ndarray | None  # (size, size) float32 in [0, 1], ink = 1; None when empty
    empty: bool  # no (or almost no) ink: never classify it
    inverted: bool  # the input was dark ink on light paper and was flipped
    # The ink's box in input pixels, for UI overlays: (top, left, bottom, right), bottom/right exclusive.
    bbox: tuple[int, int, int, int] | None


Stroke = np.ndarray  # (n, 2) float x, y in canvas pixels; extra columns (pressure) are ignored


class ImageReadError(ValueError):
    """An image file is missing, unreadable or not an image."""


# --- Thresholds ------------------------------------------------------------------------------------
# Ink fainter than this against the paper (on the 0..1 grey scale) is no drawing at all, however far it
# could be stretched: a blank scan's noise or a smudge must never be classified.
MIN_CONTRAST = 0.2
# After stretching the ink to 0..1, weaker pixels are background (paper texture, JPEG ringing) and are
# zeroed. The floor rises with the paper's own noise, measured on the border. MNIST keeps >99% of its mass.
NOISE_FLOOR = 0.1
MAX_NOISE_FLOOR = 0.5
# An input is empty unless ALL of these hold, so a few specks, a dot or a smudge never reach a model:
# the ink's mass covers at least 0.1% of the input (78 px on a 280 x 280 canvas; any MNIST digit is >2%),
MIN_INK_AREA_FRACTION = 0.001
# its bounding box spans at least 8% of the input's longer side (2.2 px of 28, 22 px of 280),
MIN_INK_EXTENT_FRACTION = 0.08
# and it is a stroke rather than a blob: a disc or square measures 2 stroke widths across; every MNIST
# test digit measures at least 2.9.
MIN_EXTENT_IN_STROKE_WIDTHS = 2.5
# A vector drawing whose points all lie within this many canvas pixels is a tap, not a digit.
MIN_STROKE_EXTENT_PX = 4.0

# --- Stroke width ----------------------------------------------------------------------------------
# Median stroke width of each training set at its own scale, as measured by _stroke_width on the real
# data upsampled 4x (bilinear) and closed, as _normalize_stroke_width measures: MNIST 2.3 px at its
# 20 px box (5th-95th percentile 1.7-3.5), USPS 2.1 px at its 16 px box (1.6-3.1).
_TRAINING_STROKE_WIDTH = {MNIST_SPEC: 2.3, USPS_SPEC: 2.1}
_STROKE_WIDTH_PER_BOX_PX = 0.12  # for any other spec
# Vector strokes get a pen 10% wider than that median: its round caps and anti-aliasing make a drawn
# digit measure ~10% thinner at the output resolution than MNIST digits measured the same way (2.4 px).
_PEN_PER_TRAINING_WIDTH = 1.1
# Raster inputs whose width is within this factor of the training median are left alone, so most genuine
# training digits (~70% of MNIST) pass through untouched; the others are brought to the median width.
WIDTH_TOLERANCE = (0.8, 1.25)
# Vector strokes are rasterised at this many times the output resolution, then area-averaged down.
STROKE_SUPERSAMPLE = 4
# Raster width changes (one pixel of dilation or erosion per step) run at this many times the output
# resolution, so one step is a fraction of an output pixel ...
WIDTH_SUPERSAMPLE = 4
# ... at a resolution where even a thin stroke is this many pixels wide, so it stays solid ink ...
MIN_WORKING_STROKE_PX = 2.0
# ... but never on an image bigger than this many output boxes, so a huge photo stays fast.
MAX_WORKING_BOXES = 12

# ITU-R 601 luma, as Pillow's "L" conversion uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


# --- Public API ------------------------------------------------------------------------------------
def prepare_image(image, spec: InputSpec = MNIST_SPEC, *, normalize_width: bool = True) -> Prepared:
    """Prepare a raster image: (H, W) or (H, W, 3/4), uint8 0..255 or float 0..1, any size or polarity."""
    grey = _to_grey(image)
    ink, inverted = _ink_intensity(grey)
    if ink is None:
        return _empty(inverted)
    _remove_specks(ink)
    bbox = _ink_bbox(ink)
    if bbox is None:
        return _empty(inverted)
    top, left, bottom, right = bbox
    crop = ink[top:bottom, left:right]
    width = _stroke_width(crop)
    if _looks_blank(ink, crop, width):
        return _empty(inverted)
    if normalize_width:
        crop = _normalize_stroke_width(crop, width, spec)
    return Prepared(_place(crop, spec), False, inverted, bbox)


def prepare_strokes(strokes: Sequence[Stroke], spec: InputSpec = MNIST_SPEC) -> Prepared:
    """Prepare vector strokes from the canvas, drawn with our own pen: the user's pen width cannot matter."""
    paths = [xy for xy in (_stroke_xy(stroke) for stroke in strokes) if len(xy)]
    if not paths:
        return _empty(False)
    points = np.concatenate(paths)
    low, high = points.min(axis=0), points.max(axis=0)
    extent = float((high - low).max())
    if extent < MIN_STROKE_EXTENT_PX:
        return _empty(False)
    # Choose the canvas-to-output scale so the drawing, round caps included, spans exactly the box.
    pen = _target_stroke_width(spec) * _PEN_PER_TRAINING_WIDTH
    scale = (spec.box - pen) / extent
    rendered = _render_strokes(paths, low, high, scale, pen)
    crop_box = _ink_bbox(rendered)
    assert crop_box is not None  # a non-empty path always leaves ink
    top, left, bottom, right = crop_box
    radius = pen / 2 / scale  # our pen, in canvas pixels
    bbox = (
        math.floor(low[1] - radius),
        math.floor(low[0] - radius),
        math.ceil(high[1] + radius),
        math.ceil(high[0] + radius),
    )
    return Prepared(_place(rendered[top:bottom, left:right], spec), False, False, bbox)


def load_image_file(path) -> np.ndarray:
    """Grey float32 (H, W) in [0, 1] from an image file, transparency composited over white paper."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"cannot read image '{path}': no such file")
    try:
        with Image.open(path) as opened:
            opened.load()
            # Phone photos store their rotation in EXIF.
            return _picture_to_grey(ImageOps.exif_transpose(opened))
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, ... for broken files
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ImageReadError(f"cannot read image '{path}': not a readable image ({reason})") from error


def prepare_file(path, spec: InputSpec = MNIST_SPEC) -> Prepared:
    """Load an image file and prepare it (see prepare_image)."""
    return prepare_image(load_image_file(path), spec)


# --- Reading pixels --------------------------------------------------------------------------------
def _picture_to_grey(picture: Image.Image) -> np.ndarray:
    if picture.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float scans: Pillow's 8-bit conversions would clip them, so scale them here.
        return _to_unit_float(np.asarray(picture))
    paper = Image.new("RGBA", picture.size, (255, 255, 255, 255))
    flattened = Image.alpha_composite(paper, picture.convert("RGBA")).convert("L")
    return np.asarray(flattened, dtype=np.float32) / 255


def _to_grey(image) -> np.ndarray:
    """(H, W) float32 in [0, 1] from grey, RGB or RGBA pixels; alpha is composited over white paper."""
    pixels = np.asarray(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {pixels.shape}")
    values = _to_unit_float(pixels)
    if values.ndim == 2:
        return values
    grey = values[..., :3] @ _LUMA
    if values.shape[2] == 4:
        alpha = values[..., 3]
        grey = grey * alpha + (1 - alpha)
    return grey.astype(np.float32, copy=False)


def _to_unit_float(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return np.multiply(pixels, np.float32(1 / 255), dtype=np.float32)
    values = np.nan_to_num(pixels.astype(np.float32))
    peak = float(values.max()) if values.size else 0.0
    # Floats are 0..1 by contract, but 0..255 floats, plain int arrays and 16-bit scans are common
    # enough to accept rather than misread as all-white.
    if peak > 255:
        values /= 65535 if peak <= 65535 else peak
    elif peak > 1:
        values /= 255
    return np.clip(values, 0, 1, out=values)


# --- Finding the ink -------------------------------------------------------------------------------
def _ink_intensity(grey: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """Ink strength in [0, 1] (paper = 0) and whether the input was dark on light; None if too faint."""
    if grey.size == 0:
        return None, False
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    # The border is mostly paper even when a stroke touches it, so its median is the paper's shade.
    paper = float(np.median(border))
    # The ink is whichever way the image strays furthest from the paper: this also reads grey paper,
    # coloured ink and photos with glare; a tie (a blank page) goes by the paper's own shade.
    darker, lighter = paper - float(grey.min()), float(grey.max()) - paper
    inverted = darker > lighter or (darker == lighter and paper > 0.5)
    ink = paper - grey if inverted else grey - paper
    contrast = float(ink.max())
    if contrast < MIN_CONTRAST:
        return None, inverted
    ink /= contrast
    # 4 median absolute deviations cover uniform noise fully and Gaussian noise to ~2.7 sigma.
    paper_noise = 4 * float(np.median(np.abs(border - paper))) / contrast
    floor = min(MAX_NOISE_FLOOR, max(NOISE_FLOOR, paper_noise))
    np.multiply(ink, ink >= floor, out=ink)
    return ink, inverted


def _remove_specks(ink: np.ndarray) -> None:
    """Zero inked pixels with no inked 8-neighbour: lone pixels are dust or sensor noise, never strokes."""
    padded = _pad((ink > 0).view(np.uint8), 1)
    rows = padded[:-2] + padded[1:-1] + padded[2:]
    block = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]  # 3 x 3 sums, the pixel itself included
    lonely = block == 1  # where the count is 1, a speck is the only ink that could be there ...
    lonely &= padded[1:-1, 1:-1].view(bool)  # ... if the pixel itself is inked
    if lonely.any():
        ink[lonely] = 0


def _pad(image: np.ndarray, margin: int) -> np.ndarray:
    """image inside a zero margin (np.pad's generality costs more than the copy here)."""
    height, width = image.shape
    out = np.zeros((height + 2 * margin, width + 2 * margin), dtype=image.dtype)
    out[margin : margin + height, margin : margin + width] = image
    return out


def _ink_bbox(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _looks_blank(ink: np.ndarray, crop: np.ndarray, stroke_width: float) -> bool:
    """Too little ink, too small, or a blob: see the MIN_* thresholds. crop is ink's tight crop."""
    extent = max(crop.shape)
    if crop.sum() < MIN_INK_AREA_FRACTION * ink.size:
        return True
    if extent < MIN_INK_EXTENT_FRACTION * max(ink.shape):
        return True
    return extent < MIN_EXTENT_IN_STROKE_WIDTHS * stroke_width


def _stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in pixels: 2 x ink area / ink outline length (a long stroke of width w: w).

    The outline is the summed gradient magnitude, which measures anti-aliased edges as well as hard
    ones and is nearly independent of the edge's direction.
    """
    padded = _pad(ink, 1)
    across = padded[1:, 1:] - padded[1:, :-1]
    down = padded[1:, 1:] - padded[:-1, 1:]
    outline = float(np.hypot(across, down, out=across).sum())
    return 2 * float(ink.sum()) / outline if outline > 0 else 0.0


# --- Stroke width normalisation --------------------------------------------------------------------
def _target_stroke_width(spec: InputSpec) -> float:
    return _TRAINING_STROKE_WIDTH.get(spec, _STROKE_WIDTH_PER_BOX_PX * spec.box)


def _normalize_stroke_width(crop: np.ndarray, width: float, spec: InputSpec) -> np.ndarray:
    """Thicken (dilate) or thin (erode) a cropped digit so that, once scaled to the box, its strokes are
    as wide as the training set's; `width` is the crop's own (rough) stroke width in its pixels.
    Returns a tight crop, possibly at another resolution, or `crop` itself when it is already fine."""
    target = _target_stroke_width(spec)
    scale = _working_scale(spec.box / max(crop.shape), width, max(crop.shape), spec)
    # Measure at the working resolution, not the input's: there a thin stroke is a few pixels wide and
    # a paint program's pinholes and jagged edges are averaged away; the training widths were measured
    # the same way (4x bilinear upsampling).
    work = _tight(_close(_resize(crop, scale)))
    extent = max(work.shape)
    width = _stroke_width(work)
    low, high = WIDTH_TOLERANCE
    if low * target <= width * spec.box / extent <= high * target:
        return crop
    # Growing by r pixels adds 2r to the stroke AND to the digit's extent, which is then scaled to the box:
    # solve (width + 2r) / (extent + 2r) = target / box for r.
    radius = (target * extent - width * spec.box) / (2 * (spec.box - target))
    if radius > 0:
        work = _restore_peak(_grow(_pad(work, math.ceil(radius) + 1), radius))
    else:
        work = -_grow(-_pad(work, 1), -radius)  # erosion: the padding is paper, so outer edges erode too
    thinned = _tight(work)
    return thinned if thinned.size else crop  # eroded away: a blob thinner than it looked, keep it


def _close(ink: np.ndarray) -> np.ndarray:
    """Morphological closing by 1 pixel: fills pinholes, slivers and grain inside strokes (paint programs'
    wide lines, pencil, markers), whose edges would otherwise count as outline and halve the width."""
    return -_grow(-_grow(_pad(ink, 2), 1), 1)


def _tight(ink: np.ndarray) -> np.ndarray:
    """The crop of ink to its bounding box, ignoring resampling dust; empty if there is no ink."""
    bbox = _ink_bbox(ink > 1e-3)
    if bbox is None:
        return ink[:0, :0]
    top, left, bottom, right = bbox
    return ink[top:bottom, left:right]


def _working_scale(output_scale: float, width: float, extent: int, spec: InputSpec) -> float:
    fine_enough = max(WIDTH_SUPERSAMPLE * output_scale, min(1.0, MIN_WORKING_STROKE_PX / max(width, 1e-6)))
    return min(fine_enough, MAX_WORKING_BOXES * spec.box / extent)


def _resize(ink: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1:
        return ink
    height, width = ink.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.array(Image.fromarray(ink).resize(size, _filter_for(scale)), dtype=np.float32)


def _grow(ink: np.ndarray, radius: float) -> np.ndarray:
    """Grey-level dilation by a fractional radius in pixels. Alternating cross and square steps grow a
    near-disc (octagon), so strokes thicken alike in every direction and anti-aliased edges stay soft;
    the fraction blends the last two steps, so the width is not stuck to whole pixels."""
    whole = math.floor(radius)
    for step in range(whole):
        ink = _max_step(ink, step)
    fraction = radius - whole
    if fraction > 0:
        ink = ink + fraction * (_max_step(ink, whole) - ink)
    return ink


def _max_step(ink: np.ndarray, step: int) -> np.ndarray:
    return _max_square(ink) if step % 2 else _max_cross(ink)


def _max_cross(ink: np.ndarray) -> np.ndarray:
    out = ink.copy()
    np.maximum(out[1:], ink[:-1], out=out[1:])
    np.maximum(out[:-1], ink[1:], out=out[:-1])
    np.maximum(out[:, 1:], ink[:, :-1], out=out[:, 1:])
    np.maximum(out[:, :-1], ink[:, 1:], out=out[:, :-1])
    return out


def _max_square(ink: np.ndarray) -> np.ndarray:
    rows = ink.copy()  # separable: 3-max down the columns, then along the rows
    np.maximum(rows[1:], ink[:-1], out=rows[1:])
    np.maximum(rows[:-1], ink[1:], out=rows[:-1])
    out = rows.copy()
    np.maximum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.maximum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def _restore_peak(ink: np.ndarray) -> np.ndarray:
    """Bring a thickened stroke's body back to full ink: a hairline that was fainter than a pixel
    dilates into a wide but grey plateau, which a model would read as a weak stroke."""
    body = ink[ink > 0.05]
    if body.size == 0:
        return ink
    rank = int(0.9 * (body.size - 1))
    peak = float(np.partition(body, rank)[rank])  # the 90th percentile, without np.percentile's overhead
    return np.minimum(ink / peak, 1, dtype=np.float32)


# --- Vector strokes --------------------------------------------------------------------------------
def _stroke_xy(stroke) -> np.ndarray:
    points = np.atleast_2d(np.asarray(stroke, dtype=np.float64))
    if points.size == 0:
        return np.empty((0, 2))
    if points.ndim != 2 or points.shape[1] < 2:
        raise ValueError(f"a stroke must be an (n, 2) array of x, y points, got shape {points.shape}")
    xy = points[:, :2]
    return xy[np.isfinite(xy).all(axis=1)]


def _render_strokes(paths, low, high, scale: float, pen: float) -> np.ndarray:
    """Draw the strokes with a round pen of `pen` output pixels, supersampled and area-averaged for
    anti-aliasing; returns ink in [0, 1] at the supersampled resolution."""
    zoom = scale * STROKE_SUPERSAMPLE
    pen_px = max(1, round(pen * STROKE_SUPERSAMPLE))
    margin = pen_px
    width, height = (np.ceil((high - low) * zoom).astype(int) + 2 * margin + 1).tolist()
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    radius = pen_px / 2
    for path in paths:
        xy = _thin_out((path - low) * zoom + margin)
        if len(xy) > 1:
            draw.line(xy.ravel().tolist(), fill=255, width=pen_px)
        for x, y in _round_points(xy).tolist():
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(canvas, dtype=np.float32) / 255


def _thin_out(xy: np.ndarray) -> np.ndarray:
    """About one point per render pixel of path: mouse and tablet events repeat and crowd points."""
    arc = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))))
    if arc[-1] == 0:
        return xy[:1]  # a tap: one point
    bucket = np.floor(arc)
    keep = np.concatenate(([True], bucket[1:] != bucket[:-1]))
    keep[-1] = True
    return xy[keep]


def _round_points(xy: np.ndarray) -> np.ndarray:
    """Where a disc goes: both ends (round caps, or the dot of a lone point) and every turn sharper
    than 25 degrees (round joins). Gentler turns leave notches under 0.02 pen widths deep."""
    steps = np.diff(xy, axis=0)
    steps /= np.maximum(np.hypot(*steps.T), 1e-9)[:, None]
    turning = np.einsum("ij,ij->i", steps[:-1], steps[1:]) < math.cos(math.radians(25))
    return np.concatenate((xy[:1], xy[1:-1][turning], xy[-1:]))


# --- Placing the digit -----------------------------------------------------------------------------
def _place(crop: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Scale a tight crop so its longer side is spec.box (aspect ratio kept) and put it in the
    size x size frame, centre of mass or bounding box at the centre, clipped so the ink stays inside."""
    height, width = crop.shape
    scale = spec.box / max(height, width)
    if spec.center == "mass":
        anchor = _centre_of_mass(crop)
        # MNIST puts the centre of mass on pixel index size // 2 (measured: mean 13.99, 14.00 of 28),
        # whose centre is at size // 2 + 0.5 in edge coordinates.
        target = spec.size // 2 + 0.5
    else:
        anchor = np.array([height / 2, width / 2])
        target = spec.size / 2
    shape = np.array([height, width])
    # origin: the crop coordinate that lands on the output's top-left edge.
    origin = np.clip(anchor - target / scale, shape - spec.size / scale, 0)
    if scale == 1:
        return _paste(crop, -np.round(origin).astype(int), spec.size)
    return _resample(crop, origin, scale, spec.size)


def _centre_of_mass(ink: np.ndarray) -> np.ndarray:
    """(row, col) centre of mass in edge coordinates (pixel i spans [i, i + 1])."""
    total = float(ink.sum())
    rows = ink.sum(axis=1) @ (np.arange(ink.shape[0]) + 0.5) / total
    cols = ink.sum(axis=0) @ (np.arange(ink.shape[1]) + 0.5) / total
    return np.array([rows, cols])


def _paste(crop: np.ndarray, offset: np.ndarray, size: int) -> np.ndarray:
    # An input already at the box scale (an MNIST digit) moves by whole pixels: no resampling blur,
    # so training-set digits come back unchanged.
    height, width = crop.shape
    top, left = np.clip(offset, 0, [size - height, size - width])
    out = np.zeros((size, size), dtype=np.float32)
    out[top : top + height, left : left + width] = crop
    return _full_ink(out)


def _resample(crop: np.ndarray, origin: np.ndarray, scale: float, size: int) -> np.ndarray:
    # One resampling does the scaling and the sub-pixel shift together, so the digit is blurred once.
    # Only the output pixels the crop touches are resampled; the crop gets a zero margin wider than the
    # filter so that Pillow never renormalises a kernel cut off at the crop's edge.
    shape = np.array(crop.shape)
    first = np.clip(np.floor(-origin * scale), 0, size).astype(int)
    last = np.clip(np.ceil((shape - origin) * scale), 0, size).astype(int)
    first, last = np.maximum(first - 1, 0), np.minimum(last + 1, size)  # the filter's reach past the edge
    margin = math.ceil(2 / scale) + 2
    padded = _pad(crop, margin)
    top, left = origin + first / scale + margin
    bottom, right = origin + last / scale + margin
    rows, cols = last - first
    box = (left, top, right, bottom)
    region = Image.fromarray(padded).resize((int(cols), int(rows)), _filter_for(scale), box=box)
    out = np.zeros((size, size), dtype=np.float32)
    out[first[0] : last[0], first[1] : last[1]] = np.asarray(region, dtype=np.float32)
    return _full_ink(out)


def _filter_for(scale: float) -> Image.Resampling:
    # Shrinking a lot: area averaging, the anti-aliasing of a supersampled pen. Near 1:1 or enlarging:
    # a triangle filter, because a box this narrow would pick nearest pixels and jag the edges.
    return Image.Resampling.BOX if scale <= 0.5 else Image.Resampling.BILINEAR


def _full_ink(image: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and stretch so the strongest ink is 1, as in MNIST (whose maximum is always ~1)."""
    np.clip(image, 0, 1, out=image)
    peak = float(image.max())
    if peak > 0:
        image /= peak
    return image


def _empty(inverted: bool) -> Prepared:
    return Prepared(image=None, empty=True, inverted=inverted, bbox=None)


if __name__ == "__main__":
    import time

    from PIL import ImageDraw as _Draw

    canvas = Image.new("L", (280, 280), 0)
    _Draw.Draw(canvas).line([(80, 60), (200, 60), (120, 230)], fill=255, width=18, joint="curve")
    drawing = np.asarray(canvas)
    angles = np.linspace(0, 2 * np.pi, 200)
    ring = [np.stack([140 + 60 * np.cos(angles), 140 + 90 * np.sin(angles)], axis=1)]
    for name, call in [
        ("prepare_image, 280 x 280 canvas", lambda: prepare_image(drawing)),
        ("prepare_image, same, normalize_width=False", lambda: prepare_image(drawing, normalize_width=False)),
        ("prepare_strokes, 200 points", lambda: prepare_strokes(ring)),
    ]:
        best = float("inf")
        for _ in range(5):
            start = time.process_time()  # CPU time: other processes sharing the cores don't count
            for _ in range(100):
                call()
            best = min(best, (time.process_time() - start) / 100)
        print(f"{name}: {best * 1e3:.2f} ms")
