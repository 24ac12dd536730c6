"""Flow control for a run's events: however fast a run reports, its receiver gets a bounded rate.

The core's ``Trainer`` already reports ``StepsEnded`` at most ~20 times a second. ``EventThrottle``
guarantees it whatever the data and model: batches reported faster are merged (losses
concatenated) and weight snapshots arriving faster keep only the latest, so a receiver never gets
more than ~``MAX_EVENTS_PER_S`` routine events a second. Everything else (epoch ends, pause,
evaluation, the end) passes at once, after what is pending, so order is kept. Qt-free: the UI's
workers push a run's events through one on the worker thread.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np

from .events import StepsEnded, WeightsSnapshot

MAX_EVENTS_PER_S = 20  # routine events (batch losses, snapshots) a receiver gets at most


def merge_steps(first: StepsEnded, second: StepsEnded) -> StepsEnded:
    """One report covering both: losses concatenated, everything else from the later one."""
    return replace(second, losses=np.concatenate([first.losses, second.losses]))


class EventThrottle:
    """Passes events to ``emit``, merging routine ones that come faster than ``min_interval_s``.

    ``StepsEnded`` are merged (no loss is lost), ``WeightsSnapshot`` keep the latest; any other
    event flushes what is pending first, so order is kept. Call ``flush()`` at the end.
    """

    def __init__(self, emit: Callable[[object], None], min_interval_s: float = 1 / MAX_EVENTS_PER_S, clock=time.perf_counter):
        self._emit = emit
        self._interval = min_interval_s
        self._clock = clock
        self._last = -float("inf")
        self._steps: StepsEnded | None = None
        self._snapshot: WeightsSnapshot | None = None

    def push(self, event: object) -> None:
        if isinstance(event, StepsEnded):
            self._steps = event if self._steps is None else merge_steps(self._steps, event)
        elif isinstance(event, WeightsSnapshot):
            self._snapshot = event
        else:
            self.flush()
            self._emit(event)
            return
        if self._clock() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        if self._steps is None and self._snapshot is None:
            return
        steps, snapshot = self._steps, self._snapshot
        self._steps = self._snapshot = None
        self._last = self._clock()
        if steps is not None:
            self._emit(steps)
        if snapshot is not None:
            self._emit(snapshot)
