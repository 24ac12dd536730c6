"""The seed documents' experiments, rerun with digitpad: results as CSV, plots as PNG.

``digitpad experiment NAME`` (see ``digitpad.cli.experiment``) runs one of ``EXPERIMENTS``:

- ``reproduce``: train each seed preset as its document describes and measure its test error;
- ``filter-size``, ``filter-count``, ``pool-size`` (or ``sweeps`` for all three): Bastani & Wang's
  sweeps, test error and time per epoch against one parameter of their network, each point
  trained for the same budget of seconds (the paper gave each point 10 hours);
- ``time-curve``: train and test error against training time (the paper's Figure 8);
- ``train-fraction``: train and test error against the share of training data (Figure 11);
- ``hog-svm``: HOG features with a linear SVM against the CNN, the paper's baseline (``hog_svm``).

Everything here is Qt-free and runs the ordinary ``core.trainer.Trainer``; ``probe`` only adds a
look at the model between batches. Plotting needs the optional ``matplotlib``
(``pip install 'digitpad[experiments]'``); the CSV files do not.
"""

from __future__ import annotations

from .suite import (
    COLUMNS,
    EXPERIMENTS,
    ExperimentError,
    reproduce,
    run_sweep,
    time_curve,
    train_fraction,
    write_csv,
)

__all__ = [
    "COLUMNS",
    "EXPERIMENTS",
    "ExperimentError",
    "reproduce",
    "run_sweep",
    "time_curve",
    "train_fraction",
    "write_csv",
]
