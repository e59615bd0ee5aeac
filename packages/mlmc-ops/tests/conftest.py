import pytest
import torch
from hypothesis import settings
from mlmc_ops import MultiLevelData

settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci")


def smooth_fields(n_samples: int, n: int, seed: int) -> torch.Tensor:
    """Random band-limited periodic fields ``(N, 1, n, n)`` in float64."""
    g = torch.Generator().manual_seed(seed)
    k = torch.fft.fftfreq(n, 1.0 / n)
    amp = 1.0 / (1.0 + k[:, None] ** 2 + k[None, :] ** 2)
    z = torch.randn(n_samples, 1, n, n, generator=g, dtype=torch.float64) * amp
    return torch.fft.ifft2(z * n).real


def mse(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared error (cell rule): a quadratic loss, shape ``(B,)``."""
    return ((p - t) ** 2).mean(dim=tuple(range(1, p.ndim)))


@pytest.fixture
def loss_fn():
    return mse


@pytest.fixture
def fine_pool():
    """4096 coupled samples at 16^2 (the targets have fine-scale structure)."""
    x = smooth_fields(4096, 16, 0)
    y = x**2 + 0.5 * x.roll(1, -1)
    return x, y


@pytest.fixture
def shared_data(fine_pool):
    x, y = fine_pool
    return MultiLevelData.from_fine(x, y, (8, 16))


def linear_model(seed: int = 0) -> torch.nn.Module:
    """A linear operator model (circular 3x3 stencil): works at every resolution."""
    torch.manual_seed(seed)
    return torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular").double()


@pytest.fixture
def make_linear():
    return linear_model


@pytest.fixture
def make_cnn():
    def make(seed: int = 0) -> torch.nn.Module:
        torch.manual_seed(seed)
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"),
            torch.nn.GELU(),
            torch.nn.Conv2d(4, 1, 3, padding=1, padding_mode="circular"),
        ).double()

    return make
