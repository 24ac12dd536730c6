"""`digitpad doctor`'s facts: the torch build and device with the reason, folders, datasets, model."""

from __future__ import annotations

import torch

from digitpad.core import doctor


def topics(facts):
    return [f.topic for f in facts]


def test_report_names_every_topic_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_DATA", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    facts = doctor.report([doctor.Fact("qt", "offscreen")])
    names = topics(facts)
    assert names[:4] == ["digitpad", "python", "system", "torch"] and names[4] == "device" and names[5] == "qt"
    assert "data folder" in names and "  mnist" in names and "personal digits" in names and names[-1] == "model"
    by_topic = {f.topic: f for f in facts}
    assert by_topic["  mnist"].ok and by_topic["  mnist"].value == "present"
    assert not by_topic["  usps"].ok and "digitpad download usps" in by_topic["  usps"].value
    assert "(DIGITPAD_DATA)" in by_topic["data folder"].value
    text = doctor.format_report(facts)
    assert text.count("\n") == len(facts) - 1 and "<- check this" in text


def test_cpu_only_build_says_why_there_is_no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(doctor.sys, "platform", "linux")
    device = {f.topic: f.value for f in doctor.device_facts()}
    assert "CPU-only build" in device["torch"]
    assert device["device"].startswith("cpu") and "this torch build has no CUDA" in device["device"]


def test_cuda_build_without_a_gpu_blames_the_driver(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(doctor.sys, "platform", "linux")
    assert "no NVIDIA driver" in doctor.device_facts()[1].value


def test_a_broken_model_is_flagged(monkeypatch, tmp_path):
    bad = tmp_path / "default.safetensors"
    bad.write_bytes(b"junk")
    monkeypatch.setattr(doctor, "default_model_path", lambda: bad)
    (fact,) = doctor.model_facts()
    assert not fact.ok and "not a safetensors file" in fact.value


def test_the_model_line_names_the_set_its_test_figure_comes_from(monkeypatch, tmp_path):
    # A mixed set's figure (MNIST test + held-out pen digits) is not MNIST's: "its test set" hid that.
    from digitpad.core.checkpoints import Checkpoint, save_checkpoint
    from digitpad.core.models import build_model

    meta = {"dataset": "mnist+pen", "metrics": {"test_accuracy": 0.99358}}
    path = save_checkpoint(Checkpoint.from_model(build_model("digitpad", width=8, hidden=16), meta), tmp_path / "m")
    monkeypatch.setattr(doctor, "default_model_path", lambda: path)
    (fact,) = doctor.model_facts()
    assert fact.ok and fact.value.endswith("(digitpad, 99.36% on the mnist+pen test set)")
