"""Saliency maps and their placement on the pad: exact on a linear model, sane on a CNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from torch import nn

from digitpad.core import preprocess
from digitpad.core.models import build_model
from digitpad.core.saliency import grad_cam, gradient_x_input, input_to_pad, saliency_map


def _digit_image(size: int = 28) -> np.ndarray:
    image = np.zeros((size, size), np.float32)
    image[6:22, 12:15] = 1.0  # a "1"
    image[6:9, 9:15] = 0.6
    return image


def test_gradient_x_input_on_a_linear_model_is_weight_over_std_times_pixel():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
    image = _digit_image()
    mean, std = 0.13, 0.31
    saliency, target = gradient_x_input(model, image, mean, std, target=3)
    assert target == 3
    expected = model[1].weight[3].detach().numpy().reshape(28, 28) / std * image
    np.testing.assert_allclose(saliency, expected, rtol=1e-5, atol=1e-7)
    assert model[1].weight.grad is None  # only the input's gradient was taken


def test_gradient_x_input_is_zero_on_paper_and_defaults_to_the_predicted_class():
    torch.manual_seed(0)
    model = build_model("digitpad", width=4, hidden=8).eval()
    image = _digit_image()
    saliency, target = gradient_x_input(model, image, 0.13, 0.31)
    with torch.no_grad():
        logits = model(((torch.from_numpy(image) - 0.13) / 0.31)[None, None])
    assert target == int(logits.argmax())
    assert saliency.shape == (28, 28) and saliency.dtype == np.float32
    assert np.all(saliency[image == 0] == 0)
    assert np.abs(saliency[image > 0]).max() > 0
    assert not model.training


def test_grad_cam_is_a_non_negative_input_sized_map_and_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = build_model("digitpad", width=4, hidden=8)
    model.train()
    cam, target = grad_cam(model, _digit_image(), 0.13, 0.31)
    assert cam.shape == (28, 28)
    assert np.isfinite(cam).all() and cam.min() >= 0
    assert 0 <= target < 10
    assert model.training  # restored
    assert all(p.grad is None for p in model.parameters())


def test_saliency_map_works_inside_inference_mode_and_rejects_unknown_methods():
    model = build_model("lenet5").eval()
    with torch.inference_mode():  # the Predictor's own context must not break it
        saliency, _ = saliency_map(model, _digit_image(), 0.0, 1.0, "grad_cam")
    assert saliency.shape == (28, 28)
    with pytest.raises(ValueError, match="unknown saliency method"):
        saliency_map(model, _digit_image(), 0.0, 1.0, "magic")


def _centre_of_mass(image: np.ndarray) -> np.ndarray:
    """(row, col) in edge coordinates."""
    total = image.sum()
    rows = (image.sum(1) * (np.arange(image.shape[0]) + 0.5)).sum() / total
    cols = (image.sum(0) * (np.arange(image.shape[1]) + 0.5)).sum() / total
    return np.array([rows, cols])


@pytest.mark.parametrize("spec", [preprocess.MNIST_SPEC, preprocess.USPS_SPEC])
def test_input_to_pad_puts_the_prepared_digit_back_where_it_was_drawn(spec):
    # Strokes of a "7" in the lower right of a 300 x 300 pad.
    strokes = [np.array([[150.0, 140.0], [260.0, 140.0], [190.0, 280.0]])]
    prepared = preprocess.prepare_strokes(strokes, spec)
    mapping = input_to_pad(prepared, spec)
    assert mapping is not None
    pen = preprocess._target_stroke_width(spec) * preprocess._PEN_PER_TRAINING_WIDTH
    assert mapping.scale == pytest.approx(140 / (spec.box - pen), rel=0.05)  # pad px per input px
    # The ink's centre of mass in the model's input lands on the drawing's centre of mass on the pad.
    pad = Image.new("L", (300, 300))
    ImageDraw.Draw(pad).line([tuple(p) for p in strokes[0]], fill=255, width=round(pen * mapping.scale))
    expected = _centre_of_mass(np.asarray(pad, np.float32))
    got = np.array(mapping.to_pad(*_centre_of_mass(prepared.image)))
    assert np.abs(got - expected).max() < 0.75 * mapping.scale  # within one input pixel


def test_input_to_pad_for_raster_input_and_device_pixels():
    pad = Image.new("L", (400, 400), 255)  # dark ink on paper, drawn at device pixel ratio 2
    ImageDraw.Draw(pad).line([(60, 80), (60, 300), (150, 300)], fill=0, width=24)
    prepared = preprocess.prepare_image(np.asarray(pad), preprocess.MNIST_SPEC)
    mapping = input_to_pad(prepared, preprocess.MNIST_SPEC, bbox_scale=0.5)  # to 200 x 200 logical pixels
    ink = 255 - np.asarray(pad, np.float32)
    expected = _centre_of_mass(ink) / 2
    got = np.array(mapping.to_pad(*_centre_of_mass(prepared.image)))
    assert np.abs(got - expected).max() < 1.0 * mapping.scale


def test_input_to_pad_is_none_for_an_empty_pad():
    assert input_to_pad(preprocess.Prepared(None, True, False, None), preprocess.MNIST_SPEC) is None
