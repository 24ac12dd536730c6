"""Every registered architecture builds, has the right output shape, and exposes its layers."""

import pytest
import torch

from digitpad.core.models import MODELS, build_model, capture_activations, conv_layers, feature_layers, first_layer_kernels


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("size", [28, 16])
def test_forward_shape(name, size):
    model = build_model(name, input_size=size).eval()
    with torch.no_grad():
        out = model(torch.rand(3, 1, size, size))
    assert out.shape == (3, 10)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_has_a_description_and_feature_layers(name):
    assert len(MODELS[name].description) > 20
    model = build_model(name)
    assert conv_layers(model), "the kernel viewer needs a convolution"
    assert feature_layers(model), "the feature-map viewer needs at least one layer"


def test_activations_come_from_hooks_and_match_layer_shapes():
    model = build_model("digitpad", width=8, hidden=16).eval()
    logits, maps = capture_activations(model, torch.rand(1, 1, 28, 28))
    assert list(maps) == ["conv1", "conv2", "conv3"]
    assert maps["conv1"].shape == (1, 8, 24, 24)
    assert maps["conv2"].shape == (1, 16, 12, 12)
    assert maps["conv3"].shape == (1, 16, 10, 10)
    assert (maps["conv1"] >= 0).all()  # after ReLU
    with torch.no_grad():
        assert torch.allclose(logits, model(torch.rand(1, 1, 28, 28)) * 0 + logits)
    # hooks are removed afterwards
    assert all(not m._forward_hooks for _, m in feature_layers(model))


def test_first_layer_kernels_shape_and_copy():
    model = build_model("lasagne")
    kernels = first_layer_kernels(model)
    assert kernels.shape == (32, 5, 5)
    kernels += 1  # a copy: the model must not change
    assert not torch.equal(kernels, first_layer_kernels(model))


def test_unknown_model_lists_known_names():
    with pytest.raises(KeyError, match="digitpad"):
        build_model("nope")


def test_default_model_is_small_enough_to_ship():
    model = build_model("digitpad")
    megabytes = sum(p.numel() for p in model.parameters()) * 4 / 2**20
    assert megabytes < 4
