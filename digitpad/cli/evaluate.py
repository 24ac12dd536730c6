"""``digitpad eval`` (accuracy and confusion matrix on a test set) and ``digitpad predict`` (read image files)."""

from __future__ import annotations

import json
import sys

import numpy as np

from ..core.alphabets import ALPHABET_CLASSES as ALPHABET_LABELS
from .common import DATA_HELP, EXIT_FAILURE, EXIT_OK, load_data, resolve_model


def format_confusion(confusion) -> str:
    header = "true\\pred " + " ".join(f"{d:>5}" for d in range(10))
    rows = [f"{t:>9} " + " ".join(f"{int(c):>5}" for c in row) for t, row in enumerate(confusion)]
    return "\n".join([header, *rows])


def format_top_confusions(result, count: int = 10) -> str:
    confusion = result.confusion.copy()
    np.fill_diagonal(confusion, 0)
    order = np.argsort(confusion, axis=None)[::-1][:count]
    pairs = [np.unravel_index(i, confusion.shape) for i in order]
    return ", ".join(f"{result.classes[t]}->{result.classes[p]} {confusion[t, p]}" for t, p in pairs if confusion[t, p])


def cmd_eval(args) -> int:
    from ..core.evaluation import evaluate_checkpoint
    from ..core.checkpoints import load_checkpoint

    alphabet = "letters" if args.dataset in ("letters", "digits+letters") else "digits"
    model_path = resolve_model(args.model, alphabet)  # letters: the shipped letters model by default
    checkpoint = load_checkpoint(model_path)
    data = load_data(args.dataset, args.data)
    result = evaluate_checkpoint(checkpoint, data.test_images, data.test_labels, device=args.device, classes=data.classes)
    if args.json:
        print(json.dumps({"model": str(model_path), "dataset": args.dataset, **result.to_json()}))
        return EXIT_OK
    print(f"model   {model_path} ({checkpoint.arch}, trained on {checkpoint.meta.get('dataset')})")
    print(f"dataset {args.dataset} test set, {len(data.test_labels)} {'digits' if result.alphabet == 'digits' else 'drawings'}")
    print(f"accuracy {result.accuracy * 100:.2f}%  ({result.errors} errors)  confident on {result.confident_fraction * 100:.1f}%")
    if result.alphabet == "digits":
        print(format_confusion(result.confusion))
    else:
        print(f"case-insensitive {result.case_insensitive_accuracy * 100:.2f}%  (c/C, o/O, s/S ... differ only in size)")
        print(f"most frequent confusions: {format_top_confusions(result)}")
    return EXIT_OK


def cmd_predict(args) -> int:
    from ..core.inference import Predictor
    from ..core.preprocess import ImageReadError

    predictor = Predictor.from_file(resolve_model(args.model, args.alphabet), alphabet=args.alphabet)
    failures = 0
    for file in args.images:
        try:
            prediction = predictor.predict_file(file)
        except ImageReadError as error:
            failures += 1
            print(f"digitpad: {error}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": file, "digit": None, "confident": False, "probabilities": None,
                                  "label": None, "error": str(error)}))
            continue
        if args.json:
            print(json.dumps(prediction_json(file, prediction, args.alphabet)))
        elif prediction.empty:
            print(f"{file}: empty (nothing drawn)")
        else:
            unsure = "" if prediction.confident else f"  (unsure: may not be {'a digit' if args.alphabet == 'digits' else 'one character'})"
            ranked = np.argsort(prediction.probabilities)[::-1][: 10 if args.alphabet == "digits" else 5]
            if args.alphabet == "digits":
                ranked = range(10)
            listing = " ".join(f"{predictor.classes[i]}:{prediction.probabilities[i] * 100:.1f}%" for i in ranked)
            print(f"{file}: {prediction.shown} ({prediction.score * 100:.1f}%){unsure}\n    {listing}")
    return EXIT_FAILURE if failures else EXIT_OK


def prediction_json(file: str, prediction, alphabet: str) -> dict:
    """One line of ``predict --json``: the digits-era fields, plus ``label`` (the best class as text)
    and, beyond digits, probabilities keyed by label."""
    if prediction.probabilities is None:
        probabilities = None
    elif alphabet == "digits":
        probabilities = [round(float(p), 6) for p in prediction.probabilities]
    else:
        probabilities = {label: round(float(p), 6) for label, p in zip(ALPHABET_LABELS[alphabet], prediction.probabilities)}
    label = prediction.label
    digit = int(label) if label is not None and label.isdigit() else None
    line = {"file": file, "digit": digit, "confident": prediction.confident, "probabilities": probabilities, "label": label}
    if alphabet != "digits":
        line["alphabet"], line["shown"] = alphabet, prediction.shown
    return line


def add_commands(commands) -> None:
    """Add ``eval`` and ``predict`` to the ``digitpad`` parser."""
    evaluate = commands.add_parser("eval", help="accuracy and confusion matrix of a checkpoint on a test set")
    evaluate.add_argument("--model", help="checkpoint, or a shipped model's name (digitpad models) (default: the shipped model)")
    evaluate.add_argument("--dataset", choices=["mnist", "usps", "usps-seed", "pen", "mnist+pen", "letters", "digits+letters"], default="mnist")
    evaluate.add_argument("--data", help=DATA_HELP)
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=cmd_eval)

    predict = commands.add_parser("predict", help="read the digit in image files")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", help="checkpoint, or a shipped model's name (digitpad models) (default: the shipped model for the alphabet)")
    predict.add_argument("--alphabet", choices=["digits", "letters", "both"], default="digits",
                         help="what to read: digits (default), letters (a-z, A-Z) or both")
    predict.add_argument("--json", action="store_true", help="one JSON object per line per file")
    predict.set_defaults(func=cmd_predict)
