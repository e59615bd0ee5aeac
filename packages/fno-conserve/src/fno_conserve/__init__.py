"""fno-conserve: Fourier Neural Operators whose outputs conserve linear and quadratic laws
exactly."""

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
from ._io import load_fno_mat as load_fno_mat
from ._io import load_pdebench as load_pdebench
from ._loss import RelLpLoss as RelLpLoss
from ._metrics import conservation_error as conservation_error
from ._penalty import ConservationPenalty as ConservationPenalty
from ._restrict import prolong as prolong
from ._restrict import restrict as restrict
from ._train import DivergenceError as DivergenceError
from ._train import TrainConfig as TrainConfig
from ._train import build_model as build_model
from ._train import evaluate as evaluate
from ._train import load_trained as load_trained
from ._train import save_trained as save_trained
from ._train import train_model as train_model
from ._wrapper import ConservedOperator as ConservedOperator
from ._wrapper import PointwiseMLP as PointwiseMLP
from ._wrapper import posthoc_projection as posthoc_projection

__all__ = [
    "FNO",
    "ConservationCorrection",
    "ConservationPenalty",
    "ConservedOperator",
    "DivergenceError",
    "FNO1d",
    "FNO2d",
    "LinearConstraint",
    "Monomial",
    "PointwiseMLP",
    "QuadraticConstraint",
    "RelLpLoss",
    "SpectralConv",
    "TrainConfig",
    "__version__",
    "build_model",
    "conservation_error",
    "evaluate",
    "generate",
    "grid",
    "load_dataset",
    "load_fno_mat",
    "load_pdebench",
    "load_trained",
    "posthoc_projection",
    "prolong",
    "quadrature_weights",
    "restrict",
    "save_dataset",
    "save_trained",
    "train_model",
]
