"""Multi-class normalized potential contrast (NPC) for labelled pixels of images and stacks.

Peaslee, Breger & Schönlieb, "Potential Contrast: Properties, Equivalences, and Generalization to
Multiple Classes", EUSIPCO 2025 (arXiv:2505.01388). numpy-only; exact agreement with the authors'
reference scripts wherever they are right, clear errors where they are not.
"""

from .__about__ import __version__ as __version__
from ._npc import NPCResult as NPCResult
from ._npc import analyze as analyze
from ._npc import npc as npc
from ._npc import npc_from_histograms as npc_from_histograms
from ._npc import npc_from_samples as npc_from_samples
from ._npc import pc as pc
from ._sparsity import SparseBinsWarning as SparseBinsWarning
from ._sparsity import sparsity_floor as sparsity_floor

__all__ = [
    "NPCResult",
    "SparseBinsWarning",
    "__version__",
    "analyze",
    "npc",
    "npc_from_histograms",
    "npc_from_samples",
    "pc",
    "sparsity_floor",
]
