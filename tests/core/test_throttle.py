"""Flow control: a run's routine events merged to a bounded rate, order kept (core.throttle)."""

from __future__ import annotations

import numpy as np

from digitpad.core.events import EpochEnded, StepsEnded, WeightsSnapshot
from digitpad.core.throttle import EventThrottle


def test_event_throttle_merges_routine_events_and_keeps_order():
    now = [0.0]
    out = []
    throttle = EventThrottle(out.append, min_interval_s=0.05, clock=lambda: now[0])

    def steps(step, k):
        return StepsEnded(1, step, np.arange(k, dtype=np.float32), 0.1, 100.0, 1.0, 0.5)

    throttle.push(steps(2, 2))  # first one passes at once
    now[0] = 0.01
    throttle.push(steps(5, 3))
    throttle.push(WeightsSnapshot(1, 5, np.zeros((2, 3, 3), np.float32)))
    throttle.push(WeightsSnapshot(1, 6, np.ones((2, 3, 3), np.float32)))
    assert len(out) == 1
    throttle.push(EpochEnded(1, 0.5, 0.9, 0.4, 0.9, 0.1, 1.0, 1.0, True))  # flushes, then passes
    assert [type(e).__name__ for e in out] == ["StepsEnded", "StepsEnded", "WeightsSnapshot", "EpochEnded"]
    assert out[1].step == 5 and len(out[1].losses) == 3 and out[2].step == 6
    now[0] = 0.02
    throttle.push(steps(7, 1))
    throttle.push(steps(8, 1))
    throttle.flush()
    assert out[-1].step == 8 and len(out[-1].losses) == 2
