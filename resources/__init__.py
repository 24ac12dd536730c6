"""digitpad's shipped resources (models, icons, samples), installed as ``digitpad.resources``."""
