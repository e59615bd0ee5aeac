"""Multi-class normalized potential contrast (NPC) for labelled pixels of images and stacks.

Peaslee, Breger & Schönlieb, "Potential Contrast: Properties, Equivalences, and Generalization to
Multiple Classes", EUSIPCO 2025 (arXiv:2505.01388). numpy-only; exact agreement with the authors'
reference scripts wherever they are right, clear errors where they are not.
"""

from .__about__ import __version__ as __version__
from ._continuous import npc_from_densities as npc_from_densities
from ._continuous import npc_gaussian as npc_gaussian
from ._io import read_image as read_image
from ._io import read_labels as read_labels
from ._io import read_masks as read_masks
from ._measures import auc as auc
from ._measures import bhattacharyya as bhattacharyya
from ._measures import fisher_ratio as fisher_ratio
from ._measures import jeffries_matusita as jeffries_matusita
from ._measures import ks_statistic as ks_statistic
from ._npc import NPCResult as NPCResult
from ._npc import analyze as analyze
from ._npc import npc as npc
from ._npc import npc_from_histograms as npc_from_histograms
from ._npc import npc_from_samples as npc_from_samples
from ._npc import pc as pc
from ._sparsity import SparseBinsWarning as SparseBinsWarning
from ._sparsity import sparsity_floor as sparsity_floor
from ._stats import NullResult as NullResult
from ._stats import bootstrap_ci as bootstrap_ci
from ._stats import permutation_null as permutation_null

__all__ = [
    "NPCResult",
    "NullResult",
    "SparseBinsWarning",
    "__version__",
    "analyze",
    "auc",
    "bhattacharyya",
    "bootstrap_ci",
    "fisher_ratio",
    "jeffries_matusita",
    "ks_statistic",
    "npc",
    "npc_from_densities",
    "npc_from_histograms",
    "npc_from_samples",
    "npc_gaussian",
    "pc",
    "permutation_null",
    "read_image",
    "read_labels",
    "read_masks",
    "sparsity_floor",
]
