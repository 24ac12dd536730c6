"""``digitpad doctor``: what this installation runs on, and why, in a few facts.

Python, the torch build and the device training would use (CUDA, Apple MPS or the CPU, with the
reason when a GPU is not used), the data and cache folders and which datasets are there, the
personal set, and the model the pad opens. The UI adds the Qt platform status. Qt-free.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass

import torch

from .. import __version__
from .checkpoints import CheckpointError, load_checkpoint
from .datasets import DATASETS, data_dir, dataset_dir
from .inference import default_model_path


@dataclass(frozen=True)
class Fact:
    topic: str
    value: str
    ok: bool = True  # False: something the user may want to fix


def device_facts() -> list[Fact]:
    """Which device 'auto' picks, and why not a GPU when it does not."""
    build = f"torch {torch.__version__}" + (f", CUDA {torch.version.cuda} build" if torch.version.cuda else ", CPU-only build")
    facts = [Fact("torch", build)]
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        facts.append(Fact("device", f"cuda ({names})"))
        return facts
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        facts.append(Fact("device", "mps (Apple GPU)"))
        return facts
    if not torch.version.cuda:
        why = "this torch build has no CUDA (pip install a CUDA build of torch to train on an NVIDIA GPU)"
    else:
        why = "torch has CUDA but sees no GPU (no NVIDIA driver, or CUDA_VISIBLE_DEVICES hides it)"
    if sys.platform == "darwin":
        why = "MPS is not available (needs Apple silicon or an AMD GPU, macOS 12.3+)"
    facts.append(Fact("device", f"cpu, {os.cpu_count()} logical cores: {why}"))
    return facts


def data_facts(root=None) -> list[Fact]:
    folder = data_dir(root)
    source = "DIGITPAD_DATA" if os.environ.get("DIGITPAD_DATA") else "per-user cache"
    facts = [Fact("data folder", f"{folder} ({source}" + ("" if folder.exists() else ", not created yet") + ")")]
    for name in sorted(DATASETS):
        present = dataset_dir(name, root).is_dir()
        facts.append(Fact(f"  {name}", "present" if present else "not downloaded yet (digitpad download " + name + ")", present))
    return facts


def model_facts() -> list[Fact]:
    path = default_model_path()
    try:
        checkpoint = load_checkpoint(path)
    except CheckpointError as error:
        return [Fact("model", str(error), False)]
    detail = f", {checkpoint.test_figure}" if checkpoint.test_figure else ""
    return [Fact("model", f"{path} ({checkpoint.arch}{detail})")]


def personal_facts() -> list[Fact]:
    from .personal import PersonalStore

    store = PersonalStore()
    return [Fact("personal digits", f"{len(store)} in {store.root}")]


def report(extra: list[Fact] = ()) -> list[Fact]:
    """Every fact, in the order people read them."""
    head = [
        Fact("digitpad", __version__),
        Fact("python", f"{platform.python_version()} ({sys.executable})"),
        Fact("system", f"{platform.system()} {platform.release()} {platform.machine()}"),
    ]
    return head + device_facts() + list(extra) + data_facts() + personal_facts() + model_facts()


def format_report(facts: list[Fact]) -> str:
    width = max(len(f.topic) for f in facts) + 2
    return "\n".join(f"{f.topic + ':':<{width}} {f.value}{'' if f.ok else '  <- check this'}" for f in facts)
