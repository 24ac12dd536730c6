"""Tests for digitpad.core.preprocess: drawings and image files in, MNIST/USPS-shaped digits out."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitpad.core.preprocess import (
    MNIST_SPEC,
    USPS_SPEC,
    ImageReadError,
    InputSpec,
    Prepared,
    load_image_file,
    prepare_file,
    prepare_image,
    prepare_strokes,
    spec_for,
)

# Digits as polylines in the coordinates of a 280 x 280 canvas.
SEVEN = [[(70, 50), (210, 50), (120, 240)]]
FOUR = [[(170, 40), (60, 170), (220, 170)], [(170, 40), (170, 250)]]


def ellipse_path(cx=140.0, cy=140.0, rx=60.0, ry=90.0, points=120):
    angles = np.linspace(0, 2 * np.pi, points)
    return [list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles)))]


ZERO = ellipse_path()
DIGITS = {"seven": SEVEN, "four": FOUR, "zero": ZERO}


def draw(paths, *, size=280, pen=16, scale=1.0, offset=(0.0, 0.0)) -> np.ndarray:
    """White-on-black uint8 rendering of polylines with a round pen, like a paint program would
    (pinholes included: Pillow's wide polylines leave slivers unfilled, and the width estimate must cope)."""
    canvas = Image.new("L", (size, size), 0)
    pencil = ImageDraw.Draw(canvas)
    radius = pen / 2
    for path in paths:
        points = [(x * scale + offset[0], y * scale + offset[1]) for x, y in path]
        pencil.line(points, fill=255, width=pen, joint="curve")
        for x, y in (points[0], points[-1]):
            pencil.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(canvas)


def as_strokes(paths, step=3.0, shift=(0.0, 0.0)):
    """Canvas-like vector strokes: the polylines sampled every few pixels, as mouse events arrive."""
    strokes = []
    for path in paths:
        corners = np.asarray(path, dtype=float)
        pieces = []
        for start, end in zip(corners[:-1], corners[1:]):
            count = max(1, int(np.hypot(*(end - start)) // step))
            pieces.append(start + (end - start) * np.linspace(0, 1, count, endpoint=False)[:, None])
        pieces.append(corners[-1:])
        strokes.append(np.concatenate(pieces) + shift)
    return strokes


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(image.shape)
    return np.array([(rows * image).sum(), (cols * image).sum()]) / image.sum()


def ink_box(image: np.ndarray, threshold=0.05):
    rows = np.flatnonzero((image > threshold).any(axis=1))
    cols = np.flatnonzero((image > threshold).any(axis=0))
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


def prepared_image(result: Prepared) -> np.ndarray:
    assert not result.empty and result.image is not None
    return result.image


# --- Specs -----------------------------------------------------------------------------------------
def test_spec_for_names_and_unknown():
    assert spec_for("mnist") == MNIST_SPEC == InputSpec(28, 20, "mass")
    assert spec_for("USPS") == USPS_SPEC == InputSpec(16, 16, "box")
    assert spec_for("personal") == MNIST_SPEC
    with pytest.raises(ValueError, match="kmnist"):
        spec_for("kmnist")


def test_input_spec_rejects_nonsense():
    with pytest.raises(ValueError):
        InputSpec(28, 30, "mass")
    with pytest.raises(ValueError):
        InputSpec(28, 20, "middle")


# --- Output format ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [MNIST_SPEC, USPS_SPEC], ids=["mnist", "usps"])
def test_output_shape_dtype_and_range(spec):
    for result in (prepare_image(draw(SEVEN), spec), prepare_strokes(as_strokes(SEVEN), spec)):
        image = prepared_image(result)
        assert image.shape == (spec.size, spec.size)
        assert image.dtype == np.float32
        assert image.min() >= 0 and image.max() <= 1
        assert image.max() > 0.99  # full-strength ink, as in MNIST


# --- Geometry: position, size, aspect, centring ----------------------------------------------------
@pytest.mark.parametrize("name", DIGITS)
def test_shifted_drawing_gives_same_output(name):
    here = prepare_image(draw(DIGITS[name], offset=(-30, -20)))
    there = prepare_image(draw(DIGITS[name], offset=(25, 20)))
    np.testing.assert_allclose(prepared_image(here), prepared_image(there), atol=1e-4)
    assert there.bbox[0] - here.bbox[0] == 40 and there.bbox[1] - here.bbox[1] == 55


def test_shifted_strokes_give_same_output():
    here = prepare_strokes(as_strokes(FOUR))
    there = prepare_strokes(as_strokes(FOUR, shift=(-33.3, 17.7)))
    np.testing.assert_allclose(prepared_image(here), prepared_image(there), atol=1e-3)


@pytest.mark.parametrize("name", DIGITS)
def test_twice_as_big_drawing_gives_nearly_same_output(name):
    small = prepared_image(prepare_image(draw(DIGITS[name], size=280, pen=16)))
    big = prepared_image(prepare_image(draw(DIGITS[name], size=560, pen=32, scale=2.0)))
    assert corr(small, big) > 0.97
    assert np.abs(small - big).mean() < 0.03


def test_twice_as_big_strokes_give_nearly_same_output():
    small = prepared_image(prepare_strokes(as_strokes(ZERO)))
    big = prepared_image(prepare_strokes([stroke * 2 for stroke in as_strokes(ZERO)]))
    assert corr(small, big) > 0.98


def test_longer_side_is_scaled_to_the_box():
    for result in (prepare_image(draw(SEVEN)), prepare_strokes(as_strokes(SEVEN))):
        top, left, bottom, right = ink_box(prepared_image(result))
        assert 19 <= max(bottom - top, right - left) <= 21


def test_thin_vertical_line_is_not_stretched():
    one = [[(140, 40), (140, 240)]]
    for result in (prepare_image(draw(one, pen=6)), prepare_strokes(as_strokes(one))):
        top, left, bottom, right = ink_box(prepared_image(result), threshold=0.1)
        assert bottom - top >= 19
        assert right - left <= 4  # a stretched "1" would be a 20 px wide bar


@pytest.mark.parametrize("name", DIGITS)
def test_mnist_centre_of_mass_is_at_the_centre(name):
    for result in (prepare_image(draw(DIGITS[name])), prepare_strokes(as_strokes(DIGITS[name]))):
        # MNIST's convention: centre of mass on pixel (14, 14) of 28 x 28 (row, col indices).
        assert np.abs(centre_of_mass(prepared_image(result)) - 14).max() <= 0.5


def test_top_heavy_digit_is_placed_by_mass_not_by_box():
    image = prepared_image(prepare_image(draw(SEVEN)))
    top, left, bottom, right = ink_box(image)
    box_centre_row = (top + bottom - 1) / 2
    assert box_centre_row > centre_of_mass(image)[0] + 1  # the heavy bar sits above the middle


def test_usps_bounding_box_is_centred():
    wide_zero = ellipse_path(rx=100, ry=50)  # wider than tall: the short side must be centred
    from_image = prepare_image(draw(wide_zero), USPS_SPEC)
    for result in (from_image, prepare_strokes(as_strokes(wide_zero), USPS_SPEC)):
        top, left, bottom, right = ink_box(prepared_image(result), threshold=0.1)
        assert right - left >= 15
        assert abs((top + bottom) / 2 - 8) <= 0.5
        assert abs((left + right) / 2 - 8) <= 0.5


def test_bbox_reports_the_ink_in_input_pixels():
    result = prepare_image(draw([[(100, 60), (100, 200)]], pen=10))
    top, left, bottom, right = result.bbox
    assert abs(top - 55) <= 1 and abs(bottom - 205) <= 1 and abs(left - 95) <= 1 and abs(right - 105) <= 1
    strokes = prepare_strokes(as_strokes([[(100, 60), (100, 200)]]))
    assert strokes.bbox[0] <= 60 < 200 <= strokes.bbox[2] and strokes.bbox[1] <= 100 < strokes.bbox[3]


# --- Stroke width ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DIGITS)
def test_thin_and_thick_pens_read_alike(name):
    # 2% and 24% of the digit's height; MNIST's own strokes are 8-18% of theirs.
    thin = draw(DIGITS[name], pen=4)
    thick = draw(DIGITS[name], pen=48)
    # Without normalisation the two differ a lot, so the assertions below can fail ...
    raw_thin = prepared_image(prepare_image(thin, normalize_width=False))
    raw_thick = prepared_image(prepare_image(thick, normalize_width=False))
    assert raw_thick.sum() > 2 * raw_thin.sum()
    # ... and with it they look alike.
    a, b = prepared_image(prepare_image(thin)), prepared_image(prepare_image(thick))
    assert corr(a, b) > 0.9
    assert 0.8 < a.sum() / b.sum() < 1.25


@pytest.mark.parametrize("name", DIGITS)
def test_strokes_and_the_same_drawing_as_an_image_agree(name):
    from_strokes = prepared_image(prepare_strokes(as_strokes(DIGITS[name])))
    for pen in (6, 16, 30):
        from_image = prepared_image(prepare_image(draw(DIGITS[name], pen=pen)))
        assert corr(from_strokes, from_image) > 0.9, pen
        assert 0.75 < from_image.sum() / from_strokes.sum() < 1.33, pen


def test_stroke_pressure_column_is_ignored():
    plain = as_strokes(SEVEN)
    with_pressure = [np.column_stack([s, np.linspace(0.1, 1, len(s))]) for s in plain]
    np.testing.assert_array_equal(
        prepared_image(prepare_strokes(plain)), prepared_image(prepare_strokes(with_pressure))
    )


def test_a_lone_point_within_a_drawing_renders_as_a_dot():
    line = as_strokes([[(140, 40), (140, 200)]])
    without = prepared_image(prepare_strokes(line))
    with_dot = prepared_image(prepare_strokes(line + [np.array([[140.0, 240.0]])]))
    rows = np.flatnonzero(with_dot.max(axis=1) > 0.5)
    assert np.any(np.diff(rows) > 1)  # a gap, then the dot below the line
    assert with_dot.sum() > without.sum() * 0.9


def _mnist_like(paths, pen=24) -> np.ndarray:
    """A digit made the way MNIST's were: anti-aliased, longer side scaled to 20 px, pasted into 28 x 28
    with its centre of mass moved to pixel (14, 14) by a whole-pixel shift."""
    ink = draw(paths, pen=pen).astype(np.float32) / 255
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    factor = 20 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
    small = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BOX))
    top, left = np.round(14 - centre_of_mass(small)).astype(int)
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[top : top + small.shape[0], left : left + small.shape[1]] = small
    return digit / digit.max()


@pytest.mark.parametrize("name", DIGITS)
def test_mnist_like_digit_comes_back_unchanged(name):
    digit = _mnist_like(DIGITS[name])
    assert np.abs(centre_of_mass(digit) - 14).max() <= 0.5  # the fixture really is MNIST-shaped
    again = prepared_image(prepare_image(digit))
    assert corr(again, digit) > 0.99
    assert np.abs(again - digit).max() < 0.15  # only the faint background floor may differ


@pytest.mark.parametrize("pen", [10, 44])
def test_mnist_like_digits_of_unusual_width_are_brought_to_the_usual_width(pen):
    unusual, usual = _mnist_like(SEVEN, pen=pen), _mnist_like(SEVEN, pen=24)
    adjusted = prepared_image(prepare_image(unusual))
    assert corr(adjusted, usual) > 0.9
    assert corr(adjusted, usual) > corr(unusual, usual) + 0.03
    assert 0.8 < adjusted.sum() / usual.sum() < 1.25


# --- Polarity and colour ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", DIGITS)
def test_dark_ink_on_light_paper_is_inverted(name):
    direct = prepare_image(draw(DIGITS[name]))
    flipped = prepare_image(255 - draw(DIGITS[name]))
    assert not direct.inverted and flipped.inverted
    np.testing.assert_allclose(prepared_image(flipped), prepared_image(direct), atol=1e-4)


def test_grey_paper_and_grey_ink_are_stretched():
    drawing = draw(SEVEN).astype(np.float32) / 255
    pencil_on_paper = 0.85 - 0.5 * drawing  # grey pencil on off-white paper
    image = prepared_image(prepare_image(pencil_on_paper))
    assert corr(image, prepared_image(prepare_image(drawing))) > 0.99
    assert image.max() > 0.99


def test_float_and_uint8_inputs_agree():
    drawing = draw(FOUR)
    from_float = prepared_image(prepare_image(drawing.astype(np.float32) / 255))
    np.testing.assert_allclose(from_float, prepared_image(prepare_image(drawing)), atol=1e-4)


def test_rgb_and_rgba_inputs():
    ink = draw(ZERO).astype(np.float32) / 255
    reference = prepared_image(prepare_image(ink))
    blue_on_white = np.stack([1 - ink, 1 - ink, 1 - 0.3 * ink], axis=-1)
    rgb = prepare_image((blue_on_white * 255).astype(np.uint8))
    assert rgb.inverted and corr(prepared_image(rgb), reference) > 0.99
    # A canvas exported with a transparent background: black ink, alpha = ink.
    rgba = np.zeros((*ink.shape, 4), dtype=np.float32)
    rgba[..., 3] = ink
    transparent = prepare_image(rgba)
    assert transparent.inverted and corr(prepared_image(transparent), reference) > 0.99


def test_bad_image_shapes_are_rejected():
    with pytest.raises(ValueError):
        prepare_image(np.zeros((28, 28, 2)))
    with pytest.raises(ValueError):
        prepare_image(np.zeros(28))


# --- Empty and nearly empty ------------------------------------------------------------------------
def _single_pixel():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[10, 12] = 255
    return image


def _stray_pixels():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[[3, 8, 15, 20, 25], [4, 22, 9, 17, 2]] = 255
    return image


def _faint_noise():
    return np.random.default_rng(0).uniform(0, 0.1, (280, 280)).astype(np.float32)


def _faint_noise_on_paper():
    return 1 - _faint_noise()


def _tiny_dot():
    return draw([[(150, 150)]], pen=14)


def _noisy_specks():
    image = (np.random.default_rng(1).uniform(0, 0.05, (280, 280)) * 255).astype(np.uint8)
    image[40:42, 40:42] = image[200:203, 100:102] = image[120:122, 250:252] = 255
    return image


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.zeros((28, 28), dtype=np.uint8),
        lambda: np.full((280, 280), 255, dtype=np.uint8),
        _single_pixel,
        _stray_pixels,
        _faint_noise,
        _faint_noise_on_paper,
        _tiny_dot,
        _noisy_specks,
    ],
    ids=[
        "black", "white", "single-pixel", "stray-pixels",
        "faint-noise", "faint-noise-on-paper", "tiny-dot", "specks",
    ],
)
def test_blank_and_nearly_blank_images_are_empty(make):
    result = prepare_image(make())
    assert result.empty and result.image is None and result.bbox is None


