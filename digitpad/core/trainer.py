"""The training loop, readable top to bottom: ``Trainer.run()`` yields events and knows no threads.

The whole dataset lives as one uint8 tensor on the training device; a batch is an index slice of a
seeded permutation, augmented on that device, so the loop has no per-sample Python. Pause, resume
and stop come from another thread through ``RunControl`` and take effect within one batch.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .. import __version__
from . import preprocess
from .augment import augment_batch
from .checkpoints import Checkpoint, state_to_numpy
from .config import TrainConfig
from .datasets import DigitData, split_validation
from .distributed import Group
from .events import (
    EpochEnded,
    Evaluated,
    LoopEnded,
    Paused,
    RunFailed,
    RunFinished,
    RunStarted,
    StepsEnded,
    WeightsSnapshot,
)
from .inference import batched_logits, normalize, select_device
from .metrics import confidence_threshold, confusion_matrix, fit_temperature, max_aspect_ratio, misclassified
from .alphabets import DIGITS, DIGITS_AND_LETTERS, alphabets_of, case_insensitive_equal, class_indices, classes_of, reading_scores
from .models import MODELS, adapt_state, build_model, first_layer_kernels, is_joint, parameter_count, shared_first_layer, within_alphabet
from .recipe import epoch_order, input_stats, lr_factor, momentum_at, parameter_groups, set_momentum, training_loss

REPORT_INTERVAL_S = 0.05  # at most ~20 StepsEnded a second: cheap for any receiver
SNAPSHOTS_PER_EPOCH = 4  # kernel snapshots for the viewer's scrubber


class RunControl:
    """Thread-safe pause/resume/stop flags, checked by the loop between batches."""

    def __init__(self):
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    def abandon(self) -> None:
        """Stop within one batch and skip the final evaluation: nobody will use the result
        (the window is closing). The run then ends without RunFinished or a checkpoint."""
        self._abandon.set()
        self.stop()

    @property
    def abandoned(self) -> bool:
        return self._abandon.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        return self._running.wait(timeout)


def default_threads() -> int:
    """All cores but one, so the GUI thread always has a core of its own."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass
class _Split:
    images: torch.Tensor  # (n, s, s) uint8 on the device
    labels: torch.Tensor  # (n,) int64 on the device

    def __len__(self) -> int:
        return len(self.labels)


