"""Named training recipes: digitpad's own, and the seed documents' systems as they describe them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .config import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: TrainConfig
    reported: str = ""  # the figure the source reports, for the comparison table

    def make_config(self, **overrides) -> TrainConfig:
        """A fresh copy of the recipe with some fields replaced (e.g. epochs for a quick try)."""
        return dataclasses.replace(self.config, **overrides)


PRESETS: dict[str, Preset] = {}


def add_preset(preset: Preset) -> Preset:
    PRESETS[preset.name] = preset
    return preset


add_preset(
    Preset(
        "default",
        "digitpad's default net on MNIST: one-cycle Nesterov SGD, augmentation, label smoothing",
        TrainConfig(dataset="mnist", model="digitpad", epochs=15),
    )
)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]
