"""The studies of ``potcontrast reproduce``, by name, in the order they run (spec §5)."""

from __future__ import annotations

from . import bias, derived, equalities, format_independence, invariance, manuscript, speed
from .context import Study

__all__ = ["STUDIES"]

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study("equalities", "Equalities of NPC's forms (exact)", equalities.run),
        Study("manuscript_bands", "Band ranking on a synthetic manuscript", manuscript.run),
        Study("manuscript_derived", "NPC_3 of derived images, held out", derived.run),
        Study("format_independence", "Format independence (exact)", format_independence.run),
        Study("transform_invariance", "Transform invariance vs Fisher", invariance.run),
        Study("bias_convergence", "Bias floor and convergence tables", bias.run),
        Study("speed", "End-to-end speed vs the reference workflow", speed.run),
    )
}