def test_faint_noise_around_a_digit_is_ignored():
    clean = prepared_image(prepare_image(draw(SEVEN).astype(np.float32) / 255))
    noisy_input = np.clip(draw(SEVEN).astype(np.float32) / 255 + _faint_noise(), 0, 1)
    noisy = prepared_image(prepare_image(noisy_input))
    assert corr(clean, noisy) > 0.98
    assert noisy[:3].max() == 0 and noisy[:, :3].max() == 0  # no speckle in the margins


@pytest.mark.parametrize(
    "strokes",
    [
        [],
        [np.empty((0, 2))],
        [np.array([[50.0, 60.0]])],
        [np.array([[50.0, 60.0], [51.0, 61.5], [50.5, 60.0]])],
    ],
    ids=["none", "no-points", "tap", "jittery-tap"],
)
def test_empty_strokes_are_empty(strokes):
    result = prepare_strokes(strokes)
    assert result.empty and result.image is None


def test_a_small_but_real_digit_is_not_empty():
    assert not prepare_image(draw(SEVEN, pen=8, scale=0.3, offset=(100, 100))).empty
    assert not prepare_image(_mnist_like(SEVEN)).empty


# --- Files -----------------------------------------------------------------------------------------
def test_missing_file_raises_image_read_error(tmp_path):
    path = tmp_path / "nothing-here.png"
    with pytest.raises(ImageReadError, match="nothing-here.png"):
        load_image_file(path)


