"""The studies of ``reproduce``, by name, in the order they run."""

from __future__ import annotations

from . import darcy, identities
from .context import Study

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study("identities", "Telescoping identity, k = 1 control, cost accounting", identities.run),
        Study("darcy", "Darcy: pilots, single-fine vs MLMC vs coarse-only", darcy.run),
    )
}
