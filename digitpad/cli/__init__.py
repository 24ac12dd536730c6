"""The ``digitpad`` command line: gui, train, eval, predict, models, download.

Exit codes: 0 success, 2 usage error (argparse), 1 failure with a one-line message on stderr
(a traceback only with ``--debug``). Qt is imported only by the ``gui`` command.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report as one line, exit code 1."""


# --- output helpers ------------------------------------------------------------------------


class ProgressBar:
    """A one-line text progress bar on stderr; silent when stderr is not a terminal."""

    WIDTH = 30

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def update(self, fraction: float, suffix: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and not force):
            return
        self._last = now
        filled = int(self.WIDTH * min(max(fraction, 0.0), 1.0))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {suffix}\033[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _bytes_progress(label: str):
    bar = ProgressBar(label)

    def report(done: int, total: int | None) -> None:
        fraction = done / total if total else 0.0
        bar.update(fraction, f"{done / 2**20:.1f} MB" + (f" of {total / 2**20:.1f} MB" if total else ""))

    return bar, report


def _format_confusion(confusion) -> str:
    header = "true\\pred " + " ".join(f"{d:>5}" for d in range(10))
    rows = [f"{t:>9} " + " ".join(f"{int(c):>5}" for c in row) for t, row in enumerate(confusion)]
    return "\n".join([header, *rows])


# --- commands ------------------------------------------------------------------------------


def cmd_gui(args) -> int:
    from ..ui.app import main as gui_main

    return gui_main(model_path=args.model)


def cmd_models(args) -> int:
    from ..core.models import MODELS
    from ..core.presets import PRESETS

    width = max(len(n) for n in MODELS)
    print("architectures:")
    for name, info in MODELS.items():
        print(f"  {name:<{width}}  {info.description}")
    print("presets (digitpad train --preset NAME):")
    width = max(len(n) for n in PRESETS)
    for name, preset in PRESETS.items():
        print(f"  {name:<{width}}  {preset.description}")
    return EXIT_OK


def cmd_download(args) -> int:
    from ..core.datasets import ensure_dataset

    bar, report = _bytes_progress(f"downloading {args.dataset}")
    try:
        folder = ensure_dataset(args.dataset, args.data, download=True, progress=report, force=args.force)
    finally:
        bar.close()
    print(f"{args.dataset}: verified files in {folder}")
    return EXIT_OK


def _load_data(name: str, root, download: bool = True):
    from ..core.datasets import load_dataset

    if name == "personal":
        from ..core.personal import load_personal_dataset  # issue 7's store

        return load_personal_dataset()
    bar, report = _bytes_progress(f"downloading {name}")
    try:
        return load_dataset(name, root, download=download, progress=report)
    finally:
        bar.close()


TRAIN_FLAGS = {
    # flag: (TrainConfig field, type, help)
    "--epochs": ("epochs", int, "passes over the training set"),
    "--batch-size": ("batch_size", int, "examples per step (1 = one random example per step)"),
    "--lr": ("lr", float, "learning rate (peak rate for the one-cycle schedule)"),
    "--optimizer": ("optimizer", str, "sgd, momentum, nesterov, adam, adamw or adadelta"),
    "--schedule": ("schedule", str, "onecycle, step or constant"),
    "--momentum": ("momentum", float, "momentum for momentum/nesterov"),
    "--weight-decay": ("weight_decay", float, "L2 weight decay on weights (not biases)"),
    "--label-smoothing": ("label_smoothing", float, "label smoothing of the cross-entropy"),
    "--val-fraction": ("val_fraction", float, "fraction of the training set held out for validation"),
    "--train-fraction": ("train_fraction", float, "use only this fraction of the training set"),
    "--seed": ("seed", int, "random seed (split, initialisation, batches, augmentation)"),
    "--device": ("device", str, "auto, cpu, cuda or mps"),
    "--threads": ("threads", int, "torch CPU threads (0 = all cores but one)"),
    "--max-minutes": ("max_minutes", float, "stop after this many minutes of training"),
    "--max-steps": ("max_steps", int, "stop after this many optimizer steps (the same on any machine)"),
}


def _train_config(args):
    from ..core.config import TrainConfig
    from ..core.presets import get_preset

    if args.preset:
        config = get_preset(args.preset).make_config()
    else:
        config = TrainConfig(threads=os.cpu_count() or 1)  # headless: every core is ours
    if args.dataset:
        config.dataset = args.dataset
    if args.model:
        config.model = args.model
    for flag, (field, _, _) in TRAIN_FLAGS.items():
        value = getattr(args, field)
        if value is not None:
            setattr(config, field, value)
    if args.no_augment:
        config.augment = False
    if args.augment:
        config.augment = True
    if args.elastic:
        config.elastic = True
    for pair in args.model_arg or []:
        key, _, value = pair.partition("=")
        config.model_args[key] = json.loads(value) if value else True
    try:
        config.validate()
    except ValueError as error:
        raise CliError(str(error)) from None
    return config


def _print_event(event, bar: ProgressBar, as_json: bool) -> None:
    from dataclasses import asdict

    from ..core import events as ev

    if isinstance(event, ev.LoopEnded):  # bookkeeping for receivers that count steps; nothing to show
        return
    if as_json and not isinstance(event, (ev.StepsEnded, ev.WeightsSnapshot, ev.RunFinished)):
        payload = {k: v for k, v in asdict(event).items() if not hasattr(v, "shape")}
        print(json.dumps({"event": type(event).__name__, **payload}), flush=True)
        return
    if isinstance(event, ev.RunStarted):
        print(
            f"training on {event.device} ({event.threads} threads): {event.train_size} train, "
            f"{event.val_size} validation, {event.test_size} test; {event.parameters:,} parameters",
            flush=True,
        )
    elif isinstance(event, ev.StepsEnded) and event.samples_per_s:
        bar.update(
            event.progress,
            f"epoch {event.epoch} loss {float(event.losses[-1]):.4f} "
            f"{event.samples_per_s:,.0f}/s ETA {event.eta_s:,.0f}s",
        )
    elif isinstance(event, ev.EpochEnded):
        bar.close()
        print(
            f"epoch {event.epoch:>3}  train loss {event.train_loss:.4f}  train acc {event.train_accuracy * 100:6.2f}%  "
            f"val loss {event.val_loss:.4f}  val acc {event.val_accuracy * 100:6.2f}%{' *' if event.is_best else '  '}  "
            f"lr {event.lr:.2e}  {event.epoch_s:5.1f}s",
            flush=True,
        )
    elif isinstance(event, ev.Evaluated):
        print(f"{event.split} accuracy of the best epoch: {event.accuracy * 100:.2f}% ({len(event.wrong_indices)} wrong)")


def _stop_on_interrupt(control):
    """First Ctrl+C stops like the Stop button (the best model so far is saved); a second one aborts."""

    def handler(signum, frame):
        if control.stopped:
            raise KeyboardInterrupt
        control.stop()
        print("\ninterrupted: stopping after this batch and saving the best model so far", file=sys.stderr)

    return handler


def _initial_weights(path, config) -> dict:
    """Trainer arguments to start from a checkpoint's weights (--init), keeping its normalisation,
    which its weights were learnt with; {} to start from scratch."""
    if not path:
        return {}
    from ..core.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(path)
    if checkpoint.arch != config.model:  # other shapes (width=...) fail when the weights are loaded
        raise CliError(f"--init {path} is a {checkpoint.arch} model; this run trains {config.model}")
    return {"init_state": checkpoint.state, "normalization": checkpoint.normalization}


def cmd_train(args) -> int:
    from ..core.checkpoints import save_checkpoint
    from ..core.events import RunFailed
    from ..core.trainer import RunControl, Trainer

    config = _train_config(args)
    start = _initial_weights(args.init, config)
    data = _load_data(config.dataset, args.data)
    control = RunControl()
    trainer = Trainer(config, data, control, **start)
    bar = ProgressBar("training")
    previous_handler = signal.signal(signal.SIGINT, _stop_on_interrupt(control))
    try:
        for event in trainer.run():
            _print_event(event, bar, args.json)
            if isinstance(event, RunFailed):
                raise CliError(f"training failed: {event.message}")
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        bar.close()
    if trainer.checkpoint is None:
        raise CliError("training stopped before any model was made")
    trainer.checkpoint.meta["name"] = args.name or Path(args.out).stem
    path = save_checkpoint(trainer.checkpoint, args.out)
    metrics = trainer.checkpoint.meta["metrics"]
    summary = {
        "out": str(path),
        "model": config.model,
        "dataset": config.dataset,
        "epochs_done": metrics["epochs_done"],
        "best_epoch": metrics["best_epoch"],
        "val_accuracy": metrics["val_accuracy"],
        "test_accuracy": metrics["test_accuracy"],
        "train_seconds": metrics["train_seconds"],
    }
    if args.json:
        print(json.dumps({"event": "Saved", **summary}))
    else:
        test = summary["test_accuracy"]
        print(
            f"saved {path}: {config.model} on {config.dataset}, best epoch {summary['best_epoch']} of "
            f"{summary['epochs_done']}, test accuracy {test * 100:.2f}%"
            if test is not None
            else f"saved {path}",
        )
        print(f"training time {summary['train_seconds']:.0f}s")
    return EXIT_OK


def _resolve_model(path) -> Path:
    from ..core.inference import default_model_path

    return Path(path) if path else default_model_path()


def cmd_eval(args) -> int:
    from ..core.evaluation import evaluate_checkpoint
    from ..core.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(_resolve_model(args.model))
    data = _load_data(args.dataset, args.data)
    result = evaluate_checkpoint(checkpoint, data.test_images, data.test_labels, device=args.device)
    if args.json:
        print(json.dumps({"model": str(_resolve_model(args.model)), "dataset": args.dataset, **result.to_json()}))
        return EXIT_OK
    print(f"model   {_resolve_model(args.model)} ({checkpoint.arch}, trained on {checkpoint.meta.get('dataset')})")
    print(f"dataset {args.dataset} test set, {len(data.test_labels)} digits")
    print(f"accuracy {result.accuracy * 100:.2f}%  ({result.errors} errors)  confident on {result.confident_fraction * 100:.1f}%")
    print(_format_confusion(result.confusion))
    return EXIT_OK


def cmd_predict(args) -> int:
    from ..core.inference import Predictor
    from ..core.preprocess import ImageReadError

    predictor = Predictor.from_file(_resolve_model(args.model))
    failures = 0
    for file in args.images:
        try:
            prediction = predictor.predict_file(file)
        except ImageReadError as error:
            failures += 1
            print(f"digitpad: {error}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": file, "digit": None, "confident": False, "probabilities": None, "error": str(error)}))
            continue
        probs = None if prediction.probabilities is None else [round(float(p), 6) for p in prediction.probabilities]
        if args.json:
            print(json.dumps({"file": file, "digit": prediction.digit, "confident": prediction.confident, "probabilities": probs}))
        elif prediction.empty:
            print(f"{file}: empty (no digit drawn)")
        else:
            unsure = "" if prediction.confident else "  (unsure: may not be a digit)"
            listing = " ".join(f"{d}:{p * 100:.1f}%" for d, p in enumerate(prediction.probabilities))
            print(f"{file}: {prediction.digit} ({prediction.score * 100:.1f}%){unsure}\n    {listing}")
    return EXIT_FAILURE if failures else EXIT_OK


