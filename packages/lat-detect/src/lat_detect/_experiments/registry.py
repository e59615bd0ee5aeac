"""The studies of ``reproduce``, by name, in the order they run."""

from __future__ import annotations

from . import claims, downstream, figures, transfer
from .context import Study

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            "transfer",
            "LAT's transferred labels against the oracle, with the relabelling baselines",
            transfer.run,
        ),
        Study(
            "downstream", "Downstream AP on T-test of every method, tuned on T-val", downstream.run
        ),
        Study("claims", "The difficulty gate and the claims, read by key", claims.run),
        Study("figures", "AP per method, per-class AP, transferred labels' AP", figures.run),
    )
}
