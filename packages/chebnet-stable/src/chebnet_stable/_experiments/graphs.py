"""Small graphs of the spectral studies: the dense-sampled ER graph and a float64 Laplacian."""

from __future__ import annotations

import numpy as np
import torch

from .._laplacian import ScaledLaplacian

__all__ = ["er", "scaled_laplacian"]


def er(n: int, avg_degree: float, seed: int) -> torch.Tensor:
    """Erdős–Rényi G(n, p) with p = avg_degree / (n − 1), one Bernoulli draw per node pair.

    O(n²), for the small graphs of the spectrum and stability studies (the bench uses the O(E)
    sampler :func:`chebnet_stable._datasets.er_edge_index`); both directions stored.
    """
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(iu[0].shape[0]) < avg_degree / (n - 1)
    e = torch.tensor(np.vstack([iu[0][keep], iu[1][keep]]), dtype=torch.long)
    return torch.cat([e, e.flip(0)], dim=1)


def scaled_laplacian(
    edge_index: torch.Tensor, n: int, dtype: torch.dtype = torch.float64
) -> ScaledLaplacian:
    """The sym-normalised scaled Laplacian (certified λ_max = 2) of an undirected edge list."""
    return ScaledLaplacian.from_graph((edge_index, None, n), dtype=dtype)
