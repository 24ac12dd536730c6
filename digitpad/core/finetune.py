"""Fine-tuning a model on the user's personal digits, without letting it forget its base data set.

A short run of the ordinary ``Trainer``, started from the base checkpoint's weights and kept on its
normalisation, on a mix of the personal digits (repeated so that they make up ``personal_share``
of what the model sees; each repeat is a fresh random warp when ``augment`` is on) and a replay
sample of the base training set, at a low learning rate. Accuracy on the personal set and on the
base test set is measured before and after with the pad's own evaluation path.

``Finetuner(...).run()`` yields the Trainer's events (``RunStarted``, ``StepsEnded``, ``EpochEnded``,
``WeightsSnapshot``, ``Paused``, ``RunFinished`` or ``RunFailed``) framed by ``FinetuneMeasured``
("before", "after") and a closing ``FinetuneFinished`` holding the ``FinetuneResult`` (both in
``core.events``, re-exported here), so a UI worker that drives ``Trainer.run()`` on a thread can
drive it unchanged. ``finetune(...)`` runs it
to the end. Nothing here imports Qt.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from .checkpoints import Checkpoint
from .config import TrainConfig
from .datasets import DigitData, split_validation
from .evaluation import evaluate_checkpoint
from .events import FinetuneFinished, FinetuneMeasured, RunFailed, RunFinished
from .inference import batched_logits, select_device
from .metrics import confidence_threshold, fit_temperature
from .pen import MNIST_VAL_FRACTION
from .trainer import RunControl, Trainer, default_threads

__all__ = [
    "FinetuneConfig",
    "FinetuneFinished",
    "FinetuneMeasured",
    "FinetuneResult",
    "Finetuner",
    "finetune",
    "mix_personal_and_replay",
    "train_config",
]

CALIBRATION_DIGITS = 2000  # held-out base digits to refit the temperature and the confidence threshold on


@dataclass
class FinetuneConfig:
    """A short, gentle run; about a minute on one CPU thread with 100 personal digits.

    Chosen with benchmarks/personal_finetune.py on the shipped model (narrow-slanted writer, 3 draws):
    personal_share 0.25 -> 0.5 took the errors removed from 50% to 55-66%; augmentation off: 31%;
    4 epochs rather than 3: 57% (min 55%) vs 55% (min 53%), MNIST drop 0.10 vs 0.12 points;
    8000 replayed digits instead of 5000 did not lower the MNIST drop (0.13).
    """

    epochs: int = 4
    lr: float = 0.01  # peak of the one-cycle schedule: a tenth of the base training's
    replay: int = 5000  # base training digits mixed in, so the model does not forget them
    personal_share: float = 0.5  # fraction of the training examples that are personal (oversampled)
    batch_size: int = 64
    augment: bool = True  # random affine warps: ten copies of a digit become ten variants of it
    optimizer: str = "nesterov"
    schedule: str = "onecycle"
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # torch CPU threads; 0 = all cores but one
    base_eval_limit: int = 0  # measure base accuracy on this many test digits (seeded); 0 = all
    max_minutes: float = 0.0  # stop training after this long (0: no limit)

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs and batch size must be at least 1 and the learning rate positive")
        if self.replay < 0 or self.base_eval_limit < 0:
            raise ValueError("replay and base_eval_limit must not be negative")
        if not 0.0 < self.personal_share <= 1.0:
            raise ValueError(f"personal_share must be in (0, 1], got {self.personal_share}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class FinetuneResult:
    checkpoint: Checkpoint  # the fine-tuned model, ready for save_checkpoint / Predictor
    personal_before: float  # accuracy on the personal digits (the ones trained on) before ...
    personal_after: float  # ... and after
    base_before: float  # accuracy on the base test set (MNIST) before ...
    base_after: float  # ... and after
    heldout_before: float | None  # on the personal data's test part, when it has one (benchmarks)
    heldout_after: float | None
    personal_count: int
    base_test_count: int
    replay_count: int
    epochs_done: int
    stopped: bool  # the user stopped it before the last epoch
    seconds: float  # the whole run, measurements included

    @property
    def base_drop_points(self) -> float:
        """How many percentage points of base test accuracy were lost (negative: gained)."""
        return (self.base_before - self.base_after) * 100

    def to_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "checkpoint"}
        data["base_drop_points"] = self.base_drop_points
        return data


def _as_digit_data(personal) -> DigitData:
    if hasattr(personal, "as_digit_data"):  # a PersonalStore
        return personal.as_digit_data()
    return personal


def _base_val_indices(checkpoint: Checkpoint, n: int) -> np.ndarray:
    """The base training set's digits that the base model held out for validation, when the
    checkpoint says how it split (they are kept out of the replay and used for calibration)."""
    config = checkpoint.meta.get("config") or {}
    if checkpoint.meta.get("dataset") == "mnist+pen":  # its MNIST part is always split as a plain default run
        config = {"val_fraction": MNIST_VAL_FRACTION, "seed": 0}
    try:
        fraction, seed = float(config["val_fraction"]), int(config["seed"])
        _, val = split_validation(n, fraction, seed)
    except (KeyError, TypeError, ValueError):
        return np.zeros(0, np.int64)
    return val


def mix_personal_and_replay(
    personal: DigitData, base: DigitData, config: FinetuneConfig, exclude: np.ndarray | None = None
) -> tuple[DigitData, int, int]:
    """(mixed training data, personal repeats, replay count): every personal digit ``repeats``
    times plus a seeded sample of ``config.replay`` base training digits (not in ``exclude``)."""
    n_personal = len(personal.train_labels)
    if n_personal == 0:
        raise ValueError("the personal digit set is empty: there is nothing to fine-tune on")
    if personal.train_images.shape[1:] != base.train_images.shape[1:]:
        raise ValueError(
            f"personal digits are {personal.train_images.shape[1]}px but the base data set's are "
            f"{base.train_images.shape[1]}px"
        )
    rng = np.random.default_rng(config.seed)
    pool = np.arange(len(base.train_labels))
    if exclude is not None and len(exclude):
        pool = np.setdiff1d(pool, exclude)
    replay = np.sort(rng.permutation(pool)[: min(config.replay, len(pool))])
    share = config.personal_share
    repeats = 1 if share >= 1 or len(replay) == 0 else max(1, round(share / (1 - share) * len(replay) / n_personal))
    images = np.concatenate([np.tile(personal.train_images, (repeats, 1, 1)), base.train_images[replay]])
    labels = np.concatenate([np.tile(personal.train_labels, repeats), base.train_labels[replay]]).astype(np.int64)
    empty = np.zeros((0, *images.shape[1:]), np.uint8)
    mixed = DigitData(f"personal+{base.name}", images, labels, empty, np.zeros(0, np.int64))
    return mixed, repeats, len(replay)


def train_config(checkpoint: Checkpoint, config: FinetuneConfig) -> TrainConfig:
    """The ``TrainConfig`` of the training run inside a fine-tune of ``checkpoint`` with ``config``:
    the base model's architecture and input spec, ``config``'s recipe."""
    cfg, base_cfg = config, checkpoint.meta.get("config") or {}
    return TrainConfig(
        dataset=str(checkpoint.meta.get("dataset", "mnist")),  # the input spec stays the base's
        model=checkpoint.arch,
        model_args={k: v for k, v in checkpoint.arch_args.items() if k != "input_size"},
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        optimizer=cfg.optimizer,
        lr=cfg.lr,
        momentum=float(base_cfg.get("momentum", 0.9)),
        weight_decay=float(base_cfg.get("weight_decay", 5e-4)),
        schedule=cfg.schedule,
        label_smoothing=float(base_cfg.get("label_smoothing", 0.1)),
        augment=cfg.augment,
        elastic=False,
        val_fraction=0.0,  # repeated personal digits would leak into any split of the mix
        seed=cfg.seed,
        device=cfg.device,
        threads=cfg.threads,
        max_minutes=cfg.max_minutes,
    )


class Finetuner:
    """Fine-tunes ``checkpoint`` on ``personal`` (a ``PersonalStore`` or a ``DigitData`` whose train
    part is the personal digits; a non-empty test part is reported as held-out accuracy) with replay
    from ``base`` (the base model's data set, normally MNIST). Iterate ``run()``; afterwards
    ``result`` (and ``checkpoint``) hold the outcome. Stop and pause through ``control``."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        personal,
        base: DigitData,
        config: FinetuneConfig | None = None,
        control: RunControl | None = None,
    ):
        self.config = config or FinetuneConfig()
        self.config.validate()
        self.base_checkpoint = checkpoint
        self.personal = _as_digit_data(personal)
        self.base = base
        self.control = control or RunControl()
        self.device = select_device(self.config.device)
        self.result: FinetuneResult | None = None
        self.trainer: Trainer | None = None
        if checkpoint.alphabets != ("digits",):
            raise ValueError(f"this model reads {' and '.join(checkpoint.alphabets)}; personal digits fine-tune a "
                             "digits-only model (the shipped default or one trained on digits)")
        size = checkpoint.input_size
        if self.personal.train_images.ndim != 3 or self.personal.train_images.shape[1:] != (size, size):
            raise ValueError(
                f"this model reads {size}x{size} digits but the personal digits are "
                f"{'x'.join(map(str, self.personal.train_images.shape[1:]))}: fine-tune a 28x28 (MNIST) model"
            )
        if len(self.personal.train_labels) == 0:
            raise ValueError("the personal digit set is empty: there is nothing to fine-tune on")
        rng = np.random.default_rng(self.config.seed)
        n_test = len(base.test_labels)
        limit = self.config.base_eval_limit
        self._base_test = np.sort(rng.permutation(n_test)[:limit]) if 0 < limit < n_test else np.arange(n_test)
        self._train_config().validate()  # a bad optimizer or schedule fails now, not after measuring

    @property
    def checkpoint(self) -> Checkpoint | None:
        """The fine-tuned model once the run has finished (the same shape as ``Trainer.checkpoint``)."""
        return self.result.checkpoint if self.result else None

    def run(self) -> Iterator[object]:
        try:
            yield from self._run()
        except Exception as error:  # noqa: BLE001 - reported as an event, as the Trainer does
            yield RunFailed(f"{type(error).__name__}: {error}")

    # --- the run ------------------------------------------------------------------------------
    def _measure(self, stage: str, checkpoint: Checkpoint) -> FinetuneMeasured:
        device = str(self.device)
        personal = evaluate_checkpoint(checkpoint, self.personal.train_images, self.personal.train_labels, device)
        base = evaluate_checkpoint(
            checkpoint, self.base.test_images[self._base_test], self.base.test_labels[self._base_test], device
        )
        heldout = None
        if len(self.personal.test_labels):
            heldout = evaluate_checkpoint(
                checkpoint, self.personal.test_images, self.personal.test_labels, device
            ).accuracy
        return FinetuneMeasured(stage, personal.accuracy, base.accuracy, heldout, len(personal.labels), len(base.labels))

    def _train_config(self) -> TrainConfig:
        return train_config(self.base_checkpoint, self.config)

    def _run(self) -> Iterator[object]:
        started = time.perf_counter()
        if self.device.type == "cpu":  # the Trainer does the same; measuring should not take every core either
            torch.set_num_threads(self.config.threads or default_threads())
        before = self._measure("before", self.base_checkpoint)
        yield before
        if self.control.stopped:
            return
        calibration = _base_val_indices(self.base_checkpoint, len(self.base.train_labels))
        mixed, repeats, replay_count = mix_personal_and_replay(self.personal, self.base, self.config, calibration)
        self.trainer = Trainer(
            self._train_config(),
            mixed,
            self.control,
            init_state=self.base_checkpoint.state,
            normalization=self.base_checkpoint.normalization,
        )
        finished: RunFinished | None = None
        for event in self.trainer.run():
            yield event
            if isinstance(event, RunFailed):
                return
            if isinstance(event, RunFinished):
                finished = event
        checkpoint = self.trainer.checkpoint
        if checkpoint is None or finished is None:
            yield RunFailed("fine-tuning ended without a model")
            return
        self._calibrate(checkpoint, calibration)
        after = self._measure("after", checkpoint)
        self._describe(checkpoint, before, after, repeats, replay_count, finished)
        yield after
        self.result = FinetuneResult(
            checkpoint=checkpoint,
            personal_before=before.personal_accuracy,
            personal_after=after.personal_accuracy,
            base_before=before.base_accuracy,
            base_after=after.base_accuracy,
            heldout_before=before.heldout_accuracy,
            heldout_after=after.heldout_accuracy,
            personal_count=len(self.personal.train_labels),
            base_test_count=before.base_count,
            replay_count=replay_count,
            epochs_done=finished.epochs_done,
            stopped=finished.stopped,
            seconds=time.perf_counter() - started,
        )
        yield FinetuneFinished(self.result)

    def _calibrate(self, checkpoint: Checkpoint, calibration: np.ndarray) -> None:
        """Refit temperature and confidence threshold on base digits the base model never trained on;
        without them (a checkpoint that does not say how it split), keep the base model's."""
        base_meta = self.base_checkpoint.meta
        checkpoint.meta["temperature"] = base_meta.get("temperature", 1.0)
        checkpoint.meta["threshold"] = base_meta.get("threshold", 0.5)
        if len(calibration) < 100:
            return
        rng = np.random.default_rng(self.config.seed + 2)
        chosen = np.sort(rng.permutation(calibration)[:CALIBRATION_DIGITS])
        model = checkpoint.build_model().to(self.device)
        images = torch.from_numpy(np.ascontiguousarray(self.base.train_images[chosen])).to(self.device)
        labels = torch.from_numpy(self.base.train_labels[chosen].astype(np.int64))
        logits = batched_logits(model, images, *checkpoint.normalization).float().cpu()
        temperature = fit_temperature(logits, labels)
        probs = torch.softmax(logits / temperature, 1)
        correct = (probs.argmax(1) == labels).numpy()
        checkpoint.meta["temperature"] = temperature
        checkpoint.meta["threshold"] = confidence_threshold(probs.max(1).values.numpy(), correct)

    def _describe(self, checkpoint, before, after, repeats, replay_count, finished: RunFinished) -> None:
        base_meta = self.base_checkpoint.meta
        base_name = base_meta.get("name") or self.base_checkpoint.arch
        meta = checkpoint.meta
        meta["name"] = f"{base_name} + my digits"
        metrics = dict(meta.get("metrics") or {})
        full_test = before.base_count == len(self.base.test_labels)
        metrics["test_accuracy"] = after.base_accuracy if full_test else None
        metrics["val_accuracy"] = None
        meta["metrics"] = metrics
        counts = np.bincount(self.personal.train_labels, minlength=10)
        meta["finetune"] = {
            "base_model": base_name,
            "base_dataset": self.base.name,
            "personal_digits": int(len(self.personal.train_labels)),
            "personal_counts": [int(c) for c in counts],
            "personal_repeats": int(repeats),
            "replay_digits": int(replay_count),
            "personal_accuracy_before": before.personal_accuracy,
            "personal_accuracy_after": after.personal_accuracy,
            "base_test_accuracy_before": before.base_accuracy,
            "base_test_accuracy_after": after.base_accuracy,
            "base_test_digits": before.base_count,
            "epochs_done": finished.epochs_done,
            "config": self.config.to_dict(),
        }


def finetune(
    checkpoint: Checkpoint,
    personal,
    base: DigitData,
    config: FinetuneConfig | None = None,
    control: RunControl | None = None,
    on_event=None,
    **overrides,
) -> FinetuneResult:
    """Run a whole fine-tuning and return its result; ``overrides`` replace ``FinetuneConfig``
    fields (``finetune(ckpt, store, mnist, epochs=2)``). ``on_event(event)`` sees every event.
    Raises ``RuntimeError`` if the run failed, or was stopped before training began."""
    config = dataclasses.replace(config or FinetuneConfig(), **overrides)
    runner = Finetuner(checkpoint, personal, base, config, control)
    for event in runner.run():
        if on_event is not None:
            on_event(event)
        if isinstance(event, RunFailed):
            raise RuntimeError(f"fine-tuning failed: {event.message}")
    if runner.result is None:
        raise RuntimeError("fine-tuning was stopped before it began")
    return runner.result
