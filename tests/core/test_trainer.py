"""The training loop: it learns, reports throttled events, pauses, stops, and picks the best epoch."""

import threading

import numpy as np
import pytest
import torch

from digitpad.core.augment import augment_batch
from digitpad.core.config import TrainConfig
from digitpad.core.datasets import DigitData
from digitpad.core.events import EpochEnded, Evaluated, LoopEnded, Paused, RunFailed, RunFinished, RunStarted, StepsEnded, WeightsSnapshot
from digitpad.core.inference import Predictor
from digitpad.core.trainer import RunControl, Trainer


def events_of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_short_run_lowers_the_loss_and_learns(tiny_digits, tiny_config):
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 6})
    trainer = Trainer(config, tiny_digits)
    events = list(trainer.run())
    assert not events_of(events, RunFailed), events_of(events, RunFailed)
    assert isinstance(events[0], RunStarted)
    losses = np.concatenate([e.losses for e in events_of(events, StepsEnded)])
    assert len(losses) == config.epochs * events[0].steps_per_epoch
    assert losses[-10:].mean() < 0.7 * losses[:10].mean()
    epochs = events_of(events, EpochEnded)
    assert [e.epoch for e in epochs] == list(range(1, 7))
    finished = events_of(events, RunFinished)[-1]
    assert not finished.stopped and finished.test_accuracy > 0.5  # chance is 0.1
    splits = [e.split for e in events_of(events, Evaluated)]
    assert splits == ["val", "test"]


def test_best_epoch_is_the_one_kept(tiny_digits, tiny_config):
    trainer = Trainer(tiny_config, tiny_digits)
    events = list(trainer.run())
    epochs = events_of(events, EpochEnded)
    best = max(epochs, key=lambda e: e.val_accuracy)
    finished = events_of(events, RunFinished)[-1]
    assert finished.best_epoch == best.epoch
    assert finished.best_val_accuracy == pytest.approx(best.val_accuracy)
    # The checkpoint holds the best epoch's weights: re-evaluating gives the same validation accuracy.
    val = events_of(events, Evaluated)[0]
    assert val.accuracy == pytest.approx(best.val_accuracy)


def test_checkpoint_has_calibration_and_normalization(tiny_digits, tiny_config):
    trainer = Trainer(tiny_config, tiny_digits)
    list(trainer.run())
    meta = trainer.checkpoint.meta
    mean, std = meta["normalization"]
    assert 0 < mean < 1 and 0 < std < 1
    assert 0.05 <= meta["temperature"] <= 20
    assert 0 < meta["threshold"] < 1
    assert meta["config"]["model"] == "digitpad"
    probs = Predictor(trainer.checkpoint).probabilities(tiny_digits.test_images[0] / 255.0)
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-5


def test_stop_from_another_thread_takes_effect_within_a_batch(tiny_digits, tiny_config):
    control = RunControl()
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 50})
    trainer = Trainer(config, tiny_digits, control)
    steps_after_stop = []
    stop_step = None
    for event in trainer.run():
        if isinstance(event, StepsEnded):
            if stop_step is None and event.step >= 3:
                stop_step = event.step
                stopper = threading.Thread(target=control.stop)
                stopper.start()
                stopper.join()  # the loop is suspended here: the stop lands before the next batch
            elif stop_step is not None:
                steps_after_stop.append(event.step)
    finished = trainer.checkpoint.meta["metrics"]
    assert finished["epochs_done"] < 50
    assert steps_after_stop == []  # the losses up to the stop were all reported already
    assert trainer.checkpoint is not None  # stop keeps the best model so far


def test_pause_blocks_progress_until_resume(tiny_digits, tiny_config):
    control = RunControl()
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 3})
    trainer = Trainer(config, tiny_digits, control)
    run = trainer.run()
    for event in run:
        if isinstance(event, StepsEnded):
            break
    control.pause()
    step_at_pause = event.step
    before_pause = []
    for event in run:  # at most the rest of the current batch's reports arrive first
        if event == Paused(True):
            break
        before_pause.append(event)
    assert not [e for e in before_pause if isinstance(e, StepsEnded)]
    resumed = threading.Timer(0.2, control.resume)
    resumed.start()
    event = next(run)  # blocks until resumed
    assert event == Paused(False)
    rest = list(run)
    steps = [e.step for e in rest if isinstance(e, StepsEnded)]
    assert steps and min(steps) > step_at_pause
    assert events_of(rest, RunFinished)


def test_kernel_snapshots_change_during_training(tiny_digits, tiny_config):
    events = list(Trainer(tiny_config, tiny_digits).run())
    snapshots = events_of(events, WeightsSnapshot)
    assert snapshots[0].kernels.shape == (8, 5, 5)
    assert len(snapshots) >= 1 + tiny_config.epochs
    assert not np.allclose(snapshots[0].kernels, snapshots[-1].kernels)


def test_same_seed_same_result(tiny_digits, tiny_config):
    def final_loss():
        events = list(Trainer(tiny_config, tiny_digits).run())
        return events_of(events, EpochEnded)[-1].train_loss

    assert final_loss() == pytest.approx(final_loss(), rel=1e-5)