def test_text_file_named_png_raises_image_read_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n")
    with pytest.raises(ImageReadError, match="notes.png") as caught:
        load_image_file(path)
    assert isinstance(caught.value, ValueError) and "\n" not in str(caught.value)


def test_truncated_png_raises_image_read_error(tmp_path):
    whole = tmp_path / "whole.png"
    Image.fromarray(draw(SEVEN)).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ImageReadError, match="cut.png"):
        prepare_file(cut)


def test_png_files_load_and_prepare_like_arrays(tmp_path):
    drawing = 255 - draw(FOUR)  # dark ink on white, as most image files are
    path = tmp_path / "four.png"
    Image.fromarray(drawing).save(path)
    grey = load_image_file(path)
    assert grey.shape == (280, 280) and grey.dtype == np.float32
    np.testing.assert_allclose(grey, drawing / 255, atol=1e-6)
    from_file = prepare_file(path)
    assert from_file.inverted
    np.testing.assert_allclose(prepared_image(from_file), prepared_image(prepare_image(drawing)), atol=1e-5)


def test_transparent_png_is_composited_on_white(tmp_path):
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = draw(ZERO)  # black ink on a transparent background
    path = tmp_path / "zero.png"
    Image.fromarray(rgba, "RGBA").save(path)
    grey = load_image_file(path)
    assert grey.max() == 1.0 and grey.min() == 0.0  # white paper, black ink
    assert corr(prepared_image(prepare_file(path)), prepared_image(prepare_image(draw(ZERO)))) > 0.99
