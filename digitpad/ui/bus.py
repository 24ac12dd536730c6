"""The app's signal hub: what the pad, the training panel and the viewers tell one another.

Every dock widget gets the window's ``AppBus``; emitters and listeners need not know each other.
All signals are emitted on the GUI thread (the workers' events are re-emitted here by
``ui.runs.RunController`` from queued connections), so slots may touch widgets directly.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppBus(QObject):
    """Signals
    -------
    modelChanged(Checkpoint): the pad's live model changed (opened, trained, fine-tuned).
    alphabetChanged(str): the pad reads "digits", "letters" or "both" now (``LiveModel.set_alphabet``,
        or a model that reads only another alphabet); emitted before that model's modelChanged.
    predictionChanged(Prediction): the pad read the current drawing (also when it became empty).
    trainingStarted(TrainConfig), trainingEvent(event), trainingFinished(Checkpoint or None):
        a training or fine-tuning run's trainer; ``event`` is a ``core.events.TrainingEvent``.
    runStarted(Run), runEvent(event), runEnded(Run): the training or fine-tuning run that
        ``ui.runs.RunController`` started, whoever asked; ``event`` is any ``core.events.RunEvent``
        of it. The Training dock draws these.
    exampleRequested(image, label): a viewer asks the pad to show this (s, s) float image.
    strokesRequested(strokes, label): a viewer asks the pad to draw these strokes ((k, 2) arrays in
        pad pixels, in drawing order) and read them as drawn there (a held-out pen digit).
    statusMessage(str): a line for the status bar.
    """

    modelChanged = Signal(object)
    alphabetChanged = Signal(str)
    predictionChanged = Signal(object)
    trainingStarted = Signal(object)
    trainingEvent = Signal(object)
    trainingFinished = Signal(object)
    runStarted = Signal(object)
    runEvent = Signal(object)
    runEnded = Signal(object)
    exampleRequested = Signal(object, object)
    strokesRequested = Signal(object, object)
    statusMessage = Signal(str)
