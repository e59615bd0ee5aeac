"""The restoration tasks: invprob-core's operators, DIP's downsampler, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from dsp_prior import METHODS, SkipNet, deblur, denoise, inpaint, make_loss, super_resolve

import invprob_core as ipc


def _dip_lanczos2_kernel(factor):
    """DIP's ``get_kernel(f, 'lanczos', phase=0.5, kernel_width=4 f + 1, support=2)``, restated."""
    width = 4 * factor + 1
    centre = (width + 1) / 2.0
    size = width - 1
    d = np.abs(np.arange(1, size + 1) + 0.5 - centre) / factor
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(d == 0, 1.0, 2 * np.sin(np.pi * d) * np.sin(np.pi * d / 2) / (np.pi**2 * d**2))
    k = v[:, None] * v[None, :]
    return k / k.sum()


@pytest.mark.parametrize("factor", [2, 4])
def test_sr_operator_matches_dip_downsampler(factor):
    k = _dip_lanczos2_kernel(factor)
    assert np.abs(ipc.lanczos2_kernel(factor).numpy() - k).max() < 1e-12
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    pad = (k.shape[0] - factor) // 2  # DIP's preserve_size padding for an even kernel
    weight = torch.from_numpy(k)[None, None].expand(3, 1, *k.shape)
    dip = F.conv2d(F.pad(x, (pad,) * 4, mode="replicate"), weight, stride=factor, groups=3)
    ours = ipc.Downsample(factor, "lanczos2", "replicate")(x)
    assert ours.shape == dip.shape and float((ours - dip).abs().max()) < 1e-12


def _net():
    return SkipNet.small(1, scales=2, channels=8)


def _quick(**kwargs):
    return dict(iterations=3, log_every=3, seed=0, progress_bar=False, net=_net(), **kwargs)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_runs_each_task_and_lowers_nothing_outside_the_unit_interval(method):
    x = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    mask = ipc.random_pixel_mask((16, 16), 0.5, seed=0)[0]
    results = [
        denoise(x, method=method, **_quick()),
        inpaint(mask * x, mask, method=method, **_quick()),
        super_resolve(ipc.Downsample(4, "lanczos2", "replicate")(x), 4, method=method, **_quick()),
        deblur(
            ipc.Blur(ipc.gaussian_kernel(1.0))(x),
            ipc.gaussian_kernel(1.0),
            method=method,
            **_quick(),
        ),
    ]
    for res in results:
        assert res.x_final.shape == (1, 1, 16, 16)
        assert bool((res.x_final > 0).all() and (res.x_final < 1).all())


def test_inpaint_refuses_a_mask_of_another_size():
    x = torch.rand(1, 1, 16, 16)
    with pytest.raises(ValueError, match=r"mask: expected shape \(16, 16\).*got \(8, 8\)"):
        inpaint(x, torch.ones(8, 8), **_quick())


def test_inpaint_refuses_a_non_binary_mask():
    with pytest.raises(ValueError, match="mask: expected values 0"):
        inpaint(torch.rand(1, 1, 16, 16), torch.full((16, 16), 0.5), **_quick())


def test_denoise_refuses_y_outside_the_range_of_the_sigmoid():
    with pytest.raises(ValueError, match=r"y: values in .* clip y to \[0, 1\]"):
        denoise(torch.full((1, 1, 16, 16), 1.2), **_quick())


def test_unknown_method_is_an_input_error():
    with pytest.raises(ValueError, match="method: expected one of"):
        make_loss("dsp-v3")


def test_denoise_picks_dips_input_perturbation_from_sigma(monkeypatch):
    import dsp_prior._tasks as tasks

    seen = []
    monkeypatch.setattr(tasks, "fit", lambda *a, **k: seen.append(k["input_perturbation"]))
    x = torch.rand(1, 1, 16, 16)
    denoise(x, sigma=25 / 255, net=_net())
    denoise(x, sigma=50 / 255, net=_net())
    assert seen == [1 / 30, 1 / 20]


def _captured(monkeypatch):
    import dsp_prior._tasks as tasks

    seen = []
    monkeypatch.setattr(tasks, "fit", lambda *a, **k: seen.append((a, k)))
    return seen


@pytest.mark.parametrize(
    "call, iterations, sigma_p, net_skip, upsample",
    [
        (lambda x: denoise(x), 3000, 1 / 30, 4, "bilinear"),
        (lambda x: inpaint(x, torch.ones(64, 64)), 6001, 0.03, 128, "nearest"),
        (lambda x: super_resolve(x[..., :16, :16], 4), 2000, 0.03, 4, "bilinear"),
        (lambda x: super_resolve(x[..., :8, :8], 8), 4000, 0.05, 4, "bilinear"),
    ],
    ids=["denoising", "inpainting", "sr-x4", "sr-x8"],
)
def test_task_defaults_are_the_dip_notebooks(
    monkeypatch, call, iterations, sigma_p, net_skip, upsample
):
    seen = _captured(monkeypatch)
    call(torch.rand(1, 3, 64, 64))
    (args, kwargs) = seen[0]
    net = args[2]
    assert kwargs["iterations"] == iterations and kwargs["input_perturbation"] == sigma_p
    assert kwargs["lr"] == 0.01 and kwargs["ema"] == 0.99
    assert net.channels_skip == (net_skip,) * 5 and net.upsample == upsample
    assert net.channels_down == (128,) * 5 and net.in_channels == 32 and net.out_channels == 3


_TASK_CALLS = {
    "denoise": lambda x, **k: denoise(x, net=_net(), **k),
    "inpaint": lambda x, **k: inpaint(x, torch.ones(16, 16), net=_net(), **k),
    "sr": lambda x, **k: super_resolve(x[..., :4, :4], 4, net=_net(), **k),
    "deblur": lambda x, **k: deblur(x, ipc.gaussian_kernel(1.0), net=_net(), **k),
}


@pytest.mark.parametrize("task", list(_TASK_CALLS))
def test_task_options_override_the_task_defaults_in_fit(monkeypatch, task):
    seen = _captured(monkeypatch)
    options = dict(lr=0.5, ema=None, log_every=7, seed=3, oracle=True, progress_bar=False)
    _TASK_CALLS[task](torch.rand(1, 1, 16, 16), **options)
    kwargs = seen[0][1]
    assert {key: kwargs[key] for key in options} == options
    assert kwargs["stop"] is None and kwargs["x_true"] is None  # untouched defaults still passed


@pytest.mark.parametrize("task", list(_TASK_CALLS))
def test_task_refuses_an_unknown_option_by_name(monkeypatch, task):
    _captured(monkeypatch)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['lrate'\]"):
        _TASK_CALLS[task](torch.rand(1, 1, 16, 16), lrate=0.1)
