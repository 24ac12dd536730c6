"""Letters beside digits (issue 13): alphabets and case merging, the pen letters loader and its
site split, the joint model's shared first layer, its training and checkpoint, reading by alphabet,
``predict --alphabet`` and old digits-only checkpoints reading as before."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import torch
from PIL import Image

from digitpad import cli
from digitpad.core import alphabets, letters, pen
from digitpad.core.alphabets import DIGITS, DIGITS_AND_LETTERS, LETTERS
from digitpad.core.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from digitpad.core.config import TrainConfig
from digitpad.core.datasets import DigitData
from digitpad.core.evaluation import evaluate_checkpoint
from digitpad.core.inference import Predictor, default_model_path
from digitpad.core.models import adapt_state, build_model, feature_layers, first_layer_kernels, inference_copy
from digitpad.core.trainer import train_to_end


# --- alphabets ------------------------------------------------------------------------------------
def one_hot(classes, weights: dict[str, float]) -> np.ndarray:
    probs = np.zeros(len(classes))
    for label, p in weights.items():
        probs[classes.index(label)] = p
    return probs


def test_alphabets_name_their_classes_and_positions():
    assert len(LETTERS) == 52 and LETTERS[0] == "a" and LETTERS[26] == "A"
    assert alphabets.alphabets_of(DIGITS_AND_LETTERS) == ("digits", "letters", "both")
    assert alphabets.alphabets_of(LETTERS) == ("letters",)
    assert alphabets.alphabets_of(tuple("abc")) == ()
    assert list(alphabets.class_indices(DIGITS_AND_LETTERS, "letters")[:2]) == [10, 11]
    with pytest.raises(ValueError, match="cannot read letters"):
        alphabets.class_indices(DIGITS, "letters")


def test_size_only_cases_are_merged_unless_told_apart():
    assert alphabets.case_merged_reading(LETTERS, one_hot(LETTERS, {"o": 0.55, "O": 0.45})) == ("o/O", 1.0)
    assert alphabets.case_merged_reading(LETTERS, one_hot(LETTERS, {"O": 0.9, "o": 0.1})) == ("O", 0.9)
    # a/A look different: never merged, however close
    assert alphabets.case_merged_reading(LETTERS, one_hot(LETTERS, {"a": 0.5, "A": 0.5}))[0] == "a"
    probs = np.stack([one_hot(LETTERS, {"s": 0.6, "S": 0.4}), one_hot(LETTERS, {"a": 0.7, "A": 0.3})])
    scores, correct = alphabets.reading_scores(LETTERS, probs, np.array([LETTERS.index("S"), LETTERS.index("A")]))
    assert scores.tolist() == pytest.approx([1.0, 0.7]) and correct.tolist() == [True, False]


def test_lookalikes_are_explained_both_ways():
    assert "loop" in alphabets.lookalike_note("0", "O") and alphabets.lookalike_note("O", "0")
    assert alphabets.lookalike_note("5", "S") and alphabets.lookalike_note("7", "T") is None


# --- the pen letters ------------------------------------------------------------------------------
def write_letters(folder, records_by_file: dict[str, list[dict]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in records_by_file.items():
        with gzip.open(folder / name, "wt") as handle:
            handle.write("\n".join(json.dumps(r) for r in records) + "\n")


def test_letters_loader_keeps_letters_and_counts_the_rest(tmp_path, monkeypatch):
    stroke = [[[0, 100], [50, 0], [100, 100]]]
    write_letters(tmp_path / "pen", {
        letters.UPPERCASE_FILE: [{"label": "A", "site": "ibm", "writer": "ibm/1", "strokes": stroke},
                                 {"label": "7", "site": "ibm", "writer": "ibm/1", "strokes": stroke},  # not a letter
                                 {"label": "AB", "site": "ibm", "writer": "ibm/1", "strokes": stroke}],
        letters.LOWERCASE_FILE: [{"label": "z", "site": "kai", "writer": "kai/2", "strokes": stroke},
                                 {"label": "q", "site": "kai", "writer": "kai/2", "strokes": [[]]}],
    })
    monkeypatch.setattr(letters, "LETTER_FILES", {name: None for name in letters.LETTER_FILES})
    monkeypatch.setattr("digitpad.core.datasets.sha256_of", lambda path: None)
    read, reports = letters.load_pen_letters(tmp_path)
    assert [(DIGITS_AND_LETTERS[r.label], r.site) for r in read] == [("A", "ibm"), ("z", "kai")]
    assert sum(r.total_skipped for r in reports) == 2  # "AB" and the inkless q; the 7 is read and dropped
    assert str(reports[1]) == "unipen: 1 letters read, 1 skipped (1 no ink)"


def test_missing_letter_files_name_the_file(tmp_path):
    with pytest.raises(Exception, match=letters.UPPERCASE_FILE):
        letters.letter_files(tmp_path)


def test_letters_follow_their_sites_digits_into_the_same_part():
    def record(site, label=10):
        return pen.PenDigit(label, f"{site}/w", pen.UNIPEN_SOURCE, site, (np.zeros((2, 2)),))

    digit_parts = {"train": [record("ibm", 1)], "val": [record("aga", 2)], "test": [record("app", 3)]}
    parts = letters.split_letters_by_site([record("app"), record("aga"), record("ibm"), record("kai")], digit_parts)
    assert {name: [r.site for r in part] for name, part in parts.items()} == {
        "train": ["ibm", "kai"], "val": ["aga"], "test": ["app"]}


# --- the joint model --------------------------------------------------------------------------------
def test_the_first_layer_is_one_module_a_letter_step_changes_what_the_digit_head_sees():
    torch.manual_seed(0)
    model = build_model("digitpad-joint", both_weight=0.0)  # the seed's loss: each head its own
    assert first_layer_kernels(model).shape[0] == model.shared[0].out_channels
    assert not any(name.startswith(("digits.0.", "letters.0.")) and "weight" in name and p.dim() == 4
                   for name, p in model.named_parameters())  # neither network has a first conv of its own
    x = torch.randn(8, 1, 28, 28)
    model.eval()
    before = model(x)[:, :10].detach().clone()
    model.train()
    letters_only = torch.full((8,), 10 + LETTERS.index("L"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.head_loss(model(x), letters_only).backward()
    assert model.digits[-1].weight.grad is None or not model.digits[-1].weight.grad.any()  # no digit loss
    optimizer.step()
    model.eval()
    assert not torch.allclose(model(x)[:, :10], before)  # only through the shared layer


def test_without_sharing_a_letter_step_leaves_the_digit_network_alone():
    torch.manual_seed(0)
    model = build_model("digitpad-joint", shared=False, both_weight=0.0)
    assert model.shared is None and isinstance(model.digits[0], torch.nn.Conv2d)  # each network its own
    before = {name: p.detach().clone() for name, p in model.digits.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.head_loss(model(torch.randn(8, 1, 28, 28)), torch.full((8,), 20)).backward()
    optimizer.step()
    assert all(torch.equal(p, before[name]) for name, p in model.digits.named_parameters())
    assert not torch.equal(model.letters[0].weight, model.digits[0].weight)


def test_head_loss_is_each_examples_own_heads_cross_entropy():
    model = build_model("digitpad-joint", both_weight=0.0)
    logits = torch.randn(4, 62)
    labels = torch.tensor([3, 15, 61, 0])
    expected = torch.stack([
        torch.nn.functional.cross_entropy(logits[i, :10] if labels[i] < 10 else logits[i, 10:],
                                          labels[i] if labels[i] < 10 else labels[i] - 10, reduction="sum")
        for i in range(4)]).sum() / 4
    assert model.head_loss(logits, labels) == pytest.approx(float(expected), rel=1e-5)


def test_a_digits_checkpoint_starts_the_joint_model_reading_digits_as_it_did():
    torch.manual_seed(0)
    digits = build_model("digitpad").eval()
    for module in digits.modules():  # non-trivial BatchNorm statistics
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
    joint = build_model("digitpad-joint")
    joint.load_state_dict(adapt_state(joint, digits.state_dict()))
    joint.eval()
    x = torch.randn(5, 1, 28, 28)
    assert torch.allclose(joint(x)[:, :10], digits(x), atol=1e-5)
    assert torch.equal(joint.letters[1].weight, joint.digits[1].weight)  # letters start from digit features
    assert torch.allclose(inference_copy(joint)(x), joint(x), atol=1e-4)


def test_feature_layers_follow_the_alphabets_network():
    model = build_model("digitpad-joint")
    digit_layers = dict(feature_layers(model, "digits"))
    letter_layers = dict(feature_layers(model, "letters"))
    assert list(digit_layers) == list(letter_layers) == ["conv1", "conv2", "conv3"]
    assert digit_layers["conv1"] is letter_layers["conv1"]  # the shared layer
    assert digit_layers["conv2"] is not letter_layers["conv2"]


# --- training, checkpoints, reading ---------------------------------------------------------------------
def bars(label: int) -> np.ndarray:
    """A 28x28 uint8 image that identifies ``label`` (0-61): a row and a column of ink."""
    image = np.zeros((28, 28), np.uint8)
    image[4 + label % 20, 4:24] = 255
    image[4:24, 4 + (label // 3) % 20] = 255
    return image


@pytest.fixture(scope="module")
def joint_checkpoint(tmp_path_factory):
    rng = np.random.default_rng(0)

    def part(n):
        labels = rng.integers(0, 62, n)
        return np.stack([bars(int(label)) for label in labels]), labels

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = part(620), part(248), part(124)
    data = DigitData("digits+letters", train_x, train_y, test_x, test_y, val_images=val_x, val_labels=val_y,
                     classes=DIGITS_AND_LETTERS)
    config = TrainConfig(model="digitpad-joint", dataset="digits+letters", epochs=1, batch_size=31, threads=1,
                         augment=False, model_args={"width": 8, "hidden": 32})
    trainer, events = train_to_end(config, data)
    path = save_checkpoint(trainer.checkpoint, tmp_path_factory.mktemp("joint") / "joint.safetensors")
    return path, data


def test_the_joint_checkpoint_round_trips_with_its_alphabets_and_calibration(joint_checkpoint):
    path, data = joint_checkpoint
    checkpoint = load_checkpoint(path)
    assert checkpoint.arch == "digitpad-joint" and checkpoint.classes == DIGITS_AND_LETTERS
    assert checkpoint.alphabets == ("digits", "letters", "both") and checkpoint.meta["shared_first_layer"]
    assert set(checkpoint.meta["calibration"]) == {"digits", "letters", "both"}
    metrics = checkpoint.meta["alphabet_metrics"]
    assert metrics["test_letters_case_insensitive"] >= metrics["test_letters_accuracy"]
    model = checkpoint.build_model()
    x = torch.from_numpy(data.test_images[:4]).float().unsqueeze(1)
    again = load_checkpoint(path).build_model()
    assert torch.equal(model(x), again(x))


def test_predictor_reads_each_alphabet_with_its_own_classes(joint_checkpoint):
    path, data = joint_checkpoint
    image = data.test_images[0] / 255.0
    for alphabet, count in (("digits", 10), ("letters", 52), ("both", 62)):
        predictor = Predictor.from_file(path, alphabet=alphabet)
        prediction = predictor.predict_image(image)
        assert prediction.probabilities.shape == (count,)
        assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert prediction.label == predictor.classes[prediction.digit]
        assert prediction.label in alphabets.classes_of(alphabet)
    digits = Predictor.from_file(path, alphabet="digits")
    assert digits.temperature == load_checkpoint(path).meta["calibration"]["digits"]["temperature"]


def test_a_letters_only_model_refuses_to_read_digits(joint_checkpoint, tmp_path):
    path, _ = joint_checkpoint
    checkpoint = load_checkpoint(path)
    checkpoint.meta["classes"] = list(LETTERS)
    with pytest.raises(ValueError, match="not digits"):
        Predictor(checkpoint, alphabet="digits")


def test_eval_reads_a_letters_test_set_with_the_letter_head(joint_checkpoint):
    path, data = joint_checkpoint
    is_letter = data.test_labels >= 10
    result = evaluate_checkpoint(load_checkpoint(path), data.test_images[is_letter], data.test_labels[is_letter] - 10,
                                 classes=LETTERS)
    assert result.probabilities.shape == (int(is_letter.sum()), 52) and result.confusion.shape == (52, 52)
    assert result.case_insensitive_accuracy >= result.accuracy
    assert result.to_json()["alphabet"] == "letters"


def test_a_digits_model_cannot_evaluate_letters():
    with pytest.raises(CheckpointError, match="reads digits"):
        evaluate_checkpoint(load_checkpoint(default_model_path()), np.zeros((1, 28, 28), np.uint8), np.zeros(1, int),
                            classes=LETTERS)


def write_png(path, image_u8) -> str:
    Image.fromarray(image_u8).save(path)
    return str(path)


def test_predict_alphabet_json_keys_probabilities_by_label(tmp_path, joint_checkpoint, capsys):
    path, data = joint_checkpoint
    drawn = write_png(tmp_path / "drawn.png", 255 - data.test_images[0])
    assert cli.main(["predict", "--json", "--alphabet", "letters", "--model", str(path), drawn]) == 0
    line = json.loads(capsys.readouterr().out)
    assert set(line) >= {"file", "digit", "confident", "probabilities", "label"}
    assert list(line["probabilities"]) == list(LETTERS) and line["label"] in LETTERS and line["digit"] is None
    assert line["probabilities"][line["label"]] == max(line["probabilities"].values())
    assert cli.main(["predict", "--json", "--alphabet", "digits", "--model", str(path), drawn]) == 0
    line = json.loads(capsys.readouterr().out)
    assert len(line["probabilities"]) == 10 and line["label"] == str(line["digit"])


def test_old_digits_checkpoints_read_as_before(tmp_path, capsys):
    checkpoint = load_checkpoint(default_model_path())
    assert checkpoint.alphabets == ("digits",) and "classes" not in checkpoint.meta
    predictor = Predictor(checkpoint)
    assert predictor.alphabet == "digits" and predictor.columns is None
    assert predictor.temperature == checkpoint.meta["temperature"] and predictor.threshold == checkpoint.meta["threshold"]
    seven = np.zeros((28, 28), np.float32)
    seven[6, 8:21] = 1.0
    for row in range(6, 23):
        seven[row, 20 - (row - 6) // 2 : 22 - (row - 6) // 2] = 1.0
    prediction = predictor.predict_image(seven)
    assert prediction.label == str(prediction.digit) == prediction.shown
    drawn = write_png(tmp_path / "seven.png", (255 - seven * 255).astype(np.uint8))
    assert cli.main(["predict", "--json", drawn]) == 0
    line = json.loads(capsys.readouterr().out)
    assert list(line) == ["file", "digit", "confident", "probabilities", "label"]
    assert line["digit"] == prediction.digit and len(line["probabilities"]) == 10


# --- the seed's claim, measured ------------------------------------------------------------------------
def synthetic_digits_and_letters(n_train=620, seed=0) -> DigitData:
    rng = np.random.default_rng(seed)

    def part(n):
        labels = rng.integers(0, 62, n)
        return np.stack([bars(int(label)) for label in labels]), labels

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = part(n_train), part(186), part(124)
    return DigitData("digits+letters", train_x, train_y, test_x, test_y, val_images=val_x, val_labels=val_y,
                     classes=DIGITS_AND_LETTERS)


def test_shared_first_layer_experiment_writes_a_row_per_variant(tmp_path, monkeypatch, capsys):
    from digitpad.cli import experiment as experiment_cli
    from digitpad.experiments import shared_layer

    data = synthetic_digits_and_letters()
    alone = shared_layer.letters_only(data)
    assert alone.classes == LETTERS and alone.train_labels.max() < 52
    assert len(alone.train_labels) == int((data.train_labels >= 10).sum())
    monkeypatch.setattr(experiment_cli, "_load_data", lambda name, root: data)
    code = cli.main(["experiment", "shared-first-layer", "--out", str(tmp_path), "--values", "0.5", "--epochs", "1",
                     "--seeds", "0,1", "--no-plot"])
    assert code == 0
    import csv

    rows = list(csv.DictReader(open(tmp_path / "shared-first-layer.csv")))
    assert [(r["variant"], r["seed"]) for r in rows] == [(v, s) for s in "01" for v in ("shared", "separate", "letters-alone")]
    # Another seed is another run: its three variants' readings cannot all match (one accuracy alone can,
    # near chance on 110 letters after one epoch).
    readings = ("digits_test_accuracy", "letters_test_accuracy", "letters_case_insensitive")
    assert [[r[k] for k in readings] for r in rows[:3]] != [[r[k] for k in readings] for r in rows[3:]]
    shared, separate, letters_alone = rows[:3]
    assert int(shared["parameters"]) < int(separate["parameters"])  # one first layer fewer
    assert shared["train_letters"] == separate["train_letters"]
    assert abs(int(letters_alone["train_letters"]) - int(shared["train_letters"])) <= 0.2 * int(shared["train_letters"])
    assert letters_alone["digits_test_accuracy"] == "" and shared["digits_test_accuracy"] != ""
    for row in rows:
        assert 0.0 <= float(row["letters_test_accuracy"]) <= float(row["letters_case_insensitive"]) <= 1.0


# --- drawing many pen records is cached ------------------------------------------------------------------
def test_big_renders_are_cached_and_a_damaged_cache_is_drawn_again(monkeypatch):
    from tests.core.test_pen import template_digit

    records = [template_digit(i % 10, writer=f"w/{i}") for i in range(12)]
    monkeypatch.setattr(pen, "CACHE_MIN_DRAWINGS", 10)
    first = pen.render_digits(records, seed=3)
    path = pen._render_cache_path(records, 3, 1, 0.0, pen.preprocess.MNIST_SPEC)
    assert path.is_file()
    calls = []
    monkeypatch.setattr(pen, "_render_uncached", lambda *a: calls.append(a) or first)
    again = pen.render_digits(records, seed=3)
    assert calls == [] and np.array_equal(again[0], first[0]) and np.array_equal(again[1], first[1])
    path.write_bytes(b"damaged")
    pen.render_digits(records, seed=3)
    assert len(calls) == 1
    pen.render_digits(records, seed=4)  # another seed is another drawing
    assert len(calls) == 2


def test_eval_letters_uses_the_shipped_letters_model_by_default(monkeypatch, capsys):
    from digitpad.cli import evaluate as evaluate_cli
    from digitpad.experiments.shared_layer import letters_only

    data = letters_only(synthetic_digits_and_letters())
    monkeypatch.setattr(evaluate_cli, "load_data", lambda name, root, download=True: data)
    assert cli.main(["eval", "--dataset", "letters", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == str(default_model_path("letters")) and result["alphabet"] == "letters"
    assert result["count"] == len(data.test_labels) and len(result["confusion"]) == 52


def test_shared_layer_plot_shows_the_mean_and_range_over_seeds():
    from digitpad.experiments.plots import _mean_and_range

    runs = [{"letters_test_accuracy": "0.70", "digits_test_accuracy": ""},
            {"letters_test_accuracy": "0.80", "digits_test_accuracy": ""}]
    mean, low, high = _mean_and_range(runs, ["letters_test_accuracy", "digits_test_accuracy"])
    assert mean.tolist() == pytest.approx([75.0, 0.0]) and low.tolist() == pytest.approx([70.0, 0.0])
    assert high.tolist() == pytest.approx([80.0, 0.0])


def test_personal_fine_tuning_refuses_a_letters_model():
    from digitpad.core.finetune import Finetuner
    from tests.fixtures import synthetic_digits

    joint = load_checkpoint(default_model_path("letters"))
    digits = synthetic_digits(n_train=20, n_test=10)
    with pytest.raises(ValueError, match="personal digits fine-tune a digits-only model"):
        Finetuner(joint, digits, digits)


def test_shared_layer_experiment_refuses_seeds_that_are_not_whole_numbers(tmp_path, capsys):
    assert cli.main(["experiment", "shared-first-layer", "--out", str(tmp_path), "--seeds", "0.5"]) == 1
    assert "--seeds takes comma-separated whole numbers" in capsys.readouterr().err
