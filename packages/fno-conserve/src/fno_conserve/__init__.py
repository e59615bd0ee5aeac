"""fno-conserve: Fourier Neural Operators whose outputs conserve linear and quadratic laws exactly."""

from .__about__ import __version__ as __version__
from ._constraints import LinearConstraint as LinearConstraint
from ._constraints import Monomial as Monomial
from ._constraints import QuadraticConstraint as QuadraticConstraint
from ._correction import ConservationCorrection as ConservationCorrection
from ._data import generate as generate
from ._data import load_dataset as load_dataset
from ._data import save_dataset as save_dataset
from ._fno import FNO as FNO
from ._fno import FNO1d as FNO1d
from ._fno import FNO2d as FNO2d
from ._fno import SpectralConv as SpectralConv
from ._grid import grid as grid
from ._grid import quadrature_weights as quadrature_weights
from ._loss import RelLpLoss as RelLpLoss
from ._metrics import conservation_error as conservation_error
from ._penalty import ConservationPenalty as ConservationPenalty
from ._restrict import prolong as prolong
from ._restrict import restrict as restrict
from ._wrapper import ConservedOperator as ConservedOperator
from ._wrapper import PointwiseMLP as PointwiseMLP
from ._wrapper import posthoc_projection as posthoc_projection

__all__ = [
    "FNO",
    "ConservationCorrection",
    "ConservationPenalty",
    "ConservedOperator",
    "FNO1d",
    "FNO2d",
    "LinearConstraint",
    "Monomial",
    "PointwiseMLP",
    "QuadraticConstraint",
    "RelLpLoss",
    "SpectralConv",
    "__version__",
    "conservation_error",
    "generate",
    "load_dataset",
    "prolong",
    "restrict",
    "save_dataset",
    "grid",
    "posthoc_projection",
    "quadrature_weights",
]
