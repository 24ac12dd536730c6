"""What a model reads: digits (10 classes), letters (52: a-z then A-Z) or both (62).

A model's outputs are named by its checkpoint's ``classes``; an *alphabet* picks a subset of them
to read with (a joint digits-and-letters model reads digits only, letters only, or both). Reading
within an alphabet is a softmax over that alphabet's logits alone, which for the joint model is
exactly what each head was trained to give.

Some letters differ from their other case only in size (c/C, o/O, s/S ...). The pad scales every
drawing to the same box, as MNIST does, so size is gone by the time the network looks: those pairs
are read *case-merged* unless the network tells the two cases apart with confidence.
"""

from __future__ import annotations

import numpy as np

DIGITS = tuple("0123456789")
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz") + tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGITS_AND_LETTERS = DIGITS + LETTERS
ALPHABETS = ("digits", "letters", "both")
ALPHABET_CLASSES = {"digits": DIGITS, "letters": LETTERS, "both": DIGITS_AND_LETTERS}
# Letters whose capital is the small letter drawn bigger: after size normalisation only the writer's
# habits tell them apart.
SIZE_ONLY_CASES = frozenset("ckopsuvwxz")
# A case-merged reading keeps the exact case only when this share of the pair's probability is on it.
CASE_CONFIDENCE = 0.8
# Digits and letters that people write alike, with why: shown when Both reads one as the other.
LOOKALIKES = {
    frozenset("0Oo"): "0 and O are the same loop; a taller, narrower loop leans to 0",
    frozenset("1lI"): "1, l and I are one stroke; a flag or serifs decide, if drawn",
    frozenset("5S"): "S and 5 differ by the corner at the top left of a 5",
    frozenset("2Z"): "Z and 2 differ by the curve at the top of a 2",
    frozenset("8B"): "B and 8 differ by the straight stem on the left of a B",
    frozenset("9g"): "g and 9 differ by the hook under a g",
    frozenset("9q"): "q and 9 differ by the straight tail of a q",
    frozenset("6b"): "b and 6 differ by the tall straight stem of a b",
}


def classes_of(alphabet: str) -> tuple[str, ...]:
    if alphabet not in ALPHABET_CLASSES:
        raise ValueError(f"unknown alphabet {alphabet!r}; expected one of {', '.join(ALPHABETS)}")
    return ALPHABET_CLASSES[alphabet]


def alphabets_of(classes: tuple[str, ...]) -> tuple[str, ...]:
    """The alphabets a model with these output classes can read, its natural one first."""
    classes = tuple(classes)
    if classes == DIGITS_AND_LETTERS:
        return ("digits", "letters", "both")
    if classes == LETTERS:
        return ("letters",)
    if classes == DIGITS:
        return ("digits",)
    return ()


def class_indices(classes: tuple[str, ...], alphabet: str) -> np.ndarray:
    """Positions in ``classes`` (a model's outputs) of the alphabet's classes, in alphabet order."""
    position = {label: i for i, label in enumerate(classes)}
    wanted = classes_of(alphabet)
    missing = [label for label in wanted if label not in position]
    if missing:
        raise ValueError(f"a model for {len(classes)} classes cannot read {alphabet} (no {''.join(missing[:5])}…)")
    return np.asarray([position[label] for label in wanted], np.int64)


def case_twin(label: str) -> str | None:
    """The other case of a letter, or None for a digit."""
    if not label.isalpha():
        return None
    return label.swapcase()


def fold_case(label: str) -> str:
    return label.lower()


def case_insensitive_equal(true_labels, predicted_labels) -> np.ndarray:
    """Elementwise: the labels name the same letter in either case (digits must match exactly)."""
    return np.asarray([fold_case(t) == fold_case(p) for t, p in zip(true_labels, predicted_labels)], bool)


def case_merged_reading(labels: tuple[str, ...], probabilities: np.ndarray) -> tuple[str, float]:
    """(what the pad shows, its probability): the best class, or "o/O" with the pair's summed
    probability when the best is a size-only letter whose two cases are not told apart."""
    probabilities = np.asarray(probabilities, np.float64)
    best = int(probabilities.argmax())
    label = labels[best]
    twin = case_twin(label)
    if twin is None or label.lower() not in SIZE_ONLY_CASES or twin not in labels:
        return label, float(probabilities[best])
    pair = float(probabilities[best] + probabilities[labels.index(twin)])
    if pair > 0 and probabilities[best] / pair >= CASE_CONFIDENCE:
        return label, float(probabilities[best])
    return f"{label.lower()}/{label.upper()}", pair


def lookalike_note(first: str, second: str) -> str | None:
    """Why ``first`` and ``second`` are easily confused, when they are a known look-alike pair."""
    for group, why in LOOKALIKES.items():
        if first in group and second in group and first != second:
            return why
    return None


def reading_scores(classes: tuple[str, ...], probabilities: np.ndarray, true: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """For many readings at once, as ``case_merged_reading`` reads one: (score of what the pad would
    show (n,), whether that is right (n,) when ``true`` class indices are given). A case-merged
    reading is right when it names the true letter in either case."""
    probabilities = np.asarray(probabilities, np.float64)
    rows = np.arange(len(probabilities))
    best = probabilities.argmax(1) if len(probabilities) else np.zeros(0, np.int64)
    twin = np.asarray([_twin_index(classes, i) for i in range(len(classes))], np.int64)
    has_twin = twin[best] >= 0
    p_best = probabilities[rows, best]
    p_twin = np.where(has_twin, probabilities[rows, np.maximum(twin[best], 0)], 0.0)
    merged = has_twin & (p_best < CASE_CONFIDENCE * (p_best + p_twin))
    scores = np.where(merged, p_best + p_twin, p_best)
    if true is None:
        return scores, None
    true = np.asarray(true, np.int64)
    correct = (best == true) | (merged & (twin[best] == true))
    return scores, correct


def _twin_index(classes: tuple[str, ...], index: int) -> int:
    """The index of a size-only letter's other case in ``classes``, else -1."""
    label = classes[index]
    twin = case_twin(label)
    if twin is None or label.lower() not in SIZE_ONLY_CASES or twin not in classes:
        return -1
    return classes.index(twin)
