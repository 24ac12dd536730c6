"""``digitpad models`` (architectures and presets) and ``digitpad download`` (fetch and verify a data set)."""

from __future__ import annotations

from .common import DATA_HELP, EXIT_OK, bytes_progress


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
    print("shipped models (--model NAME):")
    for name, line in shipped_model_lines():
        print(f"  {name:<{width}}  {line}")
    return EXIT_OK


def shipped_model_lines() -> list[tuple[str, str]]:
    """(name, what it is and reads) of each shipped model; a damaged one says so instead."""
    from ..core.checkpoints import CheckpointError, load_checkpoint
    from ..core.inference import SHIPPED_ALIASES, shipped_models

    lines = []
    shipped = shipped_models()
    for name, path in shipped.items():
        try:
            checkpoint = load_checkpoint(path)
        except CheckpointError as error:
            lines.append((name, f"cannot be read: {error}"))
            continue
        title = checkpoint.meta.get("name") or checkpoint.arch
        lines.append((name, f"{title}; reads {', '.join(checkpoint.alphabets)}; {path}"))
    for alias, name in SHIPPED_ALIASES.items():
        if alias not in shipped and name in shipped:
            lines.append((alias, f"another name for {name} (kept for scripts written before it was renamed)"))
    return lines


def cmd_download(args) -> int:
    from ..core.datasets import ensure_dataset

    bar, report = bytes_progress(f"downloading {args.dataset}")
    try:
        folder = ensure_dataset(args.dataset, args.data, download=True, progress=report, force=args.force)
    finally:
        bar.close()
    print(f"{args.dataset}: verified files in {folder}")
    return EXIT_OK


def add_commands(commands) -> None:
    """Add ``models`` and ``download`` to the ``digitpad`` parser."""
    models = commands.add_parser("models", help="list architectures and presets")
    models.set_defaults(func=cmd_models)

    download = commands.add_parser("download", help="download and verify a dataset")
    download.add_argument("dataset", choices=["mnist", "usps", "usps-seed", "pen"])
    download.add_argument("--force", action="store_true", help="download again even if present")
    download.add_argument("--data", help=DATA_HELP)
    download.set_defaults(func=cmd_download)
