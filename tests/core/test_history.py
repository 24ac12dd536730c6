"""The curves' numbers, Qt-free: growing buffers, the smoothed loss, a run's history and its CSV."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from digitpad.core.events import EpochEnded, Evaluated, Paused, RunStarted, StepsEnded
from digitpad.core.history import EPOCH_COLUMNS, SMOOTHING, GrowingColumns, RunHistory, ema, export_csv


def test_growing_columns_double_and_keep_every_row():
    columns = GrowingColumns(2, capacity=4)
    for i in range(10):
        columns.append([i, 10 * i])
    columns.append(np.array([[10, 100], [11, 110]]))
    assert len(columns) == 12 and len(columns._data) >= 12
    np.testing.assert_array_equal(columns.column(0), np.arange(12))
    np.testing.assert_array_equal(columns.rows()[:, 1], 10 * np.arange(12))
    columns.clear()
    assert len(columns) == 0 and columns.rows().shape == (0, 2)


def test_ema_is_debiased_continues_and_skips_non_finite_values():
    values = np.array([2.0, 4.0, np.nan, 6.0])
    whole, state = ema(values, 0.9)
    assert whole[0] == pytest.approx(2.0)  # debiased: the first value is itself, not 0.1 of it
    assert whole[2] == whole[1]  # NaN repeats the average so far
    first, middle = ema(values[:2], 0.9)
    rest, state2 = ema(values[2:], 0.9, middle)
    np.testing.assert_allclose(np.concatenate([first, rest]), whole)  # chunked = all at once
    assert state2 == state and state[1] == 3
    assert np.isnan(ema(np.array([np.nan]), 0.9)[0][0])  # nothing yet to repeat


def steps(step, losses, lr=0.1):
    return StepsEnded(1, step, np.asarray(losses, np.float32), lr, 100.0, 1.0, 0.5)


def test_run_history_takes_events_and_says_what_changed(tmp_path):
    history = RunHistory()
    assert history.add(RunStarted("cpu", 1, 100, 10, 20, 2, 3, 1000)) == "started"
    assert history.add(steps(2, [2.0, 1.0])) == "steps"
    assert history.add(steps(2, [])) is None
    assert history.add(steps(3, [np.inf], lr=0.05)) == "steps"
    assert history.add(EpochEnded(1, 1.2, 0.6, 1.1, 0.65, 0.05, 3.0, 3.0, True)) == "epochs"
    assert history.add(Paused(True)) is None
    assert history.add(Evaluated("val", 0.7, 1.0, np.eye(10, dtype=np.int64), np.zeros(0, np.int64), np.zeros((0, 10), np.float32))) is None
    assert history.add(Evaluated("test", 0.75, 1.0, np.eye(10, dtype=np.int64), np.zeros(0, np.int64), np.zeros((0, 10), np.float32))) == "epochs"
    np.testing.assert_array_equal(history.steps.column(0), [1, 2, 3])
    assert history.steps.column(2)[0] == pytest.approx(2.0) and history.loss_top == 2.0  # inf is not a height
    np.testing.assert_allclose(history.steps.column(2)[:2], ema(np.array([2.0, 1.0]), SMOOTHING)[0])
    np.testing.assert_array_equal(history.lrs.rows(), [[2, 0.1], [3, 0.05]])
    assert history.epochs.rows()[0, :2].tolist() == [1, 3] and history.test_accuracy == 0.75

    epochs_csv, batches_csv = export_csv(history, tmp_path / "metrics.csv")
    assert batches_csv.name == "metrics-batches.csv"
    rows = list(csv.reader(epochs_csv.open()))
    assert rows[0] == list(EPOCH_COLUMNS) and rows[1][:2] == ["1", "3"] and rows[-1] == ["test_accuracy", "0.75"]
    batches = list(csv.reader(batches_csv.open()))
    assert batches[0] == ["step", "loss", "smoothed_loss", "lr"]
    assert [b[0] for b in batches[1:]] == ["1", "2", "3"] and [b[3] for b in batches[1:]] == ["0.1", "0.1", "0.05"]

    assert history.add(RunStarted("cpu", 1, 100, 10, 20, 2, 3, 1000)) == "started"  # a new run starts empty
    assert len(history.steps) == len(history.epochs) == 0 and history.test_accuracy is None and history.loss_top == 0
