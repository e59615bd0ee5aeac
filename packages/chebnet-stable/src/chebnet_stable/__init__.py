"""ChebNet and Stable-ChebNet for long-range graph learning, in pure PyTorch.

Hariri et al., "Return of ChebNet: Understanding and Improving an Overlooked GNN on Long-Range
Tasks", NeurIPS 2025 (arXiv:2506.07624).
"""

from .__about__ import __version__ as __version__
from ._baselines import ADGN as ADGN
from ._baselines import GCN as GCN
from ._baselines import MLP as MLP
from ._cheb_conv import ChebConv as ChebConv
from ._chebyshev import cheb_basis as cheb_basis
from ._chebyshev import cheb_filter as cheb_filter
from ._datasets import make_barbell as make_barbell
from ._datasets import make_graph_transfer as make_graph_transfer
from ._datasets import make_graphprop as make_graphprop
from ._datasets import make_ring_transfer as make_ring_transfer
from ._diagnostics import dirichlet_energy as dirichlet_energy
from ._diagnostics import euler_step_gain as euler_step_gain
from ._diagnostics import jacobian_blocks as jacobian_blocks
from ._diagnostics import jacobian_dense as jacobian_dense
from ._diagnostics import jacobian_spectrum as jacobian_spectrum
from ._diagnostics import layer_gain as layer_gain
from ._diagnostics import sensitivity as sensitivity
from ._graph import GraphData as GraphData
from ._graph import collate as collate
from ._io import load_graphs as load_graphs
from ._io import load_split_masks as load_split_masks
from ._io import save_npz as save_npz
from ._lambda_max import LambdaMaxEstimate as LambdaMaxEstimate
from ._lambda_max import lambda_max_bound as lambda_max_bound
from ._laplacian import ScaledLaplacian as ScaledLaplacian
from ._models import PRESETS as PRESETS
from ._models import ChebNet as ChebNet
from ._models import StableChebNet as StableChebNet
from ._stable_conv import StableChebConv as StableChebConv
from ._stable_conv import damping_kernel as damping_kernel
from ._train import train_model as train_model

__all__ = [
    "ADGN",
    "GCN",
    "MLP",
    "PRESETS",
    "ChebConv",
    "ChebNet",
    "GraphData",
    "LambdaMaxEstimate",
    "ScaledLaplacian",
    "StableChebConv",
    "StableChebNet",
    "__version__",
    "cheb_basis",
    "cheb_filter",
    "collate",
    "damping_kernel",
    "dirichlet_energy",
    "euler_step_gain",
    "jacobian_blocks",
    "jacobian_dense",
    "jacobian_spectrum",
    "lambda_max_bound",
    "layer_gain",
    "load_graphs",
    "load_split_masks",
    "make_barbell",
    "make_graph_transfer",
    "make_graphprop",
    "make_ring_transfer",
    "save_npz",
    "sensitivity",
    "train_model",
]
