"""Run the ordinary Trainer while looking at its model: errors at intervals of training time.

``ProbeTrainer`` is ``core.trainer.Trainer`` plus two remembered references (the data splits
and the model, captured where the trainer makes them), so an experiment can measure train and
test error between batches. The generator is suspended while it measures, so the time spent
measuring is kept out of the training clock that ``run_probed`` reports.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..core.config import TrainConfig
from ..core.datasets import DigitData
from ..core.events import EpochEnded, LoopEnded, RunFailed, RunFinished, RunStarted, StepsEnded
from ..core.inference import batched_logits
from ..core.trainer import RunControl, Trainer


class ProbeTrainer(Trainer):
    """A Trainer whose model and splits can be evaluated while ``run()`` is suspended."""

    model: torch.nn.Module | None = None
    splits: tuple | None = None  # (train, val, test) as the trainer prepared them

    def _prepare_data(self):
        self.splits = super()._prepare_data()
        return self.splits

    def _make_optimizer(self, model):
        self.model = model  # the live module (already moved to its device and memory format)
        return super()._make_optimizer(model)

    @torch.no_grad()
    def error(self, split: str, limit: int | None = None) -> float:
        """Error of the current weights on ``split`` ("train", "val" or "test"), in eval mode.

        ``limit`` takes a fixed seeded sample of that many examples (the same one each call), so
        repeated measurements during a run are comparable and cheap.
        """
        if self.model is None or self.splits is None:
            raise RuntimeError("the run has not started yet")
        part = dict(zip(("train", "val", "test"), self.splits))[split]
        images, labels = part.images, part.labels
        if len(labels) == 0:
            return float("nan")
        if limit is not None and limit < len(labels):
            pick = torch.randperm(len(labels), generator=torch.Generator().manual_seed(1234))[:limit]
            pick = pick.to(labels.device)
            images, labels = images[pick], labels[pick]
        was_training = self.model.training
        try:
            logits = batched_logits(self.model, images, self.mean, self.std)
        finally:
            self.model.train(was_training)  # batched_logits leaves eval mode on
        return float((logits.argmax(1) != labels).float().mean())


@dataclass
class ProbedRun:
    """What one probed training run measured."""

    config: TrainConfig
    started: RunStarted | None = None
    finished: RunFinished | None = None
    steps: int = 0  # optimizer steps taken
    epochs_seen: int = 0  # completed epochs
    train_s: float = 0.0  # seconds inside the trainer after RunStarted, measurements excluded
    wall_s: float = 0.0  # the whole call, data preparation and measurements included
    points: list[dict] = field(default_factory=list)
    trainer: ProbeTrainer | None = None
    step_times: list[float] = field(default_factory=list)  # seconds per step, one per StepsEnded

    @property
    def s_per_step(self) -> float:
        """Median seconds per optimizer step over the run's reports, skipping the first (warm-up).

        On a shared machine the mean (``train_s / steps``) also measures whoever else was busy;
        the median of many short intervals is what one step costs when the run had its core.
        """
        times = self.step_times[1:] or self.step_times
        if times:
            return statistics.median(times)
        return self.train_s / self.steps if self.steps else float("nan")  # too short to have reports

    @property
    def test_error(self) -> float:
        if self.finished is None or self.finished.test_accuracy is None:
            return float("nan")
        return 1.0 - self.finished.test_accuracy

    def final_errors(self, split_limit: int | None = None) -> tuple[float, float]:
        """(train error, test error) of the weights training ended with.

        The point measured when a step budget stopped the run, else the trainer's kept weights
        (the last epoch when there is no validation set) measured now.
        """
        if self.points and self.points[-1]["steps"] == self.steps:
            return self.points[-1]["train_error"], self.points[-1]["test_error"]
        return self.trainer.error("train", split_limit), self.test_error

    @property
    def examples(self) -> int:
        batch = min(self.config.batch_size, self.started.train_size) if self.started else self.config.batch_size
        return self.steps * batch


def run_probed(
    config: TrainConfig,
    data: DigitData,
    *,
    eval_interval_s: float | None = None,
    train_limit: int | None = 2000,
    test_limit: int | None = None,
    on_point: Callable[[dict], None] | None = None,
    max_steps: int | None = None,
) -> ProbedRun:
    """Train ``config`` on ``data`` to the end; with ``eval_interval_s``, measure errors on the way.

    Points (dicts with ``train_s``, ``steps``, ``examples``, ``epoch``, ``train_error``,
    ``test_error``) are taken at the start, every ``eval_interval_s`` seconds of training time,
    and after the last training step, with the weights as they are then (not the best epoch's).
    ``max_steps`` (or ``config.max_steps``) is a budget the Trainer itself enforces: exactly that
    many optimizer steps run, whatever the machine's speed. The trainer then restores its best
    completed epoch, so the weights it ended with are measured first, at ``LoopEnded``:
    ``final_errors`` gives those.
    Raises ``RuntimeError`` when the run fails.
    """
    if max_steps is not None:
        config = dataclasses.replace(config, max_steps=max_steps)
    budgeted = config.max_steps > 0
    control = RunControl()
    trainer = ProbeTrainer(config, data, control)
    result = ProbedRun(config, trainer=trainer)
    wall_start = time.perf_counter()
    probing = eval_interval_s is not None
    clock = 0.0  # seconds spent inside the trainer since RunStarted: measuring is not training
    next_point = 0.0
    last_report = 0.0

    def measure() -> None:
        if result.points and result.points[-1]["steps"] == result.steps and result.steps:
            return  # already measured these weights
        point = {
            "train_s": clock,
            "steps": result.steps,
            "examples": result.examples,
            "epoch": result.steps / result.started.steps_per_epoch,
            "train_error": trainer.error("train", train_limit),
            "test_error": trainer.error("test", test_limit),
        }
        result.points.append(point)
        if on_point:
            on_point(point)

    events = trainer.run()
    while True:
        t0 = time.perf_counter()
        event = next(events, None)
        if result.started is not None:
            clock += time.perf_counter() - t0
        if event is None:
            break
        if isinstance(event, RunFailed):
            raise RuntimeError(f"training {config.model} failed: {event.message}")
        if isinstance(event, RunStarted):
            result.started = event
            if probing:
                measure()
                next_point = eval_interval_s
        elif isinstance(event, StepsEnded):
            if event.step > result.steps and event.samples_per_s:
                result.step_times.append((clock - last_report) / (event.step - result.steps))
            last_report = clock
            result.steps = event.step
            if probing and clock >= next_point:
                measure()
                if eval_interval_s > 0:
                    next_point += eval_interval_s * (1 + int((clock - next_point) // eval_interval_s))
        elif isinstance(event, EpochEnded):
            result.epochs_seen = event.epoch
        elif isinstance(event, LoopEnded):
            # The weights training ended with, before the trainer restores its best epoch's.
            result.steps = event.step
            if probing or budgeted:
                measure()
        elif isinstance(event, RunFinished):
            result.finished = event
    if probing and result.points:
        result.train_s = result.points[-1]["train_s"]
    elif result.finished is not None:
        result.train_s = result.finished.elapsed_s  # the trainer's own clock: the training loop only
    result.wall_s = time.perf_counter() - wall_start
    return result


def hardware() -> str:
    """A one-line description of this machine's CPU, for the results tables."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} logical CPUs; torch {torch.__version__}"
