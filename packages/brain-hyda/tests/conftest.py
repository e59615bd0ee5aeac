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


@pytest.fixture(scope="session")
def tiny_full():
    """The full protocol shrunk to seconds (16^3, 2-4 subjects, 2 steps, one seed; one rate per
    method, no controls): tests of the study code, never of its numbers."""
    from brain_hyda._experiments.config import METHODS, Config

    return Config(
        mode="full",
        size=16,
        pretrain_subjects=4,
        pretrain_epochs=1,
        methods=METHODS,
        train_sizes=(2,),
        seeds=(0,),
        n_val=2,
        n_test=4,
        steps=2,
        eval_at=(1, 2),
        lrs={m: (3e-3,) for m in METHODS},
        tune_size=2,
        controls=False,
        cls_train_sizes=(2, 4),
        cls_seeds=(0, 1),
        cls_n_val=4,
        cls_n_test=6,
        cls_tune_size=4,
    )
