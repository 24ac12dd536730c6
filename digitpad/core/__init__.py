"""Qt-free core: data, preprocessing, models, training, checkpoints.

Nothing under ``digitpad.core`` may import PySide6 or pyqtgraph; the UI is a thin layer on top.
"""
