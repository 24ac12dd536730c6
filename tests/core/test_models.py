"""Every registered architecture builds, has the right output shape, and exposes its layers."""

import pytest
import torch

from digitpad.core.models import (
    MODELS,
    build_model,
    capture_activations,
    conv_layers,
    feature_layers,
    first_layer_kernels,
    inference_copy,
)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("size", [28, 16])
def test_forward_shape(name, size):
    model = build_model(name, input_size=size).eval()
    with torch.no_grad():
        out = model(torch.rand(3, 1, size, size))
    assert out.shape == (3, 62 if name == "digitpad-joint" else 10)  # the joint model: digits then letters
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


def _with_trained_statistics(model: torch.nn.Module) -> torch.nn.Module:
    """BatchNorm as after training (not the identity it starts as), so folding it is tested."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator))
            module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            module.weight.data.copy_(torch.randn(n, generator=generator))
            module.bias.data.copy_(torch.randn(n, generator=generator))
    return model.eval()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_inference_copy_reads_like_the_model(name):
    model = _with_trained_statistics(build_model(name))
    reader = inference_copy(model)
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(reader(x), model(x), rtol=1e-4, atol=1e-4)
    assert model.training is False and all(p.requires_grad for p in model.parameters()), "the original is untouched"


def test_inference_copy_folds_batchnorm_and_drops_dropout():
    reader = inference_copy(build_model("digitpad", width=8, hidden=16))
    kinds = {type(m) for m in reader.modules()}
    assert not kinds & {torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.Dropout}
    assert sum(isinstance(m, torch.nn.Conv2d) for m in reader.modules()) == 3
