import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def unet():
    """A small TinyUNet with seeded random weights (frozen backbone for adapter tests)."""
    from brain_hyda import TinyUNet

    torch.manual_seed(0)
    net = TinyUNet(1, 5)
    net.eval()
    return net


@pytest.fixture
def volumes():
    g = torch.Generator().manual_seed(1)
    return {m: torch.randn(3, 1, 16, 16, 16, generator=g) for m in ("T1", "FLAIR")}


@pytest.fixture
def dense_propagation():
    """The hypergraph propagation operator of spec 2.2 written as explicit dense products
    (float64): ``D_v^-1 H W D_e^-1 H^T`` for ``"mean"``, the symmetric form for ``"sym"``."""

    def operator(h: torch.Tensor, w: torch.Tensor, norm: str) -> torch.Tensor:
        dv = torch.diag(h @ w)
        de_inv = torch.diag(1 / h.sum(0))
        if norm == "mean":
            return torch.linalg.inv(dv) @ h @ torch.diag(w) @ de_inv @ h.T
        s = torch.diag(torch.diag(dv) ** -0.5)
        return s @ h @ torch.diag(w) @ de_inv @ h.T @ s

    return operator
