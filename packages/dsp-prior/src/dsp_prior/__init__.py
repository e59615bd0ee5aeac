"""Deep Image Prior and the Deep Spectral Prior (our reading of arXiv:2505.19873) on
invprob-core's operators, built to test the claim that DSP needs no early stopping.

``DSPLoss`` is **our reading of the paper's public description** (its abstracts), not a
transcription of its body, which could not be read from any source available to us.
"""

from .__about__ import __version__ as __version__
from ._fit import FitResult as FitResult
from ._fit import fit as fit
from ._inputs import INPUT_KINDS as INPUT_KINDS
from ._inputs import noise_input as noise_input
from ._losses import DSP_KINDS as DSP_KINDS
from ._losses import AmplitudePhaseLoss as AmplitudePhaseLoss
from ._losses import DSPLoss as DSPLoss
from ._losses import FourierLoss as FourierLoss
from ._losses import PixelMSE as PixelMSE
from ._skip import SkipNet as SkipNet
from ._stopping import FixedBudget as FixedBudget
from ._stopping import Oracle as Oracle
from ._stopping import RunningVariance as RunningVariance
from ._stopping import ValidatedStop as ValidatedStop
from ._stopping import VarianceMonitor as VarianceMonitor
from ._tasks import METHODS as METHODS
from ._tasks import TASKS as TASKS
from ._tasks import TaskOptions as TaskOptions
from ._tasks import deblur as deblur
from ._tasks import denoise as denoise
from ._tasks import inpaint as inpaint
from ._tasks import make_loss as make_loss
from ._tasks import super_resolve as super_resolve
from ._weights import RadialWeight as RadialWeight
from ._weights import hermitian_weights as hermitian_weights
from ._weights import radial_frequency as radial_frequency

__all__ = [
    "DSP_KINDS",
    "INPUT_KINDS",
    "METHODS",
    "TASKS",
    "AmplitudePhaseLoss",
    "DSPLoss",
    "FitResult",
    "FixedBudget",
    "FourierLoss",
    "Oracle",
    "PixelMSE",
    "RadialWeight",
    "RunningVariance",
    "SkipNet",
    "TaskOptions",
    "ValidatedStop",
    "VarianceMonitor",
    "__version__",
    "deblur",
    "denoise",
    "fit",
    "hermitian_weights",
    "inpaint",
    "make_loss",
    "noise_input",
    "radial_frequency",
    "super_resolve",
]
