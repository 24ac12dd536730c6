"""Packaging glue that pyproject.toml alone cannot express: the shipped models, icons and samples
live in the top-level ``resources/`` folder of the repository, and are installed inside the
package as ``digitpad.resources`` so that a wheel or a ``pip install git+...`` carries them
(read with importlib.resources). Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["digitpad", "digitpad.*"]) + ["digitpad.resources"],
    package_dir={"digitpad.resources": "resources"},
    package_data={"digitpad": ["py.typed"], "digitpad.resources": ["models/*", "icons/*", "samples/*", "*.desktop"]},
)
