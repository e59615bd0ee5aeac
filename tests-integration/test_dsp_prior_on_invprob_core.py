"""dsp-prior's DIP and DSP fitted through invprob-core's operators, as installed together."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
ipc = pytest.importorskip("invprob_core")
dsp = pytest.importorskip("dsp_prior")

SIZE = 16


def _operators():
    mask = ipc.random_pixel_mask((SIZE, SIZE), 0.5, seed=0)[0]
    return {
        "identity": ipc.Identity(),
        "mask": ipc.Mask(mask),
        "downsample": ipc.Downsample(4, "lanczos2", "replicate"),
        "blur": ipc.Blur(ipc.gaussian_kernel(1.0), boundary="circular"),
    }


@pytest.mark.parametrize("method", ["dip", "dsp", "dsp-v1"])
@pytest.mark.parametrize("operator", ["identity", "mask", "downsample", "blur"])
def test_fit_lowers_the_loss_through_each_invprob_core_operator(operator, method):
    torch.set_num_threads(1)
    op = _operators()[operator]
    x = torch.rand(1, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    y = op(x)
    res = dsp.fit(
        y, op, dsp.SkipNet.small(1, scales=2, channels=8), dsp.make_loss(method),
        iterations=40, log_every=10, size=(SIZE, SIZE), seed=0, progress_bar=False,
    )  # fmt: skip
    assert res.history["loss"][-1] < res.history["loss"][0]
    assert res.x_final.shape == x.shape


@pytest.mark.parametrize("operator", ["identity", "mask", "downsample", "blur"])
def test_dip_loss_is_the_operator_residual_and_parseval_holds(operator):
    op = _operators()[operator]
    g = torch.Generator().manual_seed(2)
    f = torch.rand(1, 3, SIZE, SIZE, generator=g, dtype=torch.float64)
    y = op(torch.rand(1, 3, SIZE, SIZE, generator=g, dtype=torch.float64))
    residual = op(f) - y
    expected = float((residual**2).mean())
    assert abs(float(dsp.PixelMSE()(f, y, op)) - expected) <= 1e-14 * expected
    assert abs(float(dsp.FourierLoss(rfft=True)(f, y, op)) - expected) <= 1e-12 * expected
