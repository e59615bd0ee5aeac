r"""The DIP loop: fit an untrained generator to one measurement, with the reference's options.

Given :math:`y = A x + e`, a generator :math:`f_\theta` and a fixed input :math:`z`, Adam
minimises :math:`L(\theta) = \ell(f_\theta(z_t), y; A)` (Ulyanov et al. 2018, eq. 2, with
:math:`\ell` any loss of :mod:`dsp_prior._losses`), where each step feeds
:math:`z_t = z + \sigma_p \varepsilon_t`, :math:`\varepsilon_t \sim \mathcal N(0, I)` fresh
(the reference's ``reg_noise_std``). Options of the reference code:

* exponential averaging of the outputs, :math:`\bar x \leftarrow \beta \bar x + (1 - \beta) f_t`
  with :math:`f_t` the (perturbed-input) output of step :math:`t`, :math:`\beta = 0.99`
  (``exp_weight``); reported separately from the iterate;
* BatchNorm in training mode throughout, evaluation included (the reference never calls
  ``eval()``): the iterate :math:`x_t = f_{\theta_t}(z)` is evaluated under ``no_grad`` with the
  unperturbed input.

The truth ``x_true`` only feeds the logged metrics (and, with ``oracle=True``, the oracle
estimate); it never influences :math:`\theta`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from sciml_core import InputError, SeedLike, psnr, root_seed, sample_seed_sequence, ssim
from sciml_core.cli import progress

from ._inputs import noise_input
from ._losses import Loss, Physics, apply_physics
from ._stopping import (
    FixedBudget,
    Oracle,
    RunningVariance,
    StopRule,
    ValidatedStop,
    VarianceMonitor,
)


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        x_final: the last iterate :math:`f_{\\theta_T}(z)`, ``(1, C, H, W)``, detached.
        x_ema: the exponential average of the outputs (``None`` without ``ema``).
        history: per logged iteration: ``iteration``, ``loss``; with ``x_true`` also ``psnr``,
            ``ssim`` (of the iterate) and ``psnr_ema``; with ES-WMV ``es_variance`` (``nan``
            until the window is full).
        stopped_at: iterations performed :math:`T`.
        x_stop: the stopping rule's estimate (ES-WMV: the iterate of least running variance;
            otherwise ``x_final``).
        stop_iteration: the iteration of ``x_stop``.
        es_fired: whether ES-WMV's rule fired (``None`` without ``RunningVariance``).
        x_oracle: the logged iterate of best PSNR against the truth (``oracle=True`` only).
        oracle_best_iteration: its iteration.
        oracle_best_psnr: its PSNR.
    """

    x_final: torch.Tensor
    x_ema: torch.Tensor | None
    history: dict[str, list[float]]
    stopped_at: int
    x_stop: torch.Tensor
    stop_iteration: int
    es_fired: bool | None = None
    x_oracle: torch.Tensor | None = None
    oracle_best_iteration: int | None = None
    oracle_best_psnr: float | None = None
    z: torch.Tensor | None = field(default=None, repr=False)


