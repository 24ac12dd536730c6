"""``digitpad personal add/list/delete/import/export`` and ``digitpad finetune``.

Torch is imported only by ``finetune``, so the personal-set commands start fast.
"""

from __future__ import annotations

import json
import signal
import sys
import warnings
from pathlib import Path

from ..core.personal import PersonalStore, counts_text, finetuned_model_path
from .common import (
    DATA_HELP,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    ProgressBar,
    load_data,
    resolve_model,
    stop_on_interrupt,
)


def _store(args) -> PersonalStore:
    return PersonalStore(Path(args.home).expanduser() / "personal" if args.home else None)


class _ReportWarnings(warnings.catch_warnings):
    """Print each corrupt-entry warning as one ``digitpad: warning:`` line instead of Python's format."""

    def __init__(self):
        super().__init__(record=True)

    def __enter__(self):
        self._log = super().__enter__()
        warnings.simplefilter("always")
        return self._log

    def __exit__(self, *exc):
        result = super().__exit__(*exc)
        for item in self._log:
            print(f"digitpad: warning: {item.message}", file=sys.stderr)
        return result


# --- personal ------------------------------------------------------------------------------
def cmd_personal_add(args) -> int:
    from ..core.preprocess import ImageReadError

    store = _store(args)
    failures = 0
    for file in args.images:
        try:
            entry = store.add_file(file, args.label)
        except (ImageReadError, ValueError) as error:
            failures += 1
            print(f"digitpad: {error}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"file": file, "id": entry.id, "label": entry.label}))
        else:
            print(f"added {file} as a {entry.label} (id {entry.id})")
    return EXIT_FAILURE if failures else EXIT_OK


def cmd_personal_list(args) -> int:
    store = _store(args)
    with _ReportWarnings():
        entries = store.entries()
    counts = [0] * 10
    for entry in entries:
        counts[entry.label] += 1
    if args.label is not None:
        entries = [e for e in entries if e.label == args.label]
    if args.json:
        print(
            json.dumps(
                {
                    "folder": str(store.root),
                    "counts": counts,
                    "skipped": [{"file": f, "reason": r} for f, r in store.skipped],
                    "entries": [
                        {
                            "id": e.id,
                            "label": e.label,
                            "source": e.source,
                            "created": e.created,
                            "predicted": e.predicted,
                            "strokes": e.strokes is not None,
                            "image": str(e.image_path),
                        }
                        for e in entries
                    ],
                }
            )
        )
        return EXIT_OK
    print(f"{sum(counts)} personal digits in {store.root}")
    print("digit " + " ".join(f"{d:>4}" for d in range(10)))
    print("count " + " ".join(f"{c:>4}" for c in counts))
    if entries:
        print()
        print(f"{'id':<30} digit  {'source':<8} {'read as':<7}  created")
        for e in entries:
            read_as = "" if e.predicted is None else str(e.predicted)
            print(f"{e.id:<30} {e.label:>5}  {e.source:<8} {read_as:<7}  {e.created}")
    return EXIT_OK


def cmd_personal_delete(args) -> int:
    store = _store(args)
    failures = 0
    for entry_id in args.ids:
        try:
            store.delete(entry_id)
        except KeyError as error:
            failures += 1
            print(f"digitpad: {str(error).strip(chr(34) + chr(39))}", file=sys.stderr)
            continue
        print(f"deleted {entry_id}")
    return EXIT_FAILURE if failures else EXIT_OK


def cmd_personal_import(args) -> int:
    store = _store(args)
    bar = ProgressBar("importing")
    try:
        with _ReportWarnings():
            result = store.import_folder(args.folder, progress=lambda done, total: bar.update(done / max(total, 1)))
    finally:
        bar.close()
    if args.json:
        print(json.dumps({"added": [e.id for e in result.added], "skipped": [{"file": f, "reason": r} for f, r in result.skipped]}))
        return EXIT_OK
    counts = [0] * 10
    for entry in result.added:
        counts[entry.label] += 1
    print(f"imported {len(result.added)} digits from {args.folder} ({counts_text(counts)})")
    if result.skipped:
        print(f"skipped {len(result.skipped)}:")
        for file, reason in result.skipped:
            print(f"  {file}: {reason}")
    return EXIT_OK


def cmd_personal_export(args) -> int:
    store = _store(args)
    with _ReportWarnings():
        count = store.export(args.folder, overwrite=args.overwrite)
    print(f"exported {count} digits to {args.folder} (PNGs, labels.csv, index.json)")
    return EXIT_OK


# --- finetune ------------------------------------------------------------------------------
def cmd_finetune(args) -> int:
    from ..core.checkpoints import load_checkpoint, save_checkpoint
    from ..core.events import EpochEnded, RunFailed, RunStarted, StepsEnded
    from ..core.finetune import FinetuneConfig, FinetuneFinished, FinetuneMeasured, Finetuner
    from ..core.trainer import RunControl

    model_path = resolve_model(args.model)
    checkpoint = load_checkpoint(model_path)
    store = _store(args)
    with _ReportWarnings():
        personal = store.as_digit_data()
    if len(personal.train_labels) == 0:
        raise CliError(f"the personal digit set in {store.root} is empty: add digits first (`digitpad personal add`)")
    trained_on = checkpoint.meta.get("dataset", "mnist")
    # A model of MNIST plus pen digits replays MNIST, as the app does: MNIST can always be downloaded.
    base_name = args.base_dataset or ("mnist" if trained_on == "mnist+pen" else trained_on)
    if base_name != "mnist":
        # Personal digits are MNIST-shaped, so the replay (and the model) must be too.
        raise CliError(
            f"{model_path} was trained on {base_name!r}; fine-tuning replays MNIST: give a 28x28 model, "
            "or --base-dataset mnist for one trained on the personal set"
        )
    base = load_data(base_name, args.data)
    overrides = {
        name: value
        for name, value in {
            "epochs": args.epochs,
            "lr": args.lr,
            "replay": args.replay,
            "personal_share": args.personal_share,
            "batch_size": args.batch_size,
            "seed": args.seed,
            "threads": args.threads,
            "device": args.device,
        }.items()
        if value is not None
    }
    if args.no_augment:
        overrides["augment"] = False
    try:
        config = FinetuneConfig(**overrides)
        control = RunControl()
        runner = Finetuner(checkpoint, personal, base, config, control)
    except ValueError as error:
        raise CliError(str(error)) from None
    out = Path(args.out) if args.out else finetuned_model_path()
    bar = ProgressBar("fine-tuning")
    previous = signal.signal(signal.SIGINT, stop_on_interrupt(control))
    try:
        for event in runner.run():
            if isinstance(event, RunFailed):
                raise CliError(f"fine-tuning failed: {event.message}")
            if args.json:
                continue
            if isinstance(event, FinetuneMeasured):
                bar.close()
                held = "" if event.heldout_accuracy is None else f", held out {event.heldout_accuracy * 100:.2f}%"
                print(
                    f"{event.stage:>6}: personal digits {event.personal_accuracy * 100:6.2f}% ({event.personal_count}), "
                    f"{base.name} test {event.base_accuracy * 100:6.2f}% ({event.base_count}){held}",
                    flush=True,
                )
            elif isinstance(event, RunStarted):
                print(
                    f"fine-tuning {model_path.name} on {event.device}: {event.train_size} examples an epoch "
                    f"({len(personal.train_labels)} personal digits, repeated, plus {base.name} replay), "
                    f"{event.epochs} epochs",
                    flush=True,
                )
            elif isinstance(event, StepsEnded) and event.samples_per_s:
                bar.update(event.progress, f"epoch {event.epoch} loss {float(event.losses[-1]):.4f} ETA {event.eta_s:,.0f}s")
            elif isinstance(event, EpochEnded):
                bar.close()
                print(
                    f"epoch {event.epoch:>3}  train loss {event.train_loss:.4f}  train acc {event.train_accuracy * 100:6.2f}%  "
                    f"{event.epoch_s:5.1f}s",
                    flush=True,
                )
            elif isinstance(event, FinetuneFinished):
                pass
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    result = runner.result
    if result is None:
        raise CliError("fine-tuning was stopped before it began; nothing saved")
    path = save_checkpoint(result.checkpoint, out)
    if args.json:
        print(json.dumps({"event": "Saved", "out": str(path), "model": str(model_path), **result.to_json()}))
    else:
        stopped = " (stopped early)" if result.stopped else ""
        print(
            f"saved {path}{stopped}: personal digits {result.personal_before * 100:.2f}% -> {result.personal_after * 100:.2f}%, "
            f"{base.name} test {result.base_before * 100:.2f}% -> {result.base_after * 100:.2f}% "
            f"({-result.base_drop_points:+.2f} points) in {result.seconds:.0f}s"
        )
    return EXIT_OK


# --- parser --------------------------------------------------------------------------------
def add_commands(commands) -> None:
    """Add ``personal`` (with its sub-commands) and ``finetune`` to the ``digitpad`` parser."""
    home_help = "digitpad's data folder (default: $DIGITPAD_HOME or the platform's user data folder)"

    personal = commands.add_parser("personal", help="your personal digit set: add, list, delete, import, export")
    personal.set_defaults(func=lambda _args: (personal.print_help(), EXIT_USAGE)[1])
    actions = personal.add_subparsers(dest="personal_command", metavar="ACTION")

    def action(name: str, text: str, func):
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument("--home", help=home_help)
        sub.set_defaults(func=func)
        return sub

    add = action("add", "prepare image files as the pad does and add them with a label", cmd_personal_add)
    add.add_argument("images", nargs="+", metavar="IMAGE")
    add.add_argument("--label", type=int, required=True, choices=range(10), metavar="N", help="the digit they show, 0-9")
    add.add_argument("--json", action="store_true", help="one JSON object per added file")

    listing = action("list", "count per digit and every entry", cmd_personal_list)
    listing.add_argument("--label", type=int, choices=range(10), metavar="N", help="list only this digit's entries")
    listing.add_argument("--json", action="store_true", help="print one JSON object")

    delete = action("delete", "remove entries by id (see `digitpad personal list`)", cmd_personal_delete)
    delete.add_argument("ids", nargs="+", metavar="ID")

    importing = action("import", "add a folder of images with labels.csv (columns file,label)", cmd_personal_import)
    importing.add_argument("folder", metavar="FOLDER")
    importing.add_argument("--json", action="store_true", help="print one JSON object")

    export = action("export", "write the set as a folder of PNGs plus labels.csv and index.json", cmd_personal_export)
    export.add_argument("folder", metavar="FOLDER")
    export.add_argument("--overwrite", action="store_true", help="replace an earlier export in that folder")

    tune = commands.add_parser(
        "finetune", help="fine-tune a model on your personal digits, with replay of its base data set"
    )
    tune.add_argument("--model", help="checkpoint to start from, or a shipped model's name (default: the shipped model)")
    tune.add_argument("--out", help=f"where to write the fine-tuned checkpoint (default: {finetuned_model_path()})")
    tune.add_argument("--home", help=home_help)
    tune.add_argument("--base-dataset", choices=["mnist"], help="data set to replay (default: the model's own)")
    tune.add_argument("--data", help=DATA_HELP)
    tune.add_argument("--epochs", type=int, help="passes over the mix (default 4)")
    tune.add_argument("--lr", type=float, help="peak learning rate (default 0.01)")
    tune.add_argument("--replay", type=int, help="base training digits mixed in (default 5000)")
    tune.add_argument("--personal-share", type=float, help="fraction of the examples that are personal (default 0.5)")
    tune.add_argument("--batch-size", type=int, help="examples per step (default 64)")
    tune.add_argument("--no-augment", action="store_true", help="no random warps of the training digits")
    tune.add_argument("--seed", type=int, help="random seed")
    tune.add_argument("--device", help="auto, cpu, cuda or mps")
    tune.add_argument("--threads", type=int, help="torch CPU threads (0 = all cores but one)")
    tune.add_argument("--json", action="store_true", help="print one JSON object with the result")
    tune.set_defaults(func=cmd_finetune)
