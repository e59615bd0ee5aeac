"""The studies of ``reproduce``, by name, in the order they run."""

from __future__ import annotations

from . import approximation, digits
from .context import Study

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            "approximation",
            "Approximation of 1-Lipschitz targets (Theorems 3.1, 4.1)",
            approximation.run,
        ),
        Study("digits", "Certified robustness on scikit-learn digits", digits.run),
    )
}
