"""DIP's input z: uniform U(0, 0.1) by default, seeded, and the meshgrid input."""

import pytest
import torch
from dsp_prior import noise_input


def test_uniform_input_is_dips_u_0_01_and_seeded():
    z = noise_input(32, (64, 64), seed=0)
    assert z.shape == (1, 32, 64, 64) and z.dtype == torch.float32
    assert float(z.min()) >= 0.0 and float(z.max()) <= 0.1
    assert abs(float(z.mean()) - 0.05) < 1e-3
    assert torch.equal(z, noise_input(32, (64, 64), seed=0))
    assert not torch.equal(z, noise_input(32, (64, 64), seed=1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_input_draw_does_not_depend_on_the_dtype(dtype):
    a = noise_input(4, (8, 8), seed=3, dtype=dtype)
    b = noise_input(4, (8, 8), seed=3, dtype=torch.float64)
    assert a.dtype == dtype and torch.allclose(a.double(), b, atol=1e-8)


def test_meshgrid_input_holds_the_coordinates():
    z = noise_input(2, (3, 5), kind="meshgrid")
    assert z[0, 0, 0].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert z[0, 1, :, 0].tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(channels=0, size=(4, 4)), "channels"),
        (dict(channels=3, size=(4, 4), kind="meshgrid"), "2 channels"),
        (dict(channels=3, size=(4,)), "size"),
        (dict(channels=3, size=(4, 4), kind="fourier"), "kind"),
        (dict(channels=3, size=(4, 4), scale=float("nan")), "scale"),
    ],
)
def test_bad_input_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        noise_input(**kwargs)
