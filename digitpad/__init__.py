"""digitpad: draw a digit, watch a CNN read it, train it, look inside it."""

__version__ = "0.1.0"