def _check_number(
    value: object, name: str, *, low: float, high: float = math.inf, open_low: bool = False
) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = (v > low if open_low else v >= low) and v < high
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}"
        upper = f" and < {high}" if high < math.inf else ""
        raise InputError(f"{name}: expected a finite number {bound}{upper}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_measurement(y: object, name: str = "y") -> torch.Tensor:
    """``y`` must be a finite floating tensor ``(1, C, H, W)`` (an ``InputError`` otherwise)."""
    if not isinstance(y, torch.Tensor):
        raise InputError(f"{name}: expected a torch.Tensor, got {type(y).__name__}")
    if not y.is_floating_point():
        raise InputError(f"{name}: expected a floating-point tensor, got dtype {y.dtype}")
    if y.ndim != 4 or y.shape[0] != 1:
        raise InputError(f"{name}: expected shape (1, C, H, W), got {tuple(y.shape)}")
    if not bool(torch.isfinite(y).all()):
        raise InputError(f"{name}: contains NaN or inf")
    return y


def _seed_int(base: int, i: int) -> int:
    return int(sample_seed_sequence(base, i).generate_state(1)[0])


def initialise(net: nn.Module, seed: int, device: torch.device) -> None:
    """Re-initialise every submodule of ``net`` that has ``reset_parameters``, from ``seed``."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for module in net.modules():
            reset = getattr(module, "reset_parameters", None)
            if (
                module is not net
                and callable(reset)
                and any(True for _ in module.parameters(recurse=False))
            ):
                reset()


def _metrics(x: torch.Tensor, ref: torch.Tensor, crop: int) -> tuple[float, float]:
    if crop:
        x, ref = x[..., crop:-crop, crop:-crop], ref[..., crop:-crop, crop:-crop]
    a, b = x.detach().cpu().double().numpy()[0], ref.detach().cpu().double().numpy()[0]
    return psnr(a, b, data_range=1.0), ssim(a, b, data_range=1.0)


def fit(
    y: torch.Tensor,
    physics: Physics,
    net: nn.Module,
    loss: Loss,
    *,
    iterations: int,
    lr: float = 0.01,
    z: torch.Tensor | None = None,
    size: tuple[int, int] | None = None,
    input_perturbation: float = 0.0,
    ema: float | None = None,
    stop: StopRule | None = None,
    x_true: torch.Tensor | None = None,
    oracle: bool = False,
    log_every: int = 25,
    metric_crop: int = 0,
    init: bool = True,
    seed: SeedLike = None,
    progress_bar: bool = True,
    callback: Callable[[int, torch.Tensor], None] | None = None,
    observers: Sequence[Callable[[torch.Tensor, int], object]] = (),
) -> FitResult:
    r"""Fit ``net`` to the measurement ``y`` through ``physics`` by Adam (module docstring).

    Args:
        y: measurement ``(1, C, H', W')``, finite; its device and dtype are those of the run
            (``net`` and ``z`` are moved there).
        physics: forward operator :math:`A` (``invprob_core.LinearOperator``, a callable, or
            ``None`` for the identity) mapping ``(1, C, H, W)`` to ``y``'s shape.
        net: the generator (e.g. :class:`dsp_prior.SkipNet`).
        loss: ``loss(output, y, physics)``, e.g. :class:`dsp_prior.PixelMSE` (DIP) or
            :class:`dsp_prior.DSPLoss`.
        iterations: the horizon :math:`T \ge 1`.
        lr: Adam's learning rate (0.01 in every DIP notebook).
        z: the fixed input ``(1, C_in, H, W)``; default :func:`dsp_prior.noise_input` (uniform,
            scale 0.1) of size ``size`` (default ``y``'s size).
        size: ``(H, W)`` of the image when ``z`` is not given and differs from ``y``'s size.
        input_perturbation: :math:`\sigma_p` (``reg_noise_std``; 1/30 for DIP denoising).
        ema: :math:`\beta` of the output average (0.99 in DIP), or ``None``.
        stop: :class:`FixedBudget`, :class:`ValidatedStop`, :class:`RunningVariance` or
            :class:`Oracle`; default: the full horizon.
        x_true: ground truth ``(1, C, H, W)`` for the logged PSNR/SSIM (never used to fit).
        oracle: allow the oracle estimate (needs ``x_true``).
        log_every: log every this many iterations (and the last one).
        metric_crop: border (pixels) left out of PSNR/SSIM (``factor`` for super-resolution).
        init: re-initialise ``net`` from ``seed`` first (so ``seed`` decides the whole run).
        seed: seed of the initialisation, of ``z`` and of the perturbations.
        progress_bar: show a progress bar (``sciml_core.cli.progress``, silenced by ``--quiet``).
        callback: called as ``callback(t, x_t)`` at every logged iteration.
        observers: each called as ``observer(f_t, t)`` at every iteration with the step's
            (perturbed-input) output, e.g. ``VarianceMonitor.update`` to follow several ES-WMV
            settings in one run.

    Returns:
        :class:`FitResult`.

    Raises:
        InputError: bad ``y``, ``x_true``, ``z`` or option; ``physics`` output not of ``y``'s
            shape; ``Oracle()`` or ``oracle=True`` without the other (and ``x_true``).
        FloatingPointError: the loss became non-finite.

    Examples:
        >>> import torch
        >>> from dsp_prior import SkipNet, PixelMSE
        >>> y = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> res = fit(y, None, SkipNet.small(1, scales=2, channels=8), PixelMSE(), iterations=30,
        ...           log_every=10, seed=0, progress_bar=False)
        >>> res.stopped_at, res.history["loss"][-1] < res.history["loss"][0]
        (30, True)
    """
    y = check_measurement(y)
    iterations = int(_count(iterations, "iterations"))
    lr = _check_number(lr, "lr", low=0.0, open_low=True)
    sigma_p = _check_number(input_perturbation, "input_perturbation", low=0.0)
    if ema is not None:
        ema = _check_number(ema, "ema", low=0.0, high=1.0)
    log_every = int(_count(log_every, "log_every"))
    if not isinstance(net, nn.Module):
        raise InputError(f"net: expected a torch.nn.Module, got {type(net).__name__}")
    if not callable(loss):
        raise InputError(f"loss: expected a callable loss(output, y, physics), got {loss!r}")
    if stop is not None and not isinstance(
        stop, FixedBudget | ValidatedStop | RunningVariance | Oracle
    ):
        raise InputError(f"stop: expected a stopping rule, got {type(stop).__name__}")
    if isinstance(stop, Oracle) and not oracle:
        raise InputError(
            "stop: Oracle() uses the truth; pass oracle=True to allow it (evaluation only)"
        )
    if oracle and x_true is None:
        raise InputError("oracle: oracle=True needs x_true")
    budget = iterations
    if isinstance(stop, FixedBudget | ValidatedStop):
        n = stop.iterations if isinstance(stop, FixedBudget) else stop.iteration
        if n > iterations:
            raise InputError(f"stop: stops at {n}, after the horizon iterations={iterations}")
        budget = n
    device, dtype = y.device, y.dtype
    base = root_seed(seed)
    net.to(device=device, dtype=dtype)
    if init:
        initialise(net, _seed_int(base, 0), device)
    if z is None:
        hw = tuple(y.shape[-2:]) if size is None else tuple(size)
        in_channels = getattr(net, "in_channels", None)
        if not isinstance(in_channels, int):
            raise InputError("z: pass z for a network without an integer in_channels attribute")
        z = noise_input(
            in_channels,
            (int(hw[0]), int(hw[1])),
            seed=_seed_int(base, 1),
            device=device,
            dtype=dtype,
        )
    elif (
        not isinstance(z, torch.Tensor)
        or z.ndim != 4
        or z.shape[0] != 1
        or not bool(torch.isfinite(z).all())
    ):
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise InputError(f"z: expected a finite tensor of shape (1, C_in, H, W), got {got}")
    z = z.to(device=device, dtype=dtype)
    gen = torch.Generator(device=device)
    gen.manual_seed(_seed_int(base, 2))

    net.train()
    if x_true is not None and not isinstance(x_true, torch.Tensor):
        raise InputError(
            f"x_true: expected a tensor of the network's output shape, got {type(x_true).__name__}"
        )

    monitor: VarianceMonitor | None = stop.monitor() if isinstance(stop, RunningVariance) else None
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history: dict[str, list[float]] = {"iteration": [], "loss": []}
    if x_true is not None:
        history.update(psnr=[], ssim=[], psnr_ema=[])
    if monitor is not None:
        history["es_variance"] = []
    x_avg: torch.Tensor | None = None
    best: tuple[float, int, torch.Tensor] | None = None
    x_t: torch.Tensor | None = None
    t = 0
    for t in progress(
        range(1, budget + 1), desc="fit", unit="it", leave=False, disable=not progress_bar
    ):
        opt.zero_grad(set_to_none=True)
        z_in = (
            z + sigma_p * torch.randn(z.shape, generator=gen, device=device, dtype=dtype)
            if sigma_p
            else z
        )
        out = net(z_in)
        if t == 1:  # shapes checked on the first output, before the first update
            _check_first_output(out.detach(), physics, y, x_true)
            if x_true is not None:
                x_true = x_true.to(device=device, dtype=dtype)
        value = loss(out, y, physics)
        if not bool(torch.isfinite(value)):
            raise FloatingPointError(f"loss became {float(value)} at iteration {t}")
        value.backward()
        opt.step()
        out = out.detach()
        if ema is not None:
            x_avg = out.clone() if x_avg is None else ema * x_avg + (1.0 - ema) * out
        for observer in observers:
            observer(out, t)
        fired = monitor.update(out, t) if monitor is not None else False
        halt = fired and isinstance(stop, RunningVariance) and stop.halt
        if t % log_every == 0 or t == budget or halt:
            with torch.no_grad():
                x_t = net(z)
            history["iteration"].append(float(t))
            history["loss"].append(float(value.detach()))
            if monitor is not None:
                history["es_variance"].append(
                    float("nan") if monitor.value is None else monitor.value
                )
            if x_true is not None:
                p, s = _metrics(x_t, x_true, metric_crop)
                history["psnr"].append(p)
                history["ssim"].append(s)
                history["psnr_ema"].append(
                    float("nan") if x_avg is None else _metrics(x_avg, x_true, metric_crop)[0]
                )
                if oracle and (best is None or p > best[0]):
                    best = (p, t, x_t.clone())
            if callback is not None:
                callback(t, x_t)
        if halt:
            break
    with torch.no_grad():
        x_final = (
            x_t
            if x_t is not None and history["iteration"] and history["iteration"][-1] == t
            else net(z)
        )
    x_stop, stop_iteration = x_final, t
    if monitor is not None and monitor.best_iterate is not None:
        x_stop, stop_iteration = monitor.best_iterate, int(monitor.best_iteration or t)
    return FitResult(
        x_final=x_final.detach(),
        x_ema=None if x_avg is None else x_avg,
        history=history,
        stopped_at=t,
        x_stop=x_stop,
        stop_iteration=stop_iteration,
        es_fired=None if monitor is None else monitor.stopped,
        x_oracle=None if best is None else best[2],
        oracle_best_iteration=None if best is None else best[1],
        oracle_best_psnr=None if best is None else best[0],
        z=z,
    )


def _check_first_output(
    out: torch.Tensor, physics: Physics, y: torch.Tensor, x_true: torch.Tensor | None
) -> None:
    """The network's first output against ``physics``/``y`` and ``x_true`` (``InputError``)."""
    apply_physics(physics, out, y)
    if x_true is not None and x_true.shape != out.shape:
        raise InputError(
            f"x_true: expected shape {tuple(out.shape)} (the network's output), "
            f"got {tuple(x_true.shape)}"
        )


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 1:
        raise InputError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)
