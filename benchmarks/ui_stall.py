"""Does training inside the app keep the window responsive? GUI-thread lateness during a real CPU run.

The whole app runs offscreen (the main window with every dock). A 10 ms precise QTimer measures the
event loop's lateness (how long after its due time each tick runs), and strokes are replayed into
the pad as queued mouse events at 125 Hz, measuring stroke-to-chart latency: from a mouse event
being posted to ``window.predict_now`` having updated the probability chart (the window reads the
drawing at most once per 16 ms frame, so a change can wait for the next frame by design).

Phases: the idle app, alone and with strokes (``--seconds`` each); then the process's first
training run, started with the panel's Train button (digitpad's default recipe, torch threads at
their default: all cores but one) and measured from just before the click for ``--from-click``
seconds, start-up included, as a new user meets it; the same run in its stride, alone and with
strokes; a second run with strokes from before its click; the window closed mid-run (the clean
stop, timed); finally the same training on a bare Python thread with no UI (the floor this machine
allows). Every tick more than a 60 Hz frame late is a stall: it is listed with its time after the
click, how much of it a full garbage collection took, and where the other threads were just after
it (what held the GIL is usually still on top). The GUI thread's CPU share and the training UI's
handler times are printed too: unlike lateness, they do not depend on what else the machine runs.

Data: the real MNIST when ``DIGITPAD_DATA`` is set (or ``--data``), else a synthetic stand-in of
the same size class (font digits, tiled). Target: from the click on, lateness p99 <= 5 ms and
max <= 16.7 ms (one frame), with and without drawing.

    QT_QPA_PLATFORM=offscreen DIGITPAD_DATA=/work/shared/data .venv/bin/python benchmarks/ui_stall.py
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = tempfile.mkdtemp(prefix="digitpad-ui-stall-")
for _var in ("XDG_CONFIG_HOME", "DIGITPAD_HOME"):  # never touch the user's settings or digits
    os.environ[_var] = str(Path(_HOME) / _var.lower())

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402

TICK_MS = 10
STROKE_EVENT_MS = 8  # 125 Hz: a typical mouse report rate
STROKE_POINTS = 30
STROKE_GAP_MS = 250


def percentiles(values_s) -> str:
    if not len(values_s):
        return "no samples"
    ms = np.asarray(values_s) * 1000
    return f"n={len(ms):5d}  p50 {np.percentile(ms, 50):6.2f}  p99 {np.percentile(ms, 99):6.2f}  max {ms.max():6.2f} ms"


def wait_until(condition, timeout_s: float, poll_ms: int = 20) -> bool:
    """Run the event loop until ``condition()`` holds (no sleeping: timers and signals keep running)."""
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if condition() else None)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    if condition():
        return True
    poll.start(poll_ms)
    deadline.start(int(timeout_s * 1000))
    loop.exec()
    poll.stop()
    deadline.stop()
    return bool(condition())


def run_for(seconds: float) -> None:
    """Run the event loop (exec, as the app does) for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


class Timed:
    """Wraps a GUI-thread callable and records how long each call takes (the UI's own work)."""

    def __init__(self, function):
        self.function = function
        self.durations: list[float] = []

    def __call__(self, *args):
        start = time.perf_counter()
        try:
            return self.function(*args)
        finally:
            self.durations.append(time.perf_counter() - start)

    def take(self) -> list[float]:
        samples, self.durations = self.durations, []
        return samples


FRAME_S = 1 / 60  # a tick later than one 60 Hz frame is a stall a user can see


def thread_stacks() -> str:
    """Where every other thread is (innermost digitpad/torch frames), to find what held the GUI up."""
    main = threading.main_thread().ident
    names = {t.ident: t.name for t in threading.enumerate()}
    out = []
    for ident, frame in sys._current_frames().items():
        if ident == main:
            continue
        chain = []
        while frame is not None and len(chain) < 4:
            code = frame.f_code
            chain.append(f"{Path(code.co_filename).name}:{code.co_name}:{frame.f_lineno}")
            frame = frame.f_back
        out.append(f"{names.get(ident, ident)}: " + " < ".join(chain))
    return "; ".join(out) or "no other thread"


class CollectionLog:
    """Times of the garbage collector's generation-2 runs (a full collection holds the GIL)."""

    def __init__(self):
        self.runs: list[tuple[float, float]] = []  # (start, end), perf_counter seconds
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.runs.append((self._start, time.perf_counter()))

    def overlapping(self, start: float, end: float) -> float:
        return sum(min(end, b) - max(start, a) for a, b in self.runs if a < end and b > start)


