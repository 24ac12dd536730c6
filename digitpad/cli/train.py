"""``digitpad train``: a training run from the flags or a preset, printed event by event, saved."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from .common import DATA_HELP, EXIT_OK, CliError, ProgressBar, load_data, stop_on_interrupt

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
    "--threads": ("threads", int, "torch CPU threads (default: every core; 0 = all cores but one)"),
    "--max-minutes": ("max_minutes", float, "stop after this many minutes of training"),
    "--max-steps": ("max_steps", int, "stop after this many optimizer steps (the same on any machine)"),
    "--input-scaling": ("input_scaling", str, "standardize (train-set mean/std) or unit (grey/255 in [0, 1])"),
    "--conv-lr-scale": ("conv_lr_scale", float, "convolution layers' learning rate times this (default 1)"),
    "--inverse-time-steps": ("inverse_time_steps", float, "T of the inverse-time schedule: lr * T / (T + step)"),
    "--momentum-warmup": ("momentum_warmup", float, "momentum of the first --momentum-warmup-steps steps"),
    "--momentum-warmup-steps": ("momentum_warmup_steps", int, "steps at --momentum-warmup before --momentum"),
    "--loss": ("loss", str, "cross-entropy or clipped-cross-entropy (tflearn's)"),
    "--outlier-weight": ("outlier_weight", float, "weight of the uniform-target loss on the pen sets' non-digit drawings (0: off)"),
}
# flag: (TrainConfig field, help); each turns a recipe option on
TRAIN_SWITCHES = {
    "--fan-in-lr": ("fan_in_lr", "each layer's learning rate is lr / sqrt(its fan-in) (LeCun's Efficient BackProp)"),
    "--with-replacement": ("sample_with_replacement", "draw every batch at random with replacement"),
}


def train_config(args):
    from ..core.config import TrainConfig
    from ..core.presets import get_preset

    config = get_preset(args.preset).make_config() if args.preset else TrainConfig()
    if config.threads == 0:  # the app's "all cores but one" keeps a GUI responsive; headless, every core is ours
        config.threads = os.cpu_count() or 1
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
    for flag, (field, _) in TRAIN_SWITCHES.items():
        if getattr(args, field):
            setattr(config, field, True)
    for pair in args.model_arg or []:
        key, _, value = pair.partition("=")
        config.model_args[key] = json.loads(value) if value else True
    try:
        config.validate()
    except ValueError as error:
        raise CliError(str(error)) from None
    return config


def print_event(event, bar: ProgressBar, as_json: bool) -> None:
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


def initial_weights(path, config) -> dict:
    """Trainer arguments to start from a checkpoint's weights (--init), keeping its normalisation,
    which its weights were learnt with; {} to start from scratch."""
    if not path:
        return {}
    from ..core.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(path)
    # A digits model may start a joint one (models.adapt_state); other shapes (width=...) fail when
    # the weights are loaded.
    starts_joint = checkpoint.arch == "digitpad" and config.model == "digitpad-joint"
    if checkpoint.arch != config.model and not starts_joint:
        raise CliError(f"--init {path} is a {checkpoint.arch} model; this run trains {config.model}")
    return {"init_state": checkpoint.state, "normalization": checkpoint.normalization}


def cmd_train(args) -> int:
    from ..core.distributed import Group

    config = train_config(args)
    group = Group.from_env(config.device)  # a group of one unless started by torchrun
    try:
        return _train(args, config, group)
    finally:
        group.close()


def _train(args, config, group) -> int:
    from ..core.checkpoints import save_checkpoint
    from ..core.events import RunFailed
    from ..core.trainer import RunControl, Trainer

    if group.active:
        config.device = group.device(config.device)
        if args.threads is None:
            config.threads = group.cpu_threads()
    start = initial_weights(args.init, config)
    data = group.main_first(lambda: load_data(config.dataset, args.data))  # one download, not N
    control = RunControl()
    trainer = Trainer(config, data, control, group=group, **start)
    bar = ProgressBar("training")
    previous_handler = signal.signal(signal.SIGINT, stop_on_interrupt(control))
    try:
        for event in trainer.run():
            if group.is_main:  # the other ranks train in silence
                print_event(event, bar, args.json)
            if isinstance(event, RunFailed):
                raise CliError(f"training failed on rank {group.rank}: {event.message}" if group.active
                               else f"training failed: {event.message}")
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        bar.close()
    if not group.is_main:
        return EXIT_OK  # rank 0 alone writes the checkpoint
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


def add_commands(commands) -> None:
    """Add ``train`` to the ``digitpad`` parser."""
    train = commands.add_parser("train", help="train a model and save a checkpoint")
    train.add_argument("--preset", help="start from a named recipe (see `digitpad models`)")
    train.add_argument("--dataset", choices=["mnist", "usps", "usps-seed", "personal", "pen", "mnist+pen", "letters", "digits+letters"])
    train.add_argument("--model", help="architecture name (see `digitpad models`)")
    train.add_argument("--model-arg", action="append", metavar="KEY=JSON", help="architecture argument, e.g. width=48")
    for flag, (field, kind, text) in TRAIN_FLAGS.items():
        train.add_argument(flag, dest=field, type=kind, help=text)
    train.add_argument("--augment", action="store_true", help="random affine augmentation (default on)")
    train.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    train.add_argument("--elastic", action="store_true", help="add elastic distortions to the augmentation")
    for flag, (field, text) in TRAIN_SWITCHES.items():
        train.add_argument(flag, dest=field, action="store_true", help=text)
    train.add_argument("--data", help=DATA_HELP)
    train.add_argument("--init", metavar="CHECKPOINT", help="start from this checkpoint's weights (same architecture)")
    train.add_argument("--out", required=True, help="where to write the .safetensors checkpoint")
    train.add_argument("--name", help="a display name stored in the checkpoint")
    train.add_argument("--json", action="store_true", help="one JSON object per event instead of text")
    train.set_defaults(func=cmd_train)
