"""``digitpad eval`` (accuracy and confusion matrix on a test set) and ``digitpad predict`` (read image files)."""

from __future__ import annotations

import json
import sys

from .common import DATA_HELP, EXIT_FAILURE, EXIT_OK, load_data, resolve_model


def format_confusion(confusion) -> str:
    header = "true\\pred " + " ".join(f"{d:>5}" for d in range(10))
    rows = [f"{t:>9} " + " ".join(f"{int(c):>5}" for c in row) for t, row in enumerate(confusion)]
    return "\n".join([header, *rows])


def cmd_eval(args) -> int:
    from ..core.evaluation import evaluate_checkpoint
    from ..core.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(resolve_model(args.model))
    data = load_data(args.dataset, args.data)
    result = evaluate_checkpoint(checkpoint, data.test_images, data.test_labels, device=args.device)
    if args.json:
        print(json.dumps({"model": str(resolve_model(args.model)), "dataset": args.dataset, **result.to_json()}))
        return EXIT_OK
    print(f"model   {resolve_model(args.model)} ({checkpoint.arch}, trained on {checkpoint.meta.get('dataset')})")
    print(f"dataset {args.dataset} test set, {len(data.test_labels)} digits")
    print(f"accuracy {result.accuracy * 100:.2f}%  ({result.errors} errors)  confident on {result.confident_fraction * 100:.1f}%")
    print(format_confusion(result.confusion))
    return EXIT_OK


def cmd_predict(args) -> int:
    from ..core.inference import Predictor
    from ..core.preprocess import ImageReadError

    predictor = Predictor.from_file(resolve_model(args.model))
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


def add_commands(commands) -> None:
    """Add ``eval`` and ``predict`` to the ``digitpad`` parser."""
    evaluate = commands.add_parser("eval", help="accuracy and confusion matrix of a checkpoint on a test set")
    evaluate.add_argument("--model", help="checkpoint (default: the shipped model)")
    evaluate.add_argument("--dataset", choices=["mnist", "usps", "usps-seed", "pen", "mnist+pen"], default="mnist")
    evaluate.add_argument("--data", help=DATA_HELP)
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=cmd_eval)

    predict = commands.add_parser("predict", help="read the digit in image files")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", help="checkpoint (default: the shipped model)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line per file")
    predict.set_defaults(func=cmd_predict)
