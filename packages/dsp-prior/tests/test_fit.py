"""The DIP loop: determinism, the truth never steers, BN mode, stopping, devices, bad input."""

import math

import pytest
import torch
from dsp_prior import (
    DSPLoss,
    FixedBudget,
    Oracle,
    PixelMSE,
    RunningVariance,
    SkipNet,
    ValidatedStop,
    fit,
)

import invprob_core as ipc


def _tiny():
    return SkipNet.small(1, scales=2, channels=8)


def _data(dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 1, 16, 16, generator=g).to(dtype)
    y = (x + 0.1 * torch.randn(x.shape, generator=g).to(dtype)).clamp(0, 1)
    return x, y


def _run(y, **kwargs):
    defaults = dict(
        iterations=20, log_every=5, seed=0, progress_bar=False, input_perturbation=1 / 30, ema=0.99
    )
    defaults.update(kwargs)
    loss = defaults.pop("loss", PixelMSE())
    physics = defaults.pop("physics", None)
    return fit(y, physics, _tiny(), loss, **defaults)


@pytest.mark.parametrize("loss", [PixelMSE(), DSPLoss("v2")], ids=repr)
def test_fit_is_deterministic_on_cpu(loss):
    _, y = _data()
    a, b, c = _run(y, loss=loss), _run(y, loss=loss), _run(y, loss=loss, seed=1)
    assert a.history == b.history and torch.equal(a.x_final, b.x_final)
    assert a.history["loss"] != c.history["loss"]


def test_truth_never_steers_the_iterate():
    x, y = _data()
    plain = _run(y)
    with_truth = _run(y, x_true=x)
    other_truth = _run(y, x_true=1 - x, oracle=True)
    for res in (with_truth, other_truth):
        assert res.history["loss"] == plain.history["loss"]
        assert torch.equal(res.x_final, plain.x_final) and torch.equal(res.x_ema, plain.x_ema)


def test_oracle_needs_oracle_true_and_the_truth():
    x, y = _data()
    with pytest.raises(ValueError, match="oracle=True"):
        _run(y, x_true=x, stop=Oracle())
    with pytest.raises(ValueError, match="oracle: oracle=True needs x_true"):
        _run(y, oracle=True)
    res = _run(y, x_true=x, oracle=True, stop=Oracle())
    assert res.oracle_best_psnr == max(res.history["psnr"])
    assert (
        res.oracle_best_iteration
        == res.history["iteration"][res.history["psnr"].index(res.oracle_best_psnr)]
    )


def test_batchnorm_stays_in_training_mode_during_fit():
    _, y = _data()
    net = _tiny()
    modes = []
    fit(y, None, net, PixelMSE(), iterations=4, log_every=2, seed=0, progress_bar=False,
        callback=lambda t, x: modes.append(all(m.training for m in net.modules())))  # fmt: skip
    assert modes == [True, True] and net.training


def test_loss_decreases_and_the_final_iterate_is_the_last_logged_one():
    _, y = _data()
    res = _run(y, iterations=40, input_perturbation=0.0)
    assert res.history["loss"][-1] < 0.5 * res.history["loss"][0]
    assert res.stopped_at == 40 and res.history["iteration"][-1] == 40.0
    assert torch.equal(res.x_stop, res.x_final) and res.stop_iteration == 40


def test_exponential_average_follows_its_recursion():
    _, y = _data()
    outputs = []
    net = _tiny()
    orig = net.forward
    net.forward = lambda z: outputs.append(orig(z)) or outputs[-1]  # record every forward
    res = fit(
        y, None, net, PixelMSE(), iterations=3, ema=0.9, log_every=100, seed=0, progress_bar=False
    )
    train_outs = [o.detach() for o in outputs[:-1]]  # the last forward: the final iterate
    assert len(train_outs) == 3  # one forward per update: no separate shape-check pass
    expected = train_outs[0]
    for o in train_outs[1:]:
        expected = 0.9 * expected + 0.1 * o
    assert torch.allclose(res.x_ema, expected, atol=1e-7)


@pytest.mark.parametrize("stop", [FixedBudget(12), ValidatedStop(12)])
def test_budget_rules_stop_on_the_same_trajectory(stop):
    _, y = _data()
    long, short = (
        _run(y, iterations=20, log_every=4),
        _run(y, iterations=20, log_every=4, stop=stop),
    )
    assert short.stopped_at == 12
    assert short.history["loss"] == long.history["loss"][:3]


def test_running_variance_without_halt_reports_its_iterate_and_runs_to_the_horizon():
    _, y = _data()
    res = _run(y, iterations=30, stop=RunningVariance(window=7, patience=3, halt=False))
    assert res.stopped_at == 30 and res.es_fired is not None
    assert 7 <= res.stop_iteration <= 30
    assert math.isnan(res.history["es_variance"][0]) and not math.isnan(
        res.history["es_variance"][-1]
    )


def test_running_variance_with_halt_stops_early():
    _, y = _data()
    res = _run(y, iterations=400, log_every=50, stop=RunningVariance(window=5, patience=2))
    assert res.es_fired and res.stopped_at < 400


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fit_follows_the_dtype_of_y(dtype):
    _, y = _data(dtype)
    res = _run(y, iterations=2)
    assert res.x_final.dtype == dtype and res.x_ema.dtype == dtype


def test_fit_works_through_an_operator_with_a_smaller_range():
    g = torch.Generator().manual_seed(0)
    y = torch.rand(1, 1, 4, 4, generator=g)
    res = _run(
        y,
        physics=ipc.Downsample(4, "lanczos2", "replicate"),
        size=(16, 16),
        iterations=30,
        input_perturbation=0.0,
    )
    assert res.x_final.shape == (1, 1, 16, 16)
    assert res.history["loss"][-1] < res.history["loss"][0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(iterations=0), "iterations: expected an integer >= 1"),
        (dict(lr=float("nan")), "lr: expected a finite number"),
        (dict(lr=float("inf")), "lr: expected a finite number"),
        (dict(lr=0.0), "lr: expected a finite number > 0"),
        (dict(ema=1.0), "ema"),
        (dict(input_perturbation=-1.0), "input_perturbation"),
        (dict(log_every=0), "log_every"),
        (dict(stop=FixedBudget(50)), "after the horizon"),
        (dict(physics=ipc.Downsample(2)), "physics: maps the network output"),
        (dict(x_true=torch.zeros(1, 1, 8, 8)), r"x_true: expected shape \(1, 1, 16, 16\)"),
    ],
)
def test_fit_refuses_bad_options_naming_them(kwargs, match):
    _, y = _data()
    with pytest.raises(ValueError, match=match):
        _run(y, **kwargs)


@pytest.mark.parametrize(
    "y, match",
    [
        (torch.full((1, 1, 16, 16), float("nan")), "y: contains NaN or inf"),
        (torch.rand(1, 16, 16), r"y: expected shape \(1, C, H, W\)"),
        (torch.rand(2, 1, 16, 16), r"y: expected shape \(1, C, H, W\)"),
        (torch.zeros(1, 1, 16, 16, dtype=torch.int64), "floating-point"),
    ],
)
def test_fit_refuses_bad_measurements(y, match):
    with pytest.raises(ValueError, match=match):
        _run(y)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_returns_float32_on_cuda():
    _, y = _data()
    res = _run(y.cuda(), loss=DSPLoss("v2"))
    assert res.x_final.device.type == "cuda" and res.x_final.dtype == torch.float32
