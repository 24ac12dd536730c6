"""PNG plots of the experiments' CSV files, with matplotlib (the optional ``experiments`` extra).

matplotlib is imported only here and only when a plot is drawn, with the non-interactive Agg
backend: no window, no Qt. Without it the experiments still write their CSV files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .suite import ExperimentError, read_csv

# (x label, log x) for each sweep's parameter
_SWEEP_AXES = {
    "filter-size": ("filter size n (n x n filters)", False),
    "filter-count": ("number of filters", True),
    "pool-size": ("pooling blocks per side (b x b blocks)", False),
}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        matplotlib = None
    if matplotlib is None:
        raise ExperimentError(
            "plots need matplotlib, which is optional: pip install 'digitpad[experiments]' "
            "(or pip install matplotlib); the CSV files were written and `digitpad experiment plot` "
            "renders them later"
        )
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _floats(rows: list[dict], key: str) -> list[float]:
    return [float(r[key]) if r.get(key) not in (None, "") else float("nan") for r in rows]


def _budget_text(rows: list[dict]) -> str:
    if rows and rows[0].get("budget_steps"):
        return f"{rows[0]['budget_steps']} batches of training"
    if rows and rows[0].get("budget_s"):
        return f"{rows[0]['budget_s']} s of training"
    return "a fixed budget"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_sweep(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> Path:
    """Test error and time per epoch against the swept parameter (the paper's Figures 2-7)."""
    plt = _pyplot()
    rows = read_csv(csv_path)
    name = rows[0]["experiment"] if rows else Path(csv_path).stem
    label, log_x = _SWEEP_AXES.get(name, (name, False))
    x = _floats(rows, "value")
    budget = _budget_text(rows)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.plot(x, [e * 100 for e in _floats(rows, "test_error")], "o-", label="test")
    left.plot(x, [e * 100 for e in _floats(rows, "train_error")], "s--", alpha=0.6, label="train (2,000 digits)")
    left.set_xlabel(label)
    left.set_ylabel("error (%)")
    left.set_title(f"error after {budget}")
    left.legend()
    right.plot(x, _floats(rows, "s_per_epoch"), "o-", color="C2")
    right.set_xlabel(label)
    right.set_ylabel("seconds per epoch (60,000 digits)")
    right.set_title("training time per epoch")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        if log_x:
            ax.set_xscale("log", base=2)
        ax.set_xticks(x)
        ax.set_xticklabels([f"{v:g}" for v in x])
    fig.suptitle(f"Bastani-Wang network, {name} sweep (1 CPU thread)", fontsize=10)
    return _save(fig, Path(png_path))


def plot_time_curve(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> Path:
    """Train and test error against training time, one colour per preset (the paper's Figure 8)."""
    plt = _pyplot()
    rows = read_csv(csv_path)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    presets = list(dict.fromkeys(r["preset"] for r in rows))
    for i, name in enumerate(presets):
        part = [r for r in rows if r["preset"] == name]
        minutes = [t / 60 for t in _floats(part, "train_s")]
        ax.plot(minutes, [e * 100 for e in _floats(part, "test_error")], "o-", color=f"C{i}", label=f"{name}: test")
        ax.plot(minutes, [e * 100 for e in _floats(part, "train_error")], "s--", color=f"C{i}", alpha=0.6, label=f"{name}: train")
    ax.set_yscale("log")
    ax.set_xlabel("training time (minutes, 1 CPU thread)")
    ax.set_ylabel("error (%, log scale)")
    ax.set_title("Train and test error against training time (MNIST)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, Path(png_path))


def plot_train_fraction(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> Path:
    """Train and test error against the percentage of training data used (the paper's Figure 11)."""
    plt = _pyplot()
    rows = read_csv(csv_path)
    percent = [f * 100 for f in _floats(rows, "fraction")]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(percent, [e * 100 for e in _floats(rows, "test_error")], "o-", label="test")
    ax.plot(percent, [e * 100 for e in _floats(rows, "train_error")], "s--", label="train (on the share used)")
    ax.set_xscale("log")
    ax.set_xticks(percent)
    ax.set_xticklabels([f"{p:g}" for p in percent])
    ax.set_xlabel("training data used (% of 60,000)")
    ax.set_ylabel("error (%)")
    preset = rows[0]["preset"] if rows else ""
    ax.set_title(f"{preset}: error against training data ({_budget_text(rows)} each)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, Path(png_path))


def plot_hog_svm(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> Path:
    """Test error of HOG + linear SVM (the penalty validation chose) and of the CNN, side by side."""
    plt = _pyplot()
    rows = [r for r in read_csv(csv_path) if r["chosen"] == "True"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    errors = [float(r["test_error"]) * 100 for r in rows]
    bars = ax.bar([r["method"] for r in rows], errors, color=["#8a8a8a", "#2a6fdb"][: len(rows)])
    ax.bar_label(bars, labels=[f"{e:.2f}%" for e in errors])
    ax.set_ylim(0, max(errors, default=1) * 1.15)  # room for the labels
    ax.set_ylabel("MNIST test error (%)")
    ax.set_title("HOG + linear SVM against the CNN (Bastani & Wang's baseline)", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, Path(png_path))


def _mean_and_range(runs: list[dict], keys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per key, in percent: the mean, min and max over ``runs`` (0 where a run has no value, e.g. the
    digits of letters alone)."""
    values = np.array([[float(r[key]) * 100 if r.get(key) else 0.0 for key in keys] for r in runs] or [[0.0] * len(keys)])
    return values.mean(axis=0), values.min(axis=0), values.max(axis=0)


def plot_shared_layer(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> Path:
    """Letters (exact and case-insensitive) and digits test accuracy of each variant, per training share."""
    plt = _pyplot()
    rows = read_csv(csv_path)
    fractions = sorted({float(r["fraction"]) for r in rows})
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    measures = [("letters_case_insensitive", "letters, case-insensitive"), ("letters_test_accuracy", "letters, exact"),
                ("digits_test_accuracy", "digits")]
    fig, axes = plt.subplots(1, len(fractions), figsize=(4.2 * len(fractions) + 2, 3.8), squeeze=False)
    width = 0.8 / max(1, len(variants))
    for ax, fraction in zip(axes[0], fractions):
        for i, variant in enumerate(variants):
            runs = [r for r in rows if r["variant"] == variant and float(r["fraction"]) == fraction]
            mean, low, high = _mean_and_range(runs, [key for key, _ in measures])
            bars = ax.bar(np.arange(len(measures)) + (i - (len(variants) - 1) / 2) * width, mean, width, label=variant,
                          yerr=[mean - low, high - mean] if len(runs) > 1 else None, capsize=2)
            ax.bar_label(bars, labels=[f"{v:.1f}" if v else "" for v in mean], fontsize=7)
        ax.set_xticks(np.arange(len(measures)))
        ax.set_xticklabels([label for _, label in measures], fontsize=8)
        low = min((float(r[k]) * 100 for r in rows for k, _ in measures if r[k]), default=0)
        ax.set_ylim(max(0, low - 5), 100)
        seeds = len({r["seed"] for r in rows})
        ax.set_title(f"{fraction * 100:g}% of the training set, {rows[0]['epochs']} epochs"
                     + (f", mean and range of {seeds} seeds" if seeds > 1 else ""), fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("test accuracy on held-out sites (%)")
    axes[0][-1].legend(fontsize=8, loc="lower right")
    fig.suptitle("A shared first layer (the seed's idea) against separate networks and letters alone", fontsize=10)
    return _save(fig, Path(png_path))


PLOTTERS = {
    "shared-first-layer": plot_shared_layer,
    "filter-size": plot_sweep,
    "filter-count": plot_sweep,
    "pool-size": plot_sweep,
    "time-curve": plot_time_curve,
    "train-fraction": plot_train_fraction,
    "hog-svm": plot_hog_svm,
}


def plot_all(folder: str | os.PathLike, names=None) -> list[Path]:
    """Render a PNG beside each experiment CSV in ``folder`` (all of them, or those in ``names``)."""
    folder = Path(folder)
    done = []
    for name, plotter in PLOTTERS.items():
        if names is not None and name not in names:
            continue
        csv_path = folder / f"{name}.csv"
        if csv_path.is_file():
            done.append(plotter(csv_path, folder / f"{name}.png"))
    return done
