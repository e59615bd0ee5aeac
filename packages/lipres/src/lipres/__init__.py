"""lipres: certified 1-Lipschitz ResNets from explicit Euler steps of negative gradient flows.

Murari, Furuya, Schönlieb, "Approximation theory for 1-Lipschitz ResNets" (arXiv:2505.12003):
gradient blocks ``x - h W^T σ(Wx + b)`` with ``h <= 2/‖W‖²``, the max/min unit, and the
fixed-width architecture with norm-constrained maps between the blocks. Every map is constrained
with exact norms, so ``lipschitz_bound()`` is end to end and certificates rest on no estimate.
"""

from .__about__ import __version__ as __version__
from ._affine import MixedNormAffine as MixedNormAffine
from ._baselines import GroupSort2 as GroupSort2
from ._baselines import SpectralLinear as SpectralLinear
from ._baselines import SpectralNormMLP as SpectralNormMLP
from ._baselines import UnconstrainedResNet as UnconstrainedResNet
from ._certify import NotCertifiedError as NotCertifiedError
from ._certify import certified_accuracy as certified_accuracy
from ._certify import certified_radius as certified_radius
from ._certify import lipschitz_bound as lipschitz_bound
from ._common import ACTIVATIONS as ACTIVATIONS
from ._common import NORM_MODES as NORM_MODES
from ._constraints import ConstrainedOptimizer as ConstrainedOptimizer
from ._constraints import constrain_ as constrain_
from ._constraints import refresh_norms_ as refresh_norms_
from ._conv import PADDINGS as PADDINGS
from ._conv import GradientConv2d as GradientConv2d
from ._critic import LipCritic as LipCritic
from ._data import DigitsSplit as DigitsSplit
from ._data import load_digits_split as load_digits_split
from ._empirical import EMPIRICAL_METHODS as EMPIRICAL_METHODS
from ._empirical import empirical_lipschitz as empirical_lipschitz
from ._empirical import pgd_l2 as pgd_l2
from ._export import export as export
from ._gradient_step import GradientStep as GradientStep
from ._heads import ClassifierHead as ClassifierHead
from ._heads import ScalarHead as ScalarHead
from ._io import load_model as load_model
from ._io import save_model as save_model
from ._lifting import Lifting as Lifting
from ._losses import MarginLoss as MarginLoss
from ._maxmin import AugmentedGradientStep as AugmentedGradientStep
from ._maxmin import MaxMin as MaxMin
from ._networks import ARCHITECTURES as ARCHITECTURES
from ._networks import LipResNet as LipResNet
from ._networks import LipResNetClassifier as LipResNetClassifier
from ._norms import HIDDEN_NORMS as HIDDEN_NORMS
from ._norms import conv_operator_norm as conv_operator_norm
from ._norms import dual_norm as dual_norm
from ._norms import gram_spectral_norm as gram_spectral_norm
from ._norms import orthogonal_norm_bound as orthogonal_norm_bound
from ._norms import spectral_norm as spectral_norm
from ._norms import verified_spectral_norm as verified_spectral_norm
from ._targets import abs_target as abs_target
from ._targets import distance_to_circle as distance_to_circle
from ._targets import distance_to_points as distance_to_points
from ._targets import distance_to_square_boundary as distance_to_square_boundary
from ._targets import grid as grid
from ._targets import max_affine as max_affine
from ._targets import random_max_affine as random_max_affine
from ._targets import random_points as random_points
from ._targets import triangle_wave as triangle_wave
from ._training import fit_classifier as fit_classifier
from ._training import fit_regressor as fit_regressor

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "EMPIRICAL_METHODS",
    "HIDDEN_NORMS",
    "NORM_MODES",
    "PADDINGS",
    "AugmentedGradientStep",
    "ClassifierHead",
    "ConstrainedOptimizer",
    "DigitsSplit",
    "GradientConv2d",
    "GradientStep",
    "GroupSort2",
    "Lifting",
    "LipCritic",
    "LipResNet",
    "LipResNetClassifier",
    "MarginLoss",
    "MaxMin",
    "MixedNormAffine",
    "NotCertifiedError",
    "ScalarHead",
    "SpectralLinear",
    "SpectralNormMLP",
    "UnconstrainedResNet",
    "__version__",
    "abs_target",
    "certified_accuracy",
    "certified_radius",
    "constrain_",
    "conv_operator_norm",
    "distance_to_circle",
    "distance_to_points",
    "distance_to_square_boundary",
    "dual_norm",
    "empirical_lipschitz",
    "export",
    "fit_classifier",
    "fit_regressor",
    "gram_spectral_norm",
    "grid",
    "lipschitz_bound",
    "load_digits_split",
    "load_model",
    "max_affine",
    "orthogonal_norm_bound",
    "pgd_l2",
    "random_max_affine",
    "random_points",
    "refresh_norms_",
    "save_model",
    "spectral_norm",
    "triangle_wave",
    "verified_spectral_norm",
]