def take_rows(array: np.ndarray, rows: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``array[rows]``, copied a few MB at a time: one fancy-indexing copy of a whole training set
    holds the GIL for ~20 ms, which on a worker thread is a visible stall of the window."""
    out = np.empty((len(rows),) + array.shape[1:], array.dtype)
    for start in range(0, len(rows), chunk):
        out[start:start + chunk] = array[rows[start:start + chunk]]
    return out


UNSURE_KEEP = 0.99  # metrics.confidence_threshold's default
UNSURE_KEEP_WITH_OUTLIERS = 0.995


class Trainer:
    """Trains ``config.model`` on ``data``; iterate ``run()`` to drive it and receive events.

    Events
    ------
    RunStarted, then per throttled interval StepsEnded, per epoch EpochEnded and WeightsSnapshot,
    Paused on pause/resume, LoopEnded after the last batch, and finally Evaluated (val, test) and
    RunFinished, or RunFailed. Every batch's loss is in some StepsEnded before the EpochEnded of its
    epoch and before LoopEnded, so counts seen by a receiver never depend on the throttle's timing.
    """

    def __init__(
        self, config: TrainConfig, data: DigitData, control: RunControl | None = None, init_state=None,
        normalization: tuple[float, float] | None = None, group: Group | None = None,
    ):
        config.validate()
        self.config = config
        self.data = data
        self.control = control or RunControl()
        self.init_state = init_state  # fine-tuning starts from these weights
        # Fine-tuning keeps the base model's (mean, std): its weights were learnt on inputs scaled so.
        self.normalization = normalization
        self.device = select_device(config.device)
        # Several processes under torchrun: each trains on its share of every batch (distributed.py).
        self.group = group or Group.single()
        self.checkpoint: Checkpoint | None = None  # the best model, once the run has finished

    # --- set-up -----------------------------------------------------------------------------

    def _prepare_data(self) -> tuple[_Split, _Split, _Split]:
        cfg, data = self.config, self.data
        explicit_val = data.val_images is not None
        if explicit_val:  # the data brings its own (writer-disjoint) validation set: train on all the rest
            train_idx, val_idx = np.arange(len(data.train_labels)), np.arange(0)
        else:
            train_idx, val_idx = split_validation(len(data.train_labels), cfg.val_fraction, cfg.seed)
        if cfg.train_fraction < 1.0:
            keep = max(1, round(len(train_idx) * cfg.train_fraction))
            train_idx = np.random.default_rng(cfg.seed + 1).permutation(train_idx)[:keep]

        def split(images, labels):
            return _Split(
                torch.as_tensor(np.ascontiguousarray(images), device=self.device),
                torch.as_tensor(np.asarray(labels, np.int64), device=self.device),
            )

        train_images = take_rows(data.train_images, train_idx)
        self.has_outliers = bool((data.train_labels[train_idx] < 0).any())
        if self.normalization is not None:
            self.mean, self.std = (float(v) for v in self.normalization)
        else:
            self.mean, self.std = input_stats(cfg, train_images)
        if explicit_val:
            val = split(data.val_images, data.val_labels)
        else:
            val = split(take_rows(data.train_images, val_idx), data.train_labels[val_idx])
        return (
            split(train_images, data.train_labels[train_idx]),
            val,
            split(data.test_images, data.test_labels),
        )

    def _make_optimizer(self, model) -> torch.optim.Optimizer:
        cfg = self.config
        # No weight decay on biases and norm parameters: it only fights BatchNorm's scale.
        groups = parameter_groups(model, cfg)
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=cfg.lr)
        if cfg.optimizer in ("momentum", "nesterov"):
            return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.optimizer == "nesterov")
        if cfg.optimizer == "adam":
            return torch.optim.Adam(groups, lr=cfg.lr)
        if cfg.optimizer == "adamw":
            return torch.optim.AdamW(groups, lr=cfg.lr)
        return torch.optim.Adadelta(groups, lr=cfg.lr)

    def _make_schedule(self, optimizer, steps_per_epoch: int):
        cfg = self.config
        if cfg.schedule == "onecycle":
            total_steps = cfg.epochs * steps_per_epoch
            return torch.optim.lr_scheduler.OneCycleLR(
                optimizer,
                max_lr=cfg.lr,
                total_steps=total_steps,
                # torch divides by the warm-up's length: under ~1 step (a run of < 10 steps, such as
                # fine-tuning on 30 personal digits with a small replay) it raised ZeroDivisionError.
                pct_start=max(0.2, min(0.6, 2.0 / total_steps)),
                cycle_momentum=cfg.optimizer in ("momentum", "nesterov"),
            )
        if cfg.schedule == "step":  # stepped once per epoch, below
            return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=cfg.step_gamma)
        if cfg.schedule == "inverse-time":  # stepped every batch, like one-cycle
            return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(cfg, step))
        return None

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> Iterator[object]:
        try:
            yield from self._run()
        except Exception as error:  # noqa: BLE001 - reported as an event, the caller decides
            yield RunFailed(f"{type(error).__name__}: {error}")

    def _run(self) -> Iterator[object]:
        cfg = self.config
        threads = cfg.threads or default_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(threads)
        torch.manual_seed(cfg.seed)
        generator = torch.Generator(device=self.device).manual_seed(cfg.seed)

        train, val, test = self._prepare_data()
        size = train.images.shape[-1]
        model = build_model(cfg.model, input_size=size, **self._model_args()).to(self.device)
        if self.init_state is not None:
            state = adapt_state(model, {k: torch.as_tensor(v) for k, v in self.init_state.items()})
            model.load_state_dict(state)
        channels_last = self.device.type == "cpu"  # measured: ~25% faster convolutions on CPU
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        learner = self._wrap_distributed(model)  # what the batches go through; ``model`` is the bare module
        augment_generator = generator
        if self.group.active:  # one permutation for all ranks; each its own augmentation noise
            augment_generator = torch.Generator(device=self.device).manual_seed(cfg.seed + 1 + self.group.rank)
        batch_size = min(cfg.batch_size, len(train))
        steps_per_epoch = max(1, len(train) // batch_size)  # drop the ragged last batch (BatchNorm)
        optimizer = self._make_optimizer(model)
        schedule = self._make_schedule(optimizer, steps_per_epoch)
        total_steps = cfg.epochs * steps_per_epoch

        yield RunStarted(
            str(self.device), threads, len(train), len(val), len(test), cfg.epochs, steps_per_epoch, parameter_count(model)
        )
        yield self._snapshot(model, 0, 0)

        best = {"accuracy": -1.0, "epoch": 0, "state": state_to_numpy(model.state_dict())}
        step, epochs_done, train_time = 0, 0, 0.0
        losses: list[torch.Tensor] = []
        last_report = time.perf_counter()
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            epoch_start = time.perf_counter()
            epoch_loss = torch.zeros((), device=self.device)
            epoch_correct = torch.zeros((), device=self.device, dtype=torch.long)
            epoch_seen = torch.zeros((), device=self.device, dtype=torch.long)
            order = epoch_order(cfg, len(train), steps_per_epoch * batch_size, generator, self.device)
            snapshot_every = max(1, steps_per_epoch // SNAPSHOTS_PER_EPOCH)
            for batch in range(steps_per_epoch):
                if self.control.paused:
                    paused_at = time.perf_counter()
                    yield Paused(True)
                    self.control.wait_while_paused()
                    epoch_start += time.perf_counter() - paused_at  # paused time is not training time
                    yield Paused(False)
                if self.group.any(self._should_stop(step, train_time + time.perf_counter() - epoch_start), self.device):
                    break
                index = self.group.shard(order[batch * batch_size : (batch + 1) * batch_size])
                x = train.images[index].float().div_(255.0).unsqueeze(1)
                if cfg.augment:
                    x = augment_batch(x, elastic=cfg.elastic, generator=augment_generator)
                x = (x - self.mean) / self.std
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                y = train.labels[index]

                logits = learner(x)
                loss = self._loss(model, logits, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.momentum_warmup_steps and step <= cfg.momentum_warmup_steps:
                    set_momentum(optimizer, momentum_at(cfg, step))
                optimizer.step()
                if cfg.schedule in ("onecycle", "inverse-time"):
                    schedule.step()

                step += 1
                detached = loss.detach()
                losses.append(detached)
                epoch_loss += detached
                epoch_correct += (within_alphabet(model, logits.detach(), y).argmax(1) == y).sum()  # an outlier is never "correct"
                epoch_seen += (y >= 0).sum()  # outliers (-1) are not digits to be read; a tensor: no host sync
                now = time.perf_counter()
                if now - last_report >= REPORT_INTERVAL_S:
                    elapsed = train_time + now - epoch_start
                    rate = step * batch_size / max(elapsed, 1e-9)
                    yield self._steps_ended(epoch, step, losses, optimizer, rate, total_steps, batch_size)
                    losses, last_report = [], now
                if (batch + 1) % snapshot_every == 0:
                    yield self._snapshot(model, epoch, step)
            else:
                epochs_done = epoch
            train_time += time.perf_counter() - epoch_start
            if losses:  # the epoch's last batches, reported before its summary
                rate = step * batch_size / max(train_time, 1e-9)
                yield self._steps_ended(epoch, step, losses, optimizer, rate, total_steps, batch_size)
                losses, last_report = [], time.perf_counter()
            batches_run = max(1, step - (epoch - 1) * steps_per_epoch)
            if epochs_done == epoch:
                val_loss, val_acc = self._evaluate_loss_accuracy(model, val, channels_last) if self.group.is_main else (float("nan"),) * 2
                is_best = val_acc > best["accuracy"] or len(val) == 0
                if is_best:
                    best = {"accuracy": val_acc, "epoch": epoch, "state": state_to_numpy(model.state_dict())}
                yield EpochEnded(
                    epoch,
                    float(epoch_loss) / batches_run,
                    float(epoch_correct) / max(1, int(epoch_seen)),
                    val_loss,
                    val_acc,
                    optimizer.param_groups[0]["lr"],
                    train_time,
                    time.perf_counter() - epoch_start,
                    is_best,
                )
            if cfg.schedule == "step":
                schedule.step()
            if epochs_done != epoch or self.group.any(self._should_stop(step, train_time), self.device):
                break
        yield LoopEnded(step, epochs_done)

        if self.control.abandoned or not self.group.is_main:  # rank 0 alone evaluates and keeps the model
            return
        if best["epoch"] == 0:  # stopped inside the first epoch: the current weights are all we have
            best["state"] = state_to_numpy(model.state_dict())
        model.load_state_dict({k: torch.from_numpy(v) for k, v in best["state"].items()})
        yield from self._finish(model, val, test, best, epochs_done, train_time, channels_last)

    def _loss(self, model, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if is_joint(model):
            return model.head_loss(logits, labels, cfg.label_smoothing)
        if not self.has_outliers:
            return training_loss(cfg, logits, labels)
        # Outlier exposure: cross-entropy on the digits, plus the cross-entropy to the uniform
        # distribution (minus the mean log-probability) on the drawings that are not one digit, each
        # averaged over its own rows. Masks, not indexing: no host sync, and a batch of one kind works.
        digit = labels >= 0
        per_row = F.cross_entropy(logits, labels.clamp(min=0), reduction="none", label_smoothing=cfg.label_smoothing)
        digit_loss = (per_row * digit).sum() / digit.sum().clamp(min=1)
        uniform_per_row = -torch.log_softmax(logits.float(), dim=1).mean(dim=1)
        uniform_loss = (uniform_per_row * ~digit).sum() / (~digit).sum().clamp(min=1)
        return digit_loss + cfg.outlier_weight * uniform_loss

    def _model_args(self) -> dict:
        """The configured model's arguments, with the output classes the data names."""
        cfg, classes = self.config, tuple(self.data.classes)
        args = dict(cfg.model_args)
        if cfg.model == "digitpad-joint":
            if classes != DIGITS_AND_LETTERS:
                raise ValueError(f"the joint model reads digits and letters; dataset {cfg.dataset!r} has "
                                 f"{len(classes)} classes (train it on digits+letters)")
        elif classes != DIGITS:
            if "num_classes" not in inspect.signature(MODELS[cfg.model].factory).parameters:
                raise ValueError(f"model {cfg.model!r} reads the ten digits only; {cfg.dataset!r} has "
                                 f"{len(classes)} classes (use the digitpad model)")
            args["num_classes"] = len(classes)
        return args

    def _snapshot(self, model: torch.nn.Module, epoch: int, step: int) -> WeightsSnapshot:
        """The first layer's kernels for the viewer, and the whole model as it is now (a few MB of
        copies, four times an epoch) so a learner can re-read their drawing with it."""
        meta = {"dataset": self.config.dataset, "normalization": [self.mean, self.std], "snapshot": [epoch, step],
                **self._class_meta(model)}
        checkpoint = Checkpoint.from_model(model, meta)
        checkpoint.state = {k: np.ascontiguousarray(v) for k, v in checkpoint.state.items()}
        return WeightsSnapshot(epoch, step, first_layer_kernels(model).numpy(), checkpoint)

    def _wrap_distributed(self, model: torch.nn.Module) -> torch.nn.Module:
        if not self.group.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def _should_stop(self, steps_done: int, train_seconds: float) -> bool:
        """Stop, or a budget spent: ``max_steps`` optimizer steps or ``max_minutes`` of training."""
        cfg = self.config
        return (
            self.control.stopped
            or (cfg.max_steps > 0 and steps_done >= cfg.max_steps)
            or (cfg.max_minutes > 0 and train_seconds >= cfg.max_minutes * 60)
        )

    @staticmethod
    def _steps_ended(epoch, step, losses, optimizer, rate, total_steps, batch_size) -> StepsEnded:
        # .cpu() is a device sync point: once per report, not per batch.
        eta = (total_steps - step) * batch_size / rate if rate else 0.0
        losses = torch.stack(losses).float().cpu().numpy()
        return StepsEnded(epoch, step, losses, optimizer.param_groups[0]["lr"], rate, eta, step / total_steps)

    # --- evaluation and the final checkpoint ------------------------------------------------

    def _logits(self, model, split: _Split, channels_last: bool) -> torch.Tensor:
        del channels_last  # eval batches are large; the default layout is fine there
        return batched_logits(model, split.images, self.mean, self.std)

    def _evaluate_loss_accuracy(self, model, split: _Split, channels_last: bool) -> tuple[float, float]:
        if len(split) == 0:
            return float("nan"), float("nan")
        logits = within_alphabet(model, self._logits(model, split, channels_last), split.labels)
        loss = float(F.cross_entropy(logits, split.labels))
        return loss, float((logits.argmax(1) == split.labels).float().mean())

    def _evaluated(self, name: str, logits: torch.Tensor, split: _Split, temperature: float) -> Evaluated:
        probs = torch.softmax(logits.float() / temperature, 1).cpu().numpy()
        labels = split.labels.cpu().numpy()
        wrong = misclassified(labels, probs)
        return Evaluated(
            name,
            float((probs.argmax(1) == labels).mean()) if len(labels) else float("nan"),
            float(F.cross_entropy(logits.float(), split.labels)) if len(labels) else float("nan"),
            confusion_matrix(labels, probs.argmax(1), len(self.data.classes)),
            wrong,
            probs[wrong].astype(np.float32),
        )

    def _class_meta(self, model) -> dict:
        classes = tuple(self.data.classes)
        if classes == DIGITS:
            return {}
        return {"classes": list(classes), "alphabets": list(alphabets_of(classes)),
                "shared_first_layer": shared_first_layer(model) is not None}

    def _alphabet_calibration(self, model, val: _Split, test: _Split, channels_last: bool) -> dict:
        """For a model of several alphabets: a temperature and an unsure threshold per alphabet, each
        fitted on that alphabet's validation examples as the pad reads them (letters case-merged),
        and each alphabet's test accuracy (letters also case-insensitive)."""
        classes = tuple(self.data.classes)
        if alphabets_of(classes) in ((), ("digits",)) or not len(val):
            return {}
        val_logits, test_logits = self._logits(model, val, channels_last).cpu(), self._logits(model, test, channels_last).cpu()
        calibration, metrics = {}, {}
        for alphabet in alphabets_of(classes):
            columns = torch.from_numpy(class_indices(classes, alphabet))
            temperature, threshold = 1.0, 0.5
            for split, logits, name in ((val, val_logits, "val"), (test, test_logits, "test")):
                labels = split.labels.cpu()
                rows = torch.isin(labels, columns)
                if not rows.any():
                    continue
                # Within the alphabet: class k of the model is position ``where[k]`` of its columns.
                where = torch.full((len(classes),), -1, dtype=torch.long)
                where[columns] = torch.arange(len(columns))
                sub_logits, sub_labels = logits[rows][:, columns].float(), where[labels[rows]]
                if name == "val":
                    temperature = fit_temperature(sub_logits, sub_labels)
                probs = torch.softmax(sub_logits / temperature, 1).numpy()
                scores, correct = reading_scores(classes_of(alphabet), probs, sub_labels.numpy())
                if name == "val":
                    threshold = confidence_threshold(scores, correct)
                    calibration[alphabet] = {"temperature": temperature, "threshold": threshold}
                else:
                    predicted = [classes_of(alphabet)[i] for i in probs.argmax(1)]
                    truth = [classes_of(alphabet)[i] for i in sub_labels.numpy()]
                    metrics[f"test_{alphabet}_accuracy"] = float(np.mean([p == t for p, t in zip(predicted, truth)]))
                    if alphabet != "digits":
                        metrics[f"test_{alphabet}_case_insensitive"] = float(case_insensitive_equal(truth, predicted).mean())
        return {"calibration": calibration, "alphabet_metrics": metrics}

    def _unsure_keep(self) -> float:
        """The share of correctly read validation digits the unsure threshold keeps above it. Trained
        with outliers, non-digits score far lower, so the threshold can keep 99.5% (pen validation
        writers: 0.9% unsure, half the 2% target, room for writers unlike them) and still flag them."""
        return UNSURE_KEEP_WITH_OUTLIERS if self.has_outliers else UNSURE_KEEP

    def _digit_images(self) -> np.ndarray:
        """The training images of real classes: two digits side by side must not widen the aspect limit."""
        labels = self.data.train_labels
        return self.data.train_images if not (labels < 0).any() else self.data.train_images[labels >= 0]

    def _finish(self, model, val, test, best, epochs_done, train_time, channels_last) -> Iterator[object]:
        cfg = self.config
        temperature, threshold = 1.0, 0.5
        val_eval = None
        if len(val):
            val_logits = within_alphabet(model, self._logits(model, val, channels_last), val.labels)
            temperature = fit_temperature(val_logits.cpu(), val.labels.cpu())
            val_eval = self._evaluated("val", val_logits, val, temperature)
            probs = torch.softmax(val_logits.float().cpu() / temperature, 1)
            correct = (probs.argmax(1) == val.labels.cpu()).numpy()
            threshold = confidence_threshold(probs.max(1).values.numpy(), correct, self._unsure_keep())
            yield val_eval
        test_eval = None
        if len(test):
            test_logits = self._logits(model, test, channels_last)
            test_eval = self._evaluated("test", within_alphabet(model, test_logits, test.labels), test, temperature)
            yield test_eval

        model = model.to(memory_format=torch.contiguous_format)
        self.checkpoint = Checkpoint.from_model(
            model,
            {
                "dataset": cfg.dataset,
                "normalization": [self.mean, self.std],
                "preprocess_version": preprocess.PREPROCESS_VERSION,
                "temperature": temperature,
                "threshold": threshold,
                "max_aspect": max_aspect_ratio(self._digit_images()),
                "unsure_keep": self._unsure_keep(),
                **self._class_meta(model),
                **self._alphabet_calibration(model, val, test, channels_last),
                "metrics": {
                    "val_accuracy": val_eval.accuracy if val_eval else None,
                    "test_accuracy": test_eval.accuracy if test_eval else None,
                    "best_epoch": best["epoch"],
                    "epochs_done": epochs_done,
                    "train_seconds": round(train_time, 1),
                    "device": str(self.device),
                    "processes": self.group.world_size,
                },
                "config": cfg.to_dict(),
                "digitpad_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
        yield RunFinished(
            stopped=epochs_done < cfg.epochs,
            epochs_done=epochs_done,
            best_epoch=best["epoch"],
            best_val_accuracy=best["accuracy"],
            test_accuracy=test_eval.accuracy if test_eval else None,
            elapsed_s=train_time,
            state=self.checkpoint.state,
            checkpoint=self.checkpoint,
        )


def train_to_end(config: TrainConfig, data: DigitData, control: RunControl | None = None) -> tuple[Trainer, list]:
    """Run a whole training and return the trainer (with ``checkpoint``) and all events: for scripts and tests."""
    trainer = Trainer(config, data, control)
    events = list(trainer.run())
    return trainer, events


__all__ = ["RunControl", "Trainer", "train_to_end", "default_threads", "normalize"]
