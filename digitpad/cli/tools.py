"""``digitpad doctor`` (what this installation runs on) and ``digitpad export`` (ONNX, TorchScript)."""

from __future__ import annotations

import json
from pathlib import Path

from .common import EXIT_OK, CliError, resolve_model


def cmd_doctor(args) -> int:
    from .. import qt_check
    from ..core import doctor

    qt = qt_check.check()
    facts = doctor.report([doctor.Fact("qt", qt.summary, qt.ok)])
    if args.json:
        print(json.dumps({f.topic.strip(): {"value": f.value, "ok": f.ok} for f in facts}))
    else:
        print(doctor.format_report(facts))
        if not qt.ok and qt.install_command:
            print(f"\nto open the window, install: {qt.install_command}")
    return EXIT_OK  # a report: what needs a look is marked, not an error


def cmd_export(args) -> int:
    from ..core.checkpoints import load_checkpoint
    from ..core.export import ExportError, export_model

    checkpoint = load_checkpoint(resolve_model(args.model))
    try:
        path = export_model(checkpoint, Path(args.out), args.format)
    except ExportError as error:
        raise CliError(str(error)) from None
    print(f"exported {path} ({args.format}: input float32 (N, 1, {checkpoint.input_size}, {checkpoint.input_size}) "
          f"in [0, 1], white ink on black; output calibrated probabilities (N, {len(checkpoint.classes)}))")
    return EXIT_OK


def add_commands(commands) -> None:
    """Add ``doctor`` and ``export`` to the ``digitpad`` parser."""
    doctor = commands.add_parser("doctor", help="report Python, torch, device, Qt, data folders and the model in use")
    doctor.add_argument("--json", action="store_true", help="one JSON object")
    doctor.set_defaults(func=cmd_doctor)

    export = commands.add_parser("export", help="write a model as ONNX or TorchScript for use elsewhere")
    export.add_argument("--format", choices=["onnx", "torchscript"], default="onnx")
    export.add_argument("--out", required=True, help="file to write (model.onnx, model.pt)")
    export.add_argument("--model", help="checkpoint, or a shipped model's name (default: the shipped model)")
    export.set_defaults(func=cmd_export)
