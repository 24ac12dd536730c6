"""The tool windows: the table of docks, and what each receives from the window.

A dock's factory (``module.create_dock_widget(context)``) gets a ``DockContext``: the bus, the run
controller, the pad's live model, the settings and the few window services a dock uses (the pad's
canvas and its column, the View menu, the actions table), never the ``MainWindow`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from .bus import AppBus
from .live_model import LiveModel
from .runs import RunController


@dataclass(frozen=True)
class DockSpec:
    """A tool window: created at start-up from ``module.factory(context)``, toggled from View."""

    key: str
    title: str
    module: str  # digitpad.ui.widgets.<module>
    factory: str
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    visible: bool = True
    shortcut: str = ""


# To add a tool window, add a row here. Missing modules are skipped, so the pad always starts.
DOCKS: list[DockSpec] = [
    DockSpec("training", "Training", "training_panel", "create_dock_widget", Qt.DockWidgetArea.BottomDockWidgetArea, True, "Ctrl+1"),
    DockSpec("kernels", "Kernels", "kernel_viewer", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, True, "Ctrl+2"),
    DockSpec("feature_maps", "Feature maps", "feature_maps", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, True, "Ctrl+3"),
    DockSpec("mistakes", "Mistakes", "mistakes", "create_dock_widget", Qt.DockWidgetArea.BottomDockWidgetArea, False, "Ctrl+4"),
    DockSpec("personal", "My digits", "personal_panel", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, False, "Ctrl+5"),
    # Why did it read that: the reading as the drawing grew, the nearest training digits, a second model.
    DockSpec("reading_timeline", "Replay", "reading_timeline", "create_dock_widget", Qt.DockWidgetArea.BottomDockWidgetArea, False, "Ctrl+6"),
    DockSpec("nearest_examples", "Nearest examples", "nearest_examples", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, False, "Ctrl+7"),
    DockSpec("compare_chart", "Compare models", "compare_chart", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, False, "Ctrl+8"),
]


@dataclass(frozen=True)
class DockContext:
    """What a dock may use of the window.

    ``canvas``: the pad (the correction bar stores its strokes, the saliency overlay tints it);
    ``add_pad_widget(widget)``: a row under the pad's reading; ``add_view_action(action)``: a
    display option in the View menu; ``actions``: the window's actions by key (a dock's "Save model
    as..." triggers ``actions["save_model"]``); ``parent``: the owner of dialogs and actions.
    """

    bus: AppBus
    runs: RunController
    model: LiveModel
    settings: QSettings
    canvas: QWidget
    add_pad_widget: Callable[[QWidget], None]
    add_view_action: Callable[[QAction], None]
    actions: Mapping[str, QAction]
    parent: QWidget
