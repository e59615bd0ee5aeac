"""The studies of ``reproduce``, by name, in the order they run."""

from __future__ import annotations

from . import backbone, classification, segmentation, structure
from .context import Study

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study("backbone", "pre-training the TinyUNet foundation on synthetic brains", backbone.run),
        Study("structure", "zero-initialised adapters and trainable parameters", structure.run),
        Study("routing", "how sharply HyDA routes patients at step 0", structure.routing_at_init),
        Study(
            "segmentation",
            "few-shot lesion segmentation: methods, gates, controls",
            segmentation.run,
        ),
        Study(
            "classification",
            "disease vs control from T1 and PET (full only)",
            classification.run,
        ),
    )
}
