"""The pad's correction bar: "Correct!" or "That's a N" keeps the drawing in My digits, with its label.

It sits under the reading (``DockContext.add_pad_widget``) and is enabled only while the pad shows a
non-empty reading. A click stores what the network read, exactly as it was fed to it (the prepared
28x28 image of the pad's ``model.last_prediction``), the canvas strokes when the drawing is vector
(x, y, seconds, pressure per point; none for an opened image or an erased drawing), the label and
what the model said. Then it clears the pad for the next digit: the usual rhythm is draw, label,
draw, and Undo (Ctrl+Z) brings a drawing back when wanted. Until the pad shows a new reading the
buttons stay disabled, so a double click cannot store a drawing twice.

My digits holds digits only, so the bar follows what the pad reads: in Letters mode it is disabled,
its tooltip saying why; in Both mode "That's a N" stays (a drawing read as a letter may well be your
digit), and "Correct!" only when the reading is a digit.

Where and how the digits are stored is the job of ``ui.personal_digits.PersonalDigits`` (passed
in): this widget only turns clicks into ``digits.add(...)``.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from ..personal_digits import PersonalDigits

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# One row, so the pad's right column grows by one button's height only, and its narrowest width by
# ~40 px (the window must still fit an 800x600 screen). The "or it's a:" prompt shows only where
# there is room for it; the tooltips say the same.
DIGIT_BUTTON_PX = 24
LETTERS_TIP = "My digits keeps digits only: choose Digits or Both beside the chart to teach the model your digits"
LETTER_READING_TIP = "The pad read a letter, and My digits keeps digits only: if it is a digit, click it on the right"


def reads_a_digit(prediction) -> bool:
    """Whether the pad's reading is a digit (a digits model's always is)."""
    return prediction.label is not None and prediction.label.isdigit()


def digit_count_text(digit: int, count: int) -> str:
    """'12 sevens', '1 seven', '0 sixes'."""
    name = DIGIT_NAMES[digit]
    if count == 1:
        return f"1 {name}"
    return f"{count} {name + 'es' if name.endswith('x') else name + 's'}"


class _Prompt(QLabel):
    """A label that never makes its layout wider: it takes its width only where there is room."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(0, super().minimumSizeHint().height())


class CorrectionBar(QWidget):
    """"Correct!" and ten "That's a N" buttons under the pad's reading.

    Events
    ------
    saved(Entry): a drawing was stored (GUI thread). ``bus.statusMessage`` also gets
    "Saved as 7 in My digits (12 sevens)".
    """

    saved = Signal(object)

    def __init__(self, context, digits: PersonalDigits, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("correction_bar")
        self.setAccessibleName("Correct the reading")
        self.bus, self.canvas = context.bus, context.canvas
        self.model = context.model
        self._letters_mode = False  # the tooltips say why the bar is off
        self.digits = digits
        self._prediction = None  # the reading the buttons would label; None: nothing to label

        self.confirm_button = QPushButton("Correct!")
        self.confirm_button.setObjectName("confirm_button")
        self.confirm_button.setAccessibleName("The reading is correct")
        self.confirm_button.setToolTip("The reading is right: save this drawing with its digit in My digits")
        self.confirm_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.confirm_button.clicked.connect(self.confirm)
        self.prompt = _Prompt("or it's a:")
        self.prompt.setAccessibleName("Or the right digit is")
        self.digit_buttons: list[QToolButton] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.confirm_button)
        layout.addSpacing(4)
        layout.addWidget(self.prompt)
        for digit in range(10):
            button = QToolButton()
            button.setText(str(digit))
            button.setObjectName(f"correct_{digit}")
            button.setAccessibleName(f"That's a {digit}")
            button.setToolTip(f"That's a {digit}: save this drawing as {digit} in My digits")
            button.setFixedWidth(DIGIT_BUTTON_PX)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # keep the keyboard (Esc, Ctrl+Z) on the pad
            button.clicked.connect(lambda checked=False, d=digit: self.correct(d))
            layout.addWidget(button)
            self.digit_buttons.append(button)
        layout.addStretch(1)
        self._set_enabled(False)
        context.bus.predictionChanged.connect(self._on_prediction_changed)
        context.bus.alphabetChanged.connect(lambda _alphabet: self._set_enabled(self._prediction is not None))
        self._on_prediction_changed(context.model.last_prediction)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # The prompt adds nothing to the bar's minimum width, so showing or hiding it never resizes
        # the bar: show it whole, or not at all.
        room = self.prompt.sizeHint().width() + self.layout().spacing()
        self.prompt.setVisible(self.minimumSizeHint().width() + room <= event.size().width())
        super().resizeEvent(event)

    # --- state --------------------------------------------------------------------------------

    def _on_prediction_changed(self, prediction) -> None:
        self._prediction = prediction if prediction is not None and not prediction.empty else None
        self._set_enabled(self._prediction is not None)

    def _set_enabled(self, on: bool) -> None:
        letters = getattr(self.model, "alphabet", "digits") == "letters"
        if letters != self._letters_mode:
            self._explain(letters)
        on = on and not letters
        digit_reading = on and self._prediction is not None and reads_a_digit(self._prediction)
        self.confirm_button.setEnabled(digit_reading)
        for button in self.digit_buttons:
            button.setEnabled(on)
        if digit_reading:
            self.confirm_button.setToolTip(
                f"The reading is right: save this drawing as {self._prediction.label} in My digits"
            )
        elif on:
            self.confirm_button.setToolTip(LETTER_READING_TIP)

    def _explain(self, letters: bool) -> None:
        """The tooltips say why the bar is off in Letters mode (a disabled button still shows its tooltip)."""
        self._letters_mode = letters
        self.setToolTip(LETTERS_TIP if letters else "")
        self.confirm_button.setToolTip(LETTERS_TIP if letters else "The reading is right: save this drawing with its digit in My digits")
        for digit, button in enumerate(self.digit_buttons):
            button.setToolTip(LETTERS_TIP if letters else f"That's a {digit}: save this drawing as {digit} in My digits")

    # --- actions ------------------------------------------------------------------------------

    def confirm(self) -> bool:
        """The reading is right: store the drawing with the digit the network read."""
        if self._prediction is None or not reads_a_digit(self._prediction):
            return False
        return self.correct(int(self._prediction.label))

    def correct(self, digit: int) -> bool:
        """Store the drawing on the pad as ``digit``; False when there is nothing to store or the
        write failed (the drawing then stays on the pad and the status bar says why)."""
        prediction = self._prediction
        if prediction is None or getattr(self.model, "alphabet", "digits") == "letters":
            return False
        canvas = self.canvas
        strokes = None
        if canvas.vector_strokes() is not None:  # drawn, not an opened image or an erased drawing
            strokes = [stroke.as_array() for stroke in canvas.strokes if not stroke.erase]
        try:
            entry = self.digits.add(prediction, digit, strokes)
        except (OSError, ValueError) as error:
            self.bus.statusMessage.emit(f"Could not save the drawing in My digits: {error}")
            return False
        # Until the pad reads something new, there is nothing (else) to label.
        self._prediction = None
        self._set_enabled(False)
        count = int(self.digits.counts()[digit])
        self.bus.statusMessage.emit(f"Saved as {digit} in My digits ({digit_count_text(digit, count)})")
        self.saved.emit(entry)
        canvas.clear()
        return True
