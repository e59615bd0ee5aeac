import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci")
torch.set_num_threads(1)


@pytest.fixture
def dense_sym_laplacian():
    """Dense scaled Laplacian oracle: L̂^T (the applied operator) from an edge list, float64."""

    def oracle(edge_index, n, weight=None, normalization="sym", lam=None):
        a = torch.zeros(n, n, dtype=torch.float64)
        w = (
            torch.ones(edge_index.shape[1], dtype=torch.float64)
            if weight is None
            else weight.double()
        )
        a.index_put_((edge_index[0], edge_index[1]), w, accumulate=True)
        a.fill_diagonal_(0)
        d = a.sum(1)
        if normalization == "sym":
            dis = torch.where(d > 0, d.clamp_min(1e-300).rsqrt(), torch.zeros_like(d))
            lap = torch.eye(n, dtype=torch.float64) - dis[:, None] * a * dis[None, :]
        elif normalization == "rw":
            di = torch.where(d > 0, 1 / d.clamp_min(1e-300), torch.zeros_like(d))
            lap = torch.eye(n, dtype=torch.float64) - di[:, None] * a
        else:
            lap = torch.diag(d) - a
        lam = 2.0 if lam is None else lam
        return (2 * lap / lam - torch.eye(n, dtype=torch.float64)).t()

    return oracle
