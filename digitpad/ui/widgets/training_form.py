"""The training form: dataset, model or recipe, optimizer, learning rate, batch size, epochs,
augmentation and device, read and written as one ``TrainConfig``.

Choosing a recipe (a preset) sets every field; choosing an architecture keeps the others. The
recipe's finer fields (schedule, weight decay, label smoothing, input scaling, sampling, per-layer
rates, loss) are in "Recipe details", folded away by default; fields without a control (seed,
validation share, ...) come from the last recipe and are kept.
"""

from __future__ import annotations

import copy
import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from ...core.config import INPUT_SCALINGS, LOSSES, OPTIMIZERS, SCHEDULES, TrainConfig
from ...core.datasets import DATASETS
from ...core.inference import available_devices, select_device
from ...core.models import MODELS
from ...core.presets import PRESETS
from .controls import add_header, named

DATASET_TITLES = {"mnist": "MNIST", "usps": "USPS", "usps-seed": "USPS (torch tutorial sheets)", "personal": "My digits",
                  "pen": "Pen digits", "mnist+pen": "MNIST + pen digits", "letters": "Pen letters",
                  "digits+letters": "Digits + letters"}
DATASET_TIPS = {
    "mnist+pen": "MNIST plus real pen digits drawn as on the pad, validated on other writers",
    "letters": "Real pen letters (UNIPEN a-z, A-Z) drawn as on the pad, validated on other sites",
    "digits+letters": "MNIST and pen digits with pen letters: train the 'digitpad-joint' model (a shared first layer)",
}
OPTIMIZER_TITLES = {
    "sgd": "SGD",
    "momentum": "SGD + momentum",
    "nesterov": "SGD + Nesterov momentum",
    "adam": "Adam",
    "adamw": "AdamW",
    "adadelta": "Adadelta",
}
SCHEDULE_TITLES = {"onecycle": "One-cycle", "step": "Step (x gamma per epoch)", "constant": "Constant",
                   "inverse-time": "Inverse time, T / (T + step)"}
SCALING_TITLES = {"standardize": "Standardize (train mean/std)", "unit": "Grey / 255 in [0, 1]"}
LOSS_TITLES = {"cross-entropy": "Cross-entropy", "clipped-cross-entropy": "Clipped cross-entropy (tflearn)"}
DEVICE_TITLES = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}


def _split_choice(data) -> tuple[str, str] | None:
    """'arch:lenet5' -> ('arch', 'lenet5'); None for a header."""
    if not data:
        return None
    kind, _, name = str(data).partition(":")
    return kind, name