def test_bad_config_is_refused(tiny_digits):
    with pytest.raises(ValueError, match="unknown optimizer"):
        Trainer(TrainConfig(optimizer="magic"), tiny_digits)


def test_absent_cuda_is_a_clear_error(tiny_digits, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA"):
        Trainer(TrainConfig(device="cuda"), tiny_digits)


def test_augmentation_keeps_shape_range_and_ink():
    images = torch.zeros(4, 1, 28, 28)
    images[:, :, 8:20, 12:16] = 1.0
    out = augment_batch(images, generator=torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    assert out.min() >= 0 and out.max() <= 1
    ink = out.sum(dim=(1, 2, 3)) / images.sum(dim=(1, 2, 3))
    assert ((ink > 0.7) & (ink < 1.4)).all()
    assert not torch.allclose(out[0], out[1])  # each sample gets its own warp


def test_abandon_ends_without_final_evaluation_or_checkpoint(tiny_digits, tiny_config):
    control = RunControl()
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 50})
    trainer = Trainer(config, tiny_digits, control)
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, StepsEnded):
            control.abandon()
    assert not events_of(events, Evaluated) and not events_of(events, RunFinished)
    assert trainer.checkpoint is None and control.stopped


def test_wide_drawings_are_not_confident(tiny_digits, tiny_config):
    from digitpad.core.metrics import ink_aspect_ratios

    trainer = Trainer(tiny_config, tiny_digits)
    list(trainer.run())
    assert 0.3 < trainer.checkpoint.meta["max_aspect"] < 3.0
    predictor = Predictor(trainer.checkpoint)
    wide = np.zeros((28, 28), np.float32)
    wide[12:16, 2:26] = 1.0  # a dash: 24 wide, 4 high
    assert ink_aspect_ratios((wide[None] * 255).astype(np.uint8))[0] == 6.0
    assert not predictor.plausible_shape(wide)
    ratios = ink_aspect_ratios(tiny_digits.train_images)
    typical = tiny_digits.train_images[np.argsort(ratios)[len(ratios) // 2]]
    assert predictor.plausible_shape(typical / 255.0)


@pytest.mark.parametrize("max_steps", [5, 11, 16])  # inside an epoch, on its boundary, in the next one
def test_step_budget_runs_exactly_that_many_steps(tiny_digits, tiny_config, max_steps):
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 50, "max_steps": max_steps})
    events = list(Trainer(config, tiny_digits).run())
    per_epoch = events[0].steps_per_epoch
    assert per_epoch == 11  # 367 training digits (400 less the validation share) in batches of 32
    losses = np.concatenate([e.losses for e in events_of(events, StepsEnded)])
    assert len(losses) == max_steps
    assert events_of(events, LoopEnded) == [LoopEnded(max_steps, max_steps // per_epoch)]
    assert [e.epoch for e in events_of(events, EpochEnded)] == list(range(1, max_steps // per_epoch + 1))
    finished = events_of(events, RunFinished)[-1]
    assert finished.stopped and finished.epochs_done == max_steps // per_epoch


def test_every_epochs_losses_are_reported_before_it_ends(tiny_digits, tiny_config):
    events = list(Trainer(tiny_config, tiny_digits).run())
    reported = 0
    for event in events:
        if isinstance(event, StepsEnded):
            reported = event.step
            assert len(event.losses) > 0
        elif isinstance(event, EpochEnded):
            assert reported == event.epoch * events[0].steps_per_epoch
        elif isinstance(event, LoopEnded):
            assert event.step == reported == tiny_config.epochs * events[0].steps_per_epoch


def test_negative_budget_is_refused(tiny_digits):
    with pytest.raises(ValueError, match="max_steps"):
        Trainer(TrainConfig(max_steps=-1), tiny_digits)


def test_take_rows_copies_exactly_what_fancy_indexing_would():
    from digitpad.core.trainer import take_rows

    images = np.arange(10 * 3 * 2, dtype=np.uint8).reshape(10, 3, 2)
    rows = np.array([9, 0, 4, 4, 7])
    for chunk in (1, 2, 5, 100):
        np.testing.assert_array_equal(take_rows(images, rows, chunk), images[rows])
    assert take_rows(images, np.arange(0), 2).shape == (0, 3, 2)


def test_a_one_cycle_run_of_a_few_steps_trains(tiny_digits, tiny_config):
    """torch's one-cycle schedule divided by zero for runs under 10 steps (found fine-tuning on 30
    personal digits with a small replay); every length must train."""
    for rows in (32, 64, 96, 160, 320):
        data = DigitData("mnist", tiny_digits.train_images[:rows], tiny_digits.train_labels[:rows],
                         tiny_digits.test_images[:20], tiny_digits.test_labels[:20],
                         val_images=tiny_digits.test_images[:20], val_labels=tiny_digits.test_labels[:20])
        config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 1})
        events = list(Trainer(config, data).run())
        assert isinstance(events[-1], RunFinished), events[-1]
