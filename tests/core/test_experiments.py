"""Experiments on a tiny random data set: each one runs end to end and writes its CSV columns."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

from digitpad.core.datasets import DigitData
from digitpad.experiments import COLUMNS, EXPERIMENTS, ExperimentError, reproduce, run_sweep, time_curve, train_fraction, write_csv
from digitpad.experiments.probe import ProbeTrainer, hardware, run_probed
from digitpad.experiments.suite import merge_rows, parse_preset_list
from digitpad.core.presets import get_preset


def random_digits(size: int = 28, n_train: int = 100, n_test: int = 30, seed: int = 0) -> DigitData:
    rng = np.random.default_rng(seed)
    return DigitData(
        "tiny",
        rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        np.arange(n_train, dtype=np.int64) % 10,
        rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        np.arange(n_test, dtype=np.int64) % 10,
    )


@pytest.fixture(scope="module")
def tiny():
    return random_digits()


def load_tiny(dataset: str) -> DigitData:
    return random_digits(16 if dataset == "usps" else 28)


def read(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def assert_errors(rows, *keys):
    for row in rows:
        for key in keys:
            assert 0.0 <= float(row[key]) <= 1.0, (key, row)


def test_sweep_writes_the_papers_columns(tiny, tmp_path):
    rows = run_sweep("filter-size", tiny, values=[5, 9], budget_s=5, epochs=1)
    path = write_csv(tmp_path / "filter-size.csv", "filter-size", rows)
    header, written = read(path)
    assert header == COLUMNS["filter-size"]
    assert header[:2] == ["experiment", "value"] and {"test_error", "s_per_epoch", "s_per_iteration"} <= set(header)
    assert [int(r["value"]) for r in written] == [5, 9]
    assert [int(r["filter_size"]) for r in written] == [5, 9]
    assert all(int(r["filters"]) == 64 and int(r["pool_blocks"]) == 2 for r in written)
    assert_errors(written, "test_error", "train_error")
    assert all(float(r["s_per_epoch"]) > 0 and int(r["steps"]) == 1 for r in written)


def test_sweeps_share_identical_points(tiny):
    memo: dict = {}
    first = run_sweep("filter-count", tiny, values=[64], budget_s=5, epochs=1, memo=memo)
    second = run_sweep("pool-size", tiny, values=[2], budget_s=5, epochs=1, memo=memo)
    assert len(memo) == 1  # 64 filters and 2x2 blocks is the same default network
    assert second[0]["test_error"] == first[0]["test_error"] and second[0]["experiment"] == "pool-size"


def test_unknown_sweep_is_an_experiment_error(tiny):
    with pytest.raises(ExperimentError):
        run_sweep("depth", tiny)


def test_time_curve_measures_from_the_start_to_the_end(tmp_path):
    rows = time_curve([("bastani-wang", 2)], load_tiny, interval_s=0.0)
    path = write_csv(tmp_path / "time-curve.csv", "time-curve", rows)
    header, written = read(path)
    assert header == COLUMNS["time-curve"]
    times = [float(r["train_s"]) for r in written]
    assert times[0] == 0 and times == sorted(times) and len(written) >= 2
    assert int(written[-1]["steps"]) == 2  # 100 digits in one batch of 256, two epochs
    assert_errors(written, "test_error", "train_error")


def test_train_fraction_uses_shares_of_the_training_set(tiny, tmp_path):
    rows = train_fraction(tiny, fractions=[0.2, 1.0], budget_s=5, epochs=1)
    header, written = read(write_csv(tmp_path / "train-fraction.csv", "train-fraction", rows))
    assert header == COLUMNS["train-fraction"]
    assert [int(r["train_size"]) for r in written] == [20, 100]
    assert all(r["preset"] == "bastani-wang-h10" for r in written)
    assert_errors(written, "test_error", "train_error")


def test_reproduce_reports_measured_against_reported(tmp_path):
    rows = reproduce(["torch5-usps", "bastani-wang"], load_tiny, epochs=1)
    header, written = read(write_csv(tmp_path / "reproduce.csv", "reproduce", rows))
    assert header == COLUMNS["reproduce"]
    assert [r["preset"] for r in written] == ["torch5-usps", "bastani-wang"]
    assert [r["dataset"] for r in written] == ["usps-seed", "mnist"]
    assert float(written[0]["reported_error"]) == pytest.approx(0.035)
    assert all(r["complete"] == "1" and int(r["epochs_done"]) == 1 for r in written)
    assert_errors(written, "test_error")
    assert written[0]["hardware"] == hardware()


def test_reproduce_marks_capped_runs(tmp_path):
    rows = reproduce(["bastani-wang"], load_tiny, epochs=1000, max_minutes=0.5 / 60)
    assert rows[0]["complete"] == 0 and rows[0]["epochs_done"] < 1000


def test_probe_restores_training_mode(tiny):
    config = get_preset("lasagne-5").make_config(epochs=1, threads=1, device="cpu")
    trainer = ProbeTrainer(config, tiny)
    events = trainer.run()
    next(events)  # RunStarted: the model exists, in training mode
    assert trainer.model.training
    trainer.error("test")
    assert trainer.model.training
    list(events)


def test_probed_run_keeps_measurement_out_of_the_clock(tiny):
    config = get_preset("bastani-wang").make_config(epochs=3, threads=1, device="cpu")
    run = run_probed(config, tiny, eval_interval_s=0.0)
    assert run.steps == 3 and run.epochs_seen == 3
    assert run.train_s <= run.wall_s
    # One step an epoch, and every epoch's steps are reported before it ends: each step is seen once.
    assert [p["steps"] for p in run.points] == [0, 1, 2, 3]


def test_preset_list_parses_epochs_and_rejects_typos():
    assert parse_preset_list("default:3, bastani-wang") == [("default", 3), ("bastani-wang", None)]
    with pytest.raises(KeyError):
        parse_preset_list("no-such-preset")


def test_plots_render_png(tiny, tmp_path):
    pytest.importorskip("matplotlib")
    from digitpad.experiments.plots import plot_all

    write_csv(tmp_path / "pool-size.csv", "pool-size", run_sweep("pool-size", tiny, values=[1, 3], budget_s=5, epochs=1))
    write_csv(tmp_path / "train-fraction.csv", "train-fraction", train_fraction(tiny, fractions=[0.5, 1.0], budget_s=5, epochs=1))
    write_csv(tmp_path / "time-curve.csv", "time-curve", time_curve([("bastani-wang", 1)], load_tiny, interval_s=0.0))
    pngs = plot_all(tmp_path)
    assert sorted(p.name for p in pngs) == ["pool-size.png", "time-curve.png", "train-fraction.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_missing_matplotlib_is_a_clear_error(tmp_path, monkeypatch):
    from digitpad.experiments import plots

    write_csv(tmp_path / "pool-size.csv", "pool-size", [])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ExperimentError, match="pip install"):
        plots.plot_all(tmp_path)


def test_cli_experiment_writes_csv(tmp_path, monkeypatch, capsys):
    from digitpad import cli
    from digitpad.cli import experiment as experiment_cli

    monkeypatch.setattr(experiment_cli, "_load_data", lambda name, root: load_tiny(name))
    argv = ["experiment", "filter-count", "--values", "8,16", "--budget-s", "5", "--epochs", "1", "--out", str(tmp_path), "--no-plot"]
    assert cli.main(argv) == 0
    header, rows = read(tmp_path / "filter-count.csv")
    assert header == COLUMNS["filter-count"] and [r["filters"] for r in rows] == ["8", "16"]
    assert "wrote" in capsys.readouterr().out


def test_cli_lists_every_experiment(capsys):
    from digitpad import cli

    with pytest.raises(SystemExit):
        cli.main(["experiment", "--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in EXPERIMENTS)


def test_cli_bad_preset_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    from digitpad import cli
    from digitpad.cli import experiment as experiment_cli

    monkeypatch.setattr(experiment_cli, "_load_data", lambda name, root: load_tiny(name))
    assert cli.main(["experiment", "reproduce", "--presets", "nope", "--out", str(tmp_path)]) == 1
    assert "unknown preset" in capsys.readouterr().err


def test_step_budget_stops_inside_an_epoch_or_rounds_to_epochs(tiny):
    usps = random_digits(16)
    config = get_preset("torch5-usps").make_config(epochs=1, threads=1, device="cpu")
    run = run_probed(config, usps, max_steps=5)
    assert run.steps == 5 and run.finished.stopped  # batch 1: 100 steps in an epoch
    assert run.points[-1]["steps"] == 5 and run.epochs_seen == 0
    rows = run_sweep("filter-count", tiny, values=[8], steps=3)  # 1 step per epoch: 3 epochs
    assert rows[0]["steps"] == 3 and rows[0]["epochs_seen"] == 3 and rows[0]["budget_steps"] == 3


def test_merge_rows_replaces_by_key_and_appends():
    old = [{"preset": "a", "v": 1}, {"preset": "b", "v": 2}]
    merged = merge_rows(old, [{"preset": "b", "v": 3}, {"preset": "c", "v": 4}], "preset")
    assert merged == [{"preset": "a", "v": 1}, {"preset": "b", "v": 3}, {"preset": "c", "v": 4}]


def test_cli_reproduce_updates_its_table_one_preset_at_a_time(tmp_path, monkeypatch):
    from digitpad import cli
    from digitpad.cli import experiment as experiment_cli

    monkeypatch.setattr(experiment_cli, "_load_data", lambda name, root: load_tiny(name))
    base = ["experiment", "reproduce", "--epochs", "1", "--out", str(tmp_path)]
    assert cli.main([*base, "--presets", "torch5-usps,bastani-wang"]) == 0
    assert cli.main([*base, "--presets", "bastani-wang-h10,torch5-usps"]) == 0
    _, rows = read(tmp_path / "reproduce.csv")
    assert [r["preset"] for r in rows] == ["torch5-usps", "bastani-wang", "bastani-wang-h10"]


def test_step_budget_measures_the_weights_it_stopped_with():
    usps = random_digits(16)
    config = get_preset("torch5-usps").make_config(epochs=3, val_fraction=0.2, threads=1, device="cpu")
    run = run_probed(config, usps, max_steps=90)  # stops inside epoch 2; the trainer keeps epoch 1
    assert run.points and run.points[-1]["steps"] == run.steps == 90 and run.epochs_seen == 1
    assert run.final_errors() == (run.points[-1]["train_error"], run.points[-1]["test_error"])