class TrainingForm(QWidget):
    """The controls of a training run (``widgets``: each of them, to enable or disable as one)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._base = PRESETS["default"].make_config() if "default" in PRESETS else TrainConfig()
        self.dataset_choice = named(QComboBox(), "dataset_choice", "Dataset", "The digits to train on")
        names = ["mnist", "usps", "usps-seed", "personal", "pen", "mnist+pen", "letters", "digits+letters"]
        for name in names:
            self.dataset_choice.addItem(DATASET_TITLES.get(name, name), name)
            info = DATASETS.get(name)
            tip = info.description if info else DATASET_TIPS.get(name, "The digits you drew and labelled yourself")
            self.dataset_choice.setItemData(self.dataset_choice.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

        self.model_choice = named(QComboBox(), "model_choice", "Model or recipe",
                                  "An architecture (keeps the other settings) or a recipe (sets them all)")
        self.model_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_choice.setMinimumContentsLength(16)
        add_header(self.model_choice, "Architectures")
        for info in MODELS.values():
            self.model_choice.addItem(info.name, f"arch:{info.name}")
            self.model_choice.setItemData(self.model_choice.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        add_header(self.model_choice, "Recipes (set every field)")
        for preset in PRESETS.values():
            self.model_choice.addItem(f"{preset.name} (recipe)", f"preset:{preset.name}")
            self.model_choice.setItemData(self.model_choice.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.model_choice.view().setMinimumWidth(260)
        self.model_description = named(QLabel(), "model_description", "Model description")
        self.model_description.setWordWrap(True)
        font = self.model_description.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.model_description.setFont(font)

        self.optimizer_choice = named(
            QComboBox(), "optimizer_choice", "Optimizer", "How the weights are updated from the gradients"
        )
        for name in OPTIMIZERS:
            self.optimizer_choice.addItem(OPTIMIZER_TITLES.get(name, name), name)
        self.learning_rate = named(QDoubleSpinBox(), "learning_rate", "Learning rate",
                                   "Peak learning rate for one-cycle, initial for the other schedules")
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(1e-5, 10.0)
        self.learning_rate.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.batch_size = named(QSpinBox(), "batch_size", "Batch size", "Digits per optimizer step")
        self.batch_size.setRange(1, 4096)
        self.epochs = named(QSpinBox(), "epochs", "Epochs", "Passes over the training digits")
        self.epochs.setRange(1, 1000)
        self.augment = named(QCheckBox("Augmentation"), "augment", "Augmentation",
                             "Small random shifts, rotations and scalings of each training batch")
        self.device_choice = named(
            QComboBox(), "device_choice", "Training device", "Where training runs: Auto picks a GPU when there is one"
        )
        for name in available_devices():
            self.device_choice.addItem(DEVICE_TITLES.get(name, name), name)
        self.device_label = named(QLabel(), "device_label", "Chosen training device")
        self.device_choice.currentIndexChanged.connect(self._show_device)
        device_row = QHBoxLayout()
        device_row.addWidget(self.device_choice, 1)
        device_row.addWidget(self.device_label)

        details = self._recipe_details()

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Dataset", self.dataset_choice)
        form.addRow("Model", self.model_choice)
        form.addRow(self.model_description)
        form.addRow("Optimizer", self.optimizer_choice)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow(self.augment)
        form.addRow("Device", device_row)
        form.addRow(details)
        self.model_choice.currentIndexChanged.connect(self._on_model_chosen)

        self.widgets: list[QWidget] = [
            self.dataset_choice, self.model_choice, self.optimizer_choice, self.learning_rate,
            self.batch_size, self.epochs, self.augment, self.device_choice, *self.detail_widgets,
        ]
        self.set_config(self._base)

    def _recipe_details(self) -> QGroupBox:
        """The recipe's finer fields, in a group folded away until its title box is ticked: the seed
        presets set them, and a learner can see and change what each seed system did."""
        def combo(name, title, tip, values, titles):
            box = named(QComboBox(), name, title, tip)
            for value in values:
                box.addItem(titles.get(value, value), value)
            return box

        def spin(name, title, tip, low, high, decimals):
            box = named(QDoubleSpinBox(), name, title, tip)
            box.setRange(low, high)
            box.setDecimals(decimals)
            box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            return box

        self.schedule_choice = combo("schedule_choice", "Schedule", "How the learning rate changes over the run",
                                     SCHEDULES, SCHEDULE_TITLES)
        self.momentum = spin("momentum", "Momentum", "Momentum of the SGD optimizers", 0.0, 0.999, 3)
        self.weight_decay = spin("weight_decay", "Weight decay", "L2 penalty on the weights (not on biases or norms)",
                                 0.0, 1.0, 6)
        self.label_smoothing = spin("label_smoothing", "Label smoothing",
                                    "Share of each target spread over the other classes", 0.0, 0.5, 3)
        self.input_scaling = combo("input_scaling", "Input scaling", "How grey levels are scaled before the network",
                                   INPUT_SCALINGS, SCALING_TITLES)
        self.loss_choice = combo("loss_choice", "Loss", "The training loss", LOSSES, LOSS_TITLES)
        self.with_replacement = named(QCheckBox("Batches drawn with replacement"), "with_replacement",
                                      "Batches drawn with replacement", "Random examples each batch (torch5, Bastani-Wang)")
        self.fan_in_lr = named(QCheckBox("Rate / sqrt(fan-in) per layer"), "fan_in_lr", "Per-layer rate",
                               "Each layer's learning rate divided by the square root of its fan-in (seed 000)")
        self.detail_widgets = [self.schedule_choice, self.momentum, self.weight_decay, self.label_smoothing,
                               self.input_scaling, self.loss_choice, self.with_replacement, self.fan_in_lr]
        group = named(QGroupBox("Recipe details"), "recipe_details", "Recipe details",
                      "Tick to show the recipe's finer fields (a seed recipe sets them all)")
        group.setCheckable(True)
        group.setChecked(False)
        inner = QFormLayout(group)
        for title, widget in (("Schedule", self.schedule_choice), ("Momentum", self.momentum),
                              ("Weight decay", self.weight_decay), ("Label smoothing", self.label_smoothing),
                              ("Input scaling", self.input_scaling), ("Loss", self.loss_choice)):
            inner.addRow(title, widget)
        inner.addRow(self.with_replacement)
        inner.addRow(self.fan_in_lr)
        content = [group.layout().itemAt(i).widget() for i in range(group.layout().count())]
        group.toggled.connect(lambda shown: [w.setVisible(shown) for w in content if w is not None])
        for widget in content:
            if widget is not None:
                widget.setVisible(False)
        self.recipe_details = group
        return group

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls; fields without a control (schedule, ...) are kept."""
        self._base = dataclasses.replace(config, model_args=copy.deepcopy(config.model_args))
        widgets = [*self.widgets]
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._select_data(self.dataset_choice, config.dataset)
            self._select_data(self.model_choice, f"arch:{config.model}")
            self._select_data(self.optimizer_choice, config.optimizer)
            self.learning_rate.setValue(config.lr)
            self.batch_size.setValue(config.batch_size)
            self.epochs.setValue(config.epochs)
            self.augment.setChecked(config.augment)
            self._select_data(self.device_choice, config.device, fallback="auto")
            self._select_data(self.schedule_choice, config.schedule)
            self.momentum.setValue(config.momentum)
            self.weight_decay.setValue(config.weight_decay)
            self.label_smoothing.setValue(config.label_smoothing)
            self._select_data(self.input_scaling, config.input_scaling)
            self._select_data(self.loss_choice, config.loss)
            self.with_replacement.setChecked(config.sample_with_replacement)
            self.fan_in_lr.setChecked(config.fan_in_lr)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._show_description()
        self._show_device()

    def config(self) -> TrainConfig:
        """The run's configuration: the controls over the last recipe's other fields."""
        kind, name = _split_choice(self.model_choice.currentData()) or ("arch", self._base.model)
        model = name if kind == "arch" else self._base.model
        return dataclasses.replace(
            self._base,
            dataset=self.dataset_choice.currentData(),
            model=model,
            model_args=copy.deepcopy(self._base.model_args) if model == self._base.model else {},
            optimizer=self.optimizer_choice.currentData(),
            lr=float(self.learning_rate.value()),
            batch_size=int(self.batch_size.value()),
            epochs=int(self.epochs.value()),
            augment=self.augment.isChecked(),
            device=self.device_choice.currentData(),
            schedule=self.schedule_choice.currentData(),
            momentum=float(self.momentum.value()),
            weight_decay=float(self.weight_decay.value()),
            label_smoothing=float(self.label_smoothing.value()),
            input_scaling=self.input_scaling.currentData(),
            loss=self.loss_choice.currentData(),
            sample_with_replacement=self.with_replacement.isChecked(),
            fan_in_lr=self.fan_in_lr.isChecked(),
        )

    def choose(self, name: str) -> None:
        """Select an architecture or a recipe by name, as a click in ``model_choice`` would."""
        for kind in ("preset", "arch") if name in PRESETS else ("arch", "preset"):
            index = self.model_choice.findData(f"{kind}:{name}")
            if index >= 0:
                self.model_choice.setCurrentIndex(index)
                return
        raise KeyError(f"no model or recipe {name!r}")

    @staticmethod
    def _select_data(combo: QComboBox, value, fallback=None) -> None:
        index = combo.findData(value)
        if index < 0 and fallback is not None:
            index = combo.findData(fallback)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _on_model_chosen(self, index: int) -> None:
        data = _split_choice(self.model_choice.itemData(index))
        if not data:
            return
        kind, name = data
        if kind == "preset":
            self.set_config(PRESETS[name].make_config())
            self.model_choice.blockSignals(True)
            self.model_choice.setCurrentIndex(index)  # keep showing the recipe that was chosen
            self.model_choice.blockSignals(False)
        else:
            # An architecture keeps every other field; its own size arguments start from its defaults.
            current = self.config()
            self._base = dataclasses.replace(current, model=name, model_args=current.model_args if name == current.model else {})
        self._show_description()

    def _show_description(self) -> None:
        data = _split_choice(self.model_choice.currentData())
        if not data:
            self.model_description.setText("")
            return
        kind, name = data
        self.model_description.setText(PRESETS[name].description if kind == "preset" else MODELS[name].description)

    def _show_device(self, *_args) -> None:
        choice = self.device_choice.currentData() or "auto"
        try:
            device = str(select_device(choice))
        except ValueError:
            device = "unavailable"
        self.device_label.setText(f"→ {device}")
        self.device_label.setToolTip(f"Training will run on {device}")
