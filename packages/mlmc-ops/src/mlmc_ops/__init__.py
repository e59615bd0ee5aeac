"""mlmc-ops: multilevel Monte Carlo training of neural operators.

The gradient of the fine-resolution risk is estimated as a coarse-level gradient from many cheap
samples plus corrections ``grad l_l - grad l_{l-1}`` on the same sample at two adjacent
resolutions, from fewer samples as the resolution grows (Rowbottom et al., arXiv:2505.12940;
Giles, Oper. Res. 2008). Model-agnostic: any module that accepts inputs at several resolutions.
``import mlmc_ops`` imports neither ``fno_conserve`` nor matplotlib.
"""

from .__about__ import __version__ as __version__
from ._allocation import Allocation as Allocation
from ._allocation import geometric_schedule as geometric_schedule
from ._allocation import giles_allocation as giles_allocation
from ._baselines import CurriculumTrainer as CurriculumTrainer
from ._baselines import SingleLevelTrainer as SingleLevelTrainer
from ._cost import grid_cost as grid_cost
from ._cost import level_costs as level_costs
from ._cost import step_cost as step_cost
from ._data import HIERARCHIES as HIERARCHIES
from ._data import LevelSet as LevelSet
from ._data import MultiLevelData as MultiLevelData
from ._distributed import SHARDS as SHARDS
from ._distributed import DistributedConfig as DistributedConfig
from ._distributed import launch as launch
from ._estimator import WEIGHTINGS as WEIGHTINGS
from ._estimator import MLMCLoss as MLMCLoss
from ._estimator import mlmc_loss as mlmc_loss
from ._per_sample import per_sample_gradients as per_sample_gradients
from ._sampler import PAIRINGS as PAIRINGS
from ._sampler import LevelBatch as LevelBatch
from ._sampler import MLMCBatch as MLMCBatch
from ._sampler import MLMCSampler as MLMCSampler
from ._stats import LevelStats as LevelStats
from ._stats import estimate_level_stats as estimate_level_stats
from ._trainer import History as History
from ._trainer import MLMCTrainer as MLMCTrainer

__all__ = [
    "HIERARCHIES",
    "PAIRINGS",
    "SHARDS",
    "WEIGHTINGS",
    "Allocation",
    "CurriculumTrainer",
    "DistributedConfig",
    "History",
    "LevelBatch",
    "LevelSet",
    "LevelStats",
    "MLMCBatch",
    "MLMCLoss",
    "MLMCSampler",
    "MLMCTrainer",
    "MultiLevelData",
    "SingleLevelTrainer",
    "__version__",
    "estimate_level_stats",
    "geometric_schedule",
    "giles_allocation",
    "grid_cost",
    "launch",
    "level_costs",
    "mlmc_loss",
    "per_sample_gradients",
    "step_cost",
]