# --- parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="digitpad", description="Draw a digit and watch a CNN read it; train it; look inside it.")
    parser.add_argument("--version", action="version", version=f"digitpad {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="start the app (the default)")
    gui.add_argument("--model", help="checkpoint to open instead of the shipped one")
    gui.set_defaults(func=cmd_gui)

    models = commands.add_parser("models", help="list architectures and presets")
    models.set_defaults(func=cmd_models)

    download = commands.add_parser("download", help="download and verify a dataset")
    download.add_argument("dataset", choices=["mnist", "usps", "pen"])
    download.add_argument("--force", action="store_true", help="download again even if present")
    download.add_argument("--data", help="data folder (default: $DIGITPAD_DATA or the user cache)")
    download.set_defaults(func=cmd_download)

    train = commands.add_parser("train", help="train a model and save a checkpoint")
    train.add_argument("--preset", help="start from a named recipe (see `digitpad models`)")
    train.add_argument("--dataset", choices=["mnist", "usps", "personal", "pen", "mnist+pen"])
    train.add_argument("--model", help="architecture name (see `digitpad models`)")
    train.add_argument("--model-arg", action="append", metavar="KEY=JSON", help="architecture argument, e.g. width=48")
    for flag, (field, kind, text) in TRAIN_FLAGS.items():
        train.add_argument(flag, dest=field, type=kind, help=text)
    train.add_argument("--augment", action="store_true", help="random affine augmentation (default on)")
    train.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    train.add_argument("--elastic", action="store_true", help="add elastic distortions to the augmentation")
    train.add_argument("--data", help="data folder (default: $DIGITPAD_DATA or the user cache)")
    train.add_argument("--init", metavar="CHECKPOINT", help="start from this checkpoint's weights (same architecture)")
    train.add_argument("--out", required=True, help="where to write the .safetensors checkpoint")
    train.add_argument("--name", help="a display name stored in the checkpoint")
    train.add_argument("--json", action="store_true", help="one JSON object per event instead of text")
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("eval", help="accuracy and confusion matrix of a checkpoint on a test set")
    evaluate.add_argument("--model", help="checkpoint (default: the shipped model)")
    evaluate.add_argument("--dataset", choices=["mnist", "usps", "pen", "mnist+pen"], default="mnist")
    evaluate.add_argument("--data", help="data folder (default: $DIGITPAD_DATA or the user cache)")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=cmd_eval)

    predict = commands.add_parser("predict", help="read the digit in image files")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", help="checkpoint (default: the shipped model)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line per file")
    predict.set_defaults(func=cmd_predict)

    for extend in _EXTENSIONS:
        extend(commands)
    return parser


# Other modules (experiments, the personal set) add their sub-commands here.
_EXTENSIONS: list = []


def _load_extensions() -> None:
    # Imported here, not at the top: each registers itself in _EXTENSIONS and imports this module.
    from ..experiments import cli as _experiments  # noqa: F401
    from . import personal as _personal  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    _load_extensions()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `digitpad` alone starts the app
        args.func, args.model = cmd_gui, None
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("digitpad: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - the CLI's contract is one line, exit 1
        if args.debug:
            raise
        from ..core.checkpoints import CheckpointError
        from ..core.download import DataError

        known = (CliError, CheckpointError, DataError, KeyError, ValueError, OSError)
        message = str(error).strip("'\"") if isinstance(error, known) else f"{type(error).__name__}: {error}"
        print(f"digitpad: error: {message.splitlines()[0] if message else type(error).__name__}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
