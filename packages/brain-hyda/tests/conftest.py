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
