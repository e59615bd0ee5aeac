"""smoothprune: smoothness-regularised training and SVD compression without fine-tuning.

After Runkel, Kuete Meli, Lukasik, Biguri, Schönlieb, Moeller, *Smooth Model Compression without
Fine-Tuning*, arXiv:2505.24469 (2025): nuclear-norm and first/second-order smoothness penalties
on weights during training, then a data-free SVD compression to a parameter budget.
"""

from .__about__ import __version__ as __version__
from ._cifar import load_cifar10 as load_cifar10
from ._compress import CompressionReport as CompressionReport
from ._compress import LayerReport as LayerReport
from ._compress import compress_model as compress_model
from ._compress import compressible_layers as compressible_layers
from ._compress import load_compressed as load_compressed
from ._compress import save_compressed as save_compressed
from ._compress import spectrum as spectrum
from ._count import count_parameters as count_parameters
from ._data import digits20 as digits20
from ._differences import finite_difference as finite_difference
from ._differences import nuclear_norm as nuclear_norm
from ._differences import smoothness_penalty as smoothness_penalty
from ._layers import LowRankConv2d as LowRankConv2d
from ._layers import LowRankLinear as LowRankLinear
from ._layers import SpatialLowRankConv2d as SpatialLowRankConv2d
from ._models import GapCNN as GapCNN
from ._models import SmallCNN as SmallCNN
from ._models import build_model as build_model
from ._models import cifar_resnet18 as cifar_resnet18
from ._prune import channel_ratio_for as channel_ratio_for
from ._prune import prune_channels as prune_channels
from ._prune import prune_unstructured as prune_unstructured
from ._prune import tucker2_factors as tucker2_factors
from ._ranks import allocate_global as allocate_global
from ._regularizer import SmoothnessRegularizer as SmoothnessRegularizer
from ._svd import singular_value_threshold as singular_value_threshold
from ._train import accuracy as accuracy
from ._train import train_classifier as train_classifier
from ._tucker import Tucker2Conv2d as Tucker2Conv2d
from ._tucker import Tucker2Linear as Tucker2Linear
from ._tucker import Tucker2Report as Tucker2Report
from ._tucker import tucker2 as tucker2
from ._tucker import tucker2_ranks as tucker2_ranks

__all__ = [
    "CompressionReport",
    "GapCNN",
    "LayerReport",
    "LowRankConv2d",
    "LowRankLinear",
    "SmallCNN",
    "SmoothnessRegularizer",
    "SpatialLowRankConv2d",
    "Tucker2Conv2d",
    "Tucker2Linear",
    "Tucker2Report",
    "__version__",
    "accuracy",
    "allocate_global",
    "build_model",
    "channel_ratio_for",
    "cifar_resnet18",
    "compress_model",
    "compressible_layers",
    "count_parameters",
    "digits20",
    "finite_difference",
    "load_cifar10",
    "load_compressed",
    "nuclear_norm",
    "prune_channels",
    "prune_unstructured",
    "save_compressed",
    "singular_value_threshold",
    "smoothness_penalty",
    "spectrum",
    "train_classifier",
    "tucker2",
    "tucker2_factors",
    "tucker2_ranks",
]
