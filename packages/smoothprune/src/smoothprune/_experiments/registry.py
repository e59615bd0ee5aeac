"""The studies of ``reproduce``, by name, in the order they run."""

from __future__ import annotations

from . import cifar, digits
from .context import Study

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            "digits", "digits20: accuracy against remaining parameters, smooth vs plain", digits.run
        ),
        Study("cifar10", "ResNet-18 on CIFAR-10 (only with --cifar10 ROOT)", cifar.run),
    )
}