class LatenessProbe:
    """A chain of single-shot precise timers; each tick records how late it ran, and for ticks later
    than a frame (stalls) when it happened, where the other threads were and any full collection."""

    def __init__(self, interval_ms: int = TICK_MS):
        self.interval_s = interval_ms / 1000
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setSingleShot(True)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.samples: list[float] = []
        self.recording = False
        self._due = 0.0
        self.collections = CollectionLog()
        self.stalls: list[tuple[float, float, float, float, str]] = []  # (when, lateness, GC s, GUI CPU s, stacks)
        self._cpu = time.thread_time()

    def start(self) -> None:
        self._due = time.perf_counter() + self.interval_s
        self.timer.start()

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self.recording:
            late = max(0.0, now - self._due)
            self.samples.append(late)
            if late > FRAME_S:
                # The GUI thread's own CPU time since the last tick tells its own work (a slot that
                # ran long) from waiting (for the GIL, or for a core).
                gc_s = self.collections.overlapping(self._due, now)
                self.stalls.append((now, late, gc_s, cpu - self._cpu, thread_stacks()))
        self._cpu = cpu
        self._due = now + self.interval_s
        self.timer.start()

    def take(self) -> list[float]:
        samples, self.samples = self.samples, []
        return samples


class StrokeReplayer:
    """Posts press / moves / release to the canvas like a mouse would, and times the chart's answer."""

    def __init__(self, window):
        self.window = window
        self.canvas = window.canvas
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._next_event)
        self.latencies: list[float] = []
        self._pending_since: float | None = None
        self._script: list[tuple[QEvent.Type, QPointF]] = []
        self._strokes = 0
        self._paused_until = 0.0
        window.bus.predictionChanged.connect(self._on_prediction)

    def _stroke(self) -> list[tuple[QEvent.Type, QPointF]]:
        w, h = self.canvas.width(), self.canvas.height()
        cx, cy, r = w / 2, h / 2, 0.3 * min(w, h)
        phase = self._strokes * 0.7
        points = [
            QPointF(cx + r * 0.6 * math.cos(phase + t), cy + r * math.sin(phase + t))
            for t in np.linspace(0, 2 * math.pi, STROKE_POINTS)
        ]
        return ([(QEvent.Type.MouseButtonPress, points[0])] + [(QEvent.Type.MouseMove, p) for p in points[1:]]
                + [(QEvent.Type.MouseButtonRelease, points[-1])])

    def start(self) -> None:
        self.timer.start(STROKE_EVENT_MS)

    def stop(self) -> None:
        self.timer.stop()

    def _next_event(self) -> None:
        now = time.perf_counter()
        if now < self._paused_until:
            return
        if not self._script:
            self._strokes += 1
            if self._strokes % 4 == 0:
                self.canvas.clear()  # as a user would, now and then
            self._script = self._stroke()
        kind, pos = self._script.pop(0)
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        event = QMouseEvent(kind, pos, self.canvas.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        if self._pending_since is None:
            self._pending_since = time.perf_counter()
        QCoreApplication.postEvent(self.canvas, event)
        if not self._script:
            self._paused_until = now + STROKE_GAP_MS / 1000

    def _on_prediction(self, prediction) -> None:
        if self._pending_since is not None and prediction is not None and not prediction.empty:
            self.latencies.append(time.perf_counter() - self._pending_since)
        self._pending_since = None

    def take(self) -> list[float]:
        samples, self.latencies = self.latencies, []
        return samples


def make_data(root: str | None):
    """MNIST from ``root``, else a synthetic MNIST-sized stand-in (font digits, tiled)."""
    from digitpad.core.datasets import DigitData, load_dataset
    from tests.fixtures import synthetic_digits

    if root:
        return load_dataset("mnist", root, download=False), f"MNIST from {root}"
    small = synthetic_digits(n_train=1000, n_test=200)
    reps = 55  # 55,000 training digits, like MNIST: an epoch outlasts the measurement
    data = DigitData("mnist", np.tile(small.train_images, (reps, 1, 1)), np.tile(small.train_labels, reps),
                     small.test_images, small.test_labels)
    return data, "synthetic (55,000 tiled font digits; set DIGITPAD_DATA for the real MNIST)"


class Phases:
    """Collects per-phase samples: lateness, stroke latency, GUI-thread CPU share, handler times,
    and the training speed over the phase (``steps`` is the latest global batch count seen)."""

    def __init__(self, probe, strokes, handlers: dict[str, Timed], batch_size: int):
        self.probe, self.strokes, self.handlers = probe, strokes, handlers
        self.batch_size = batch_size
        self.steps = 0
        self.rows = []
        self._mark()

    def _mark(self) -> None:
        self._wall, self._cpu, self._steps = time.perf_counter(), time.thread_time(), self.steps

    def discard(self) -> None:
        self.probe.take(), self.strokes.take()
        for handler in self.handlers.values():
            handler.take()
        self._mark()

    def end(self, name: str) -> None:
        wall, cpu = time.perf_counter() - self._wall, time.thread_time() - self._cpu
        handlers = {key: h.take() for key, h in self.handlers.items()}
        speed = max(0, self.steps - self._steps) * self.batch_size / max(wall, 1e-9)
        self.rows.append((name, self.probe.take(), self.strokes.take(), cpu / max(wall, 1e-9), handlers, speed))
        self._mark()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="data root holding mnist/ (default: $DIGITPAD_DATA, else synthetic)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds after a run's first losses not measured")
    parser.add_argument("--from-click", type=float, default=20.0,
                        help="seconds measured from just before each click on Train (start-up included)")
    args = parser.parse_args()
    started = time.perf_counter()

    import torch

    from digitpad.core.checkpoints import Checkpoint
    from digitpad.core.inference import default_model_path
    from digitpad.core.models import build_model
    from digitpad.core.presets import PRESETS
    from digitpad.core.trainer import RunControl, Trainer, default_threads
    from digitpad.ui.app import create_window, ensure_app
    from digitpad.ui.main_window import MainWindow

    app = ensure_app()
    data, source = make_data(args.data or os.environ.get("DIGITPAD_DATA"))
    config = dataclasses.replace(PRESETS["default"].make_config(), device="cpu", threads=0)
    if default_model_path().exists():  # as the app starts: its imports, the shipped model, the GC freeze
        window = create_window()
    else:  # an untrained default-size net: the same inference cost as the shipped one
        checkpoint = Checkpoint.from_model(build_model("digitpad").eval(), {"dataset": "mnist", "normalization": [0.1307, 0.3081]})
        window = MainWindow(checkpoint)
    window.show()
    panel = window.dock_widgets["training"]
    panel.data_loader = lambda name, _root, _progress: data  # read once above, shared by both runs
    panel.set_config(config)
    # Every event of a run passes through the RunController (bus signals, the Training dock's drawing).
    handlers = {"training events": Timed(window.runs._on_event)}
    window.runs._on_event = handlers["training events"]  # start() looks this attribute up per event
    redraw = handlers["curve redraws"] = Timed(panel.curves.redraw)
    panel.curves.redraw_timer.timeout.disconnect()
    panel.curves.redraw_timer.timeout.connect(redraw)
    # The pad's coalesced reading: inference plus every dock listening to predictionChanged.
    predict = handlers["pad predictions"] = Timed(window.predict_now)
    window._predict_timer.timeout.disconnect()
    window._predict_timer.timeout.connect(predict)

    probe = LatenessProbe()
    strokes = StrokeReplayer(window)
    probe.start()
    wait_until(lambda: window.isVisible(), 10)
    run_for(1.0)
    probe.recording = True
    phases = Phases(probe, strokes, handlers, config.batch_size)
    run_for(args.seconds / 2)
    phases.end("idle app")
    strokes.start()
    run_for(args.seconds)
    strokes.stop()
    phases.end("idle app + strokes")

    losses_seen = []

    def on_training_event(event):
        if type(event).__name__ == "StepsEnded":
            losses_seen.append(1)
            phases.steps = event.step

    window.bus.trainingEvent.connect(on_training_event)

    def click_train() -> float:
        """Click Train, measuring from just before the click; the click time (perf_counter)."""
        losses_seen.clear()
        phases.discard()
        click = time.perf_counter()
        panel.train_button.click()
        return click

    # What a new user meets: the process's first run, measured from the click for --from-click s.
    click = click_train()
    if not wait_until(lambda: losses_seen or not panel.running, 600) or not panel.running:
        print(f"training did not start: {panel.status_label.text()} {panel.banner_label.text()}")
        return 1
    startup_s = time.perf_counter() - click
    run_for(max(0.0, args.from_click - (time.perf_counter() - click)))
    phases.end("first run, from the click")
    clicks = {"first run, from the click": click}
    run_for(args.warmup)
    phases.discard()
    run_for(args.seconds)
    phases.end("app training")
    strokes.start()
    run_for(args.seconds * 2)
    strokes.stop()
    phases.end("app training + strokes")
    progress = panel.progress.format()
    panel.stop_button.click()
    wait_until(lambda: not panel.running, 300)

    # A second run, drawing from before the click on.
    strokes.start()
    run_for(1.0)
    click = click_train()
    run_for(args.from_click)
    strokes.stop()
    phases.end("second run + strokes, from the click")
    clicks["second run + strokes, from the click"] = click

    close_start = time.perf_counter()
    window.close()
    close_ms = (time.perf_counter() - close_start) * 1000
    app.processEvents()

    # The floor: the same training on a bare Python thread, with no UI consuming its events.
    control, events = RunControl(), [0]
    trainer = Trainer(dataclasses.replace(config), data, control)

    def bare():
        for event in trainer.run():
            events[0] += 1
            if type(event).__name__ == "StepsEnded":
                phases.steps = event.step  # an int store: atomic under the GIL

    thread = threading.Thread(target=bare, name="bare-trainer")
    click = time.perf_counter()
    thread.start()
    wait_until(lambda: events[0] > 3, 600)
    bare_startup = time.perf_counter() - click
    run_for(args.warmup)
    phases.discard()
    run_for(args.seconds)
    phases.end("bare trainer thread")
    trainer._finish = lambda *a, **k: iter(())  # skip the final evaluation, as closing the app does
    control.stop()
    wait_until(lambda: not thread.is_alive(), 300)
    thread.join()
    probe.timer.stop()

    print(f"digitpad UI stall benchmark: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"torch {torch.__version__}, Qt platform {app.platformName()}")
    print(f"data: {source}; recipe 'default' on CPU, trainer torch threads {default_threads()} (all cores but one), "
          f"GUI thread torch threads {torch.get_num_threads()}")
    print(f"app run reached: {progress}")
    print(f"start-up, click to first losses: first app run {startup_s:.1f} s, bare thread (later) {bare_startup:.1f} s")
    print(f"\nevent-loop lateness of a {TICK_MS} ms timer; the GUI thread's CPU share; training speed:")
    for name, late, _, cpu, _, speed in phases.rows:
        trained = f"   {speed:6,.0f} samples/s" if speed else ""
        print(f"  {name:24s} {percentiles(late)}   GUI busy {cpu * 100:4.1f}%{trained}")
    print("\nstroke-to-chart latency (mouse event posted -> prediction shown; one reading per 16 ms frame at most):")
    for name, _, latency, _, _, _ in phases.rows:
        if latency:
            print(f"  {name:24s} {percentiles(latency)}")
    print("\nwork on the GUI thread per call (training events and redraws: the training UI, including every")
    print("dock listening to the bus; pad predictions: inference plus every dock listening to predictionChanged):")
    for name, _, _, _, handled, _ in phases.rows:
        for key, durations in handled.items():
            if durations:
                print(f"  {name:24s} {key:16s} {percentiles(durations)}")
    print()
    for name, click in clicks.items():
        stalls = [(t - click, late, gc_s, busy, where) for t, late, gc_s, busy, where in probe.stalls
                  if click <= t <= click + args.from_click]
        print(f"stalls (ticks more than a frame late) in '{name}': {len(stalls)}")
        for at, late, gc_s, busy, where in stalls:
            print(f"  {at:6.2f} s after the click: {late * 1000:6.1f} ms late, GUI thread busy {busy * 1000:.1f} ms "
                  f"since the last tick, full GC {gc_s * 1000:.1f} ms; {where}")
    print()
    for name, late, *_ in phases.rows:
        if "from the click" in name or name.startswith("app training"):
            ms = np.asarray(late) * 1000
            verdict = "PASS" if np.percentile(ms, 99) <= 5 and ms.max() <= FRAME_S * 1000 else "FAIL"
            print(f"{name}: lateness p99 {np.percentile(ms, 99):.2f} ms, max {ms.max():.2f} ms "
                  f"(target p99 <= 5, max <= {FRAME_S * 1000:.1f}): {verdict}")
    print(f"closing the window mid-run: {close_ms:.0f} ms (stopped within a batch, nothing saved)")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
