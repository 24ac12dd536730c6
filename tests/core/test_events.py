"""Run events: every one in core.events under one base class; the final event carries the model."""

from __future__ import annotations

import dataclasses
import inspect

from digitpad.core import events
from digitpad.core.events import RunEvent, RunFinished, TrainingEvent
from digitpad.core.trainer import Trainer


def test_every_event_is_a_frozen_run_event():
    classes = [c for _, c in inspect.getmembers(events, inspect.isclass) if c.__module__ == events.__name__]
    kinds = [c for c in classes if c not in (RunEvent, TrainingEvent)]
    assert len(kinds) >= 17
    for kind in kinds:
        assert issubclass(kind, RunEvent) and dataclasses.is_dataclass(kind), kind
        assert kind.__dataclass_params__.frozen, kind


def test_the_trainer_yields_training_events_and_hands_its_model_in_run_finished(tiny_digits, tiny_config):
    trainer = Trainer(tiny_config, tiny_digits)
    items = list(trainer.run())
    assert all(isinstance(e, TrainingEvent) for e in items)
    finished = [e for e in items if isinstance(e, RunFinished)]
    assert len(finished) == 1 and finished[0].checkpoint is trainer.checkpoint
    assert finished[0].state is trainer.checkpoint.state
