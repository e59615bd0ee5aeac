r"""Restoration tasks on invprob-core's operators, with the DIP notebooks' settings as defaults.

* :func:`denoise`: ``Identity()``; ``denoising.ipynb``: 3000 iterations,
  :math:`\sigma_p = 1/30` (1/20 from :math:`\sigma = 50/255`), :meth:`SkipNet.dip_denoising`.
* :func:`inpaint`: ``Mask(m)``; ``inpainting.ipynb`` (text mask): 6001 iterations,
  :math:`\sigma_p = 0.03`, :meth:`SkipNet.dip_inpainting`.
* :func:`super_resolve`: ``Downsample(f, "lanczos2", "replicate")``; ``super-resolution.ipynb``:
  2000 iterations and :math:`\sigma_p = 0.03` for x4 (4000 and 0.05 for x8),
  :meth:`SkipNet.dip_super_resolution`.
* :func:`deblur`: ``Blur(k, boundary)``; no DIP notebook, the denoising settings.

All use Adam with learning rate 0.01, input :math:`z \sim \mathcal U(0, 0.1)` with 32 channels and
the output average :math:`\beta = 0.99`. ``Downsample(f, "lanczos2", "replicate")`` equals the DIP
reference's ``Downsampler(kernel_type="lanczos2", phase=0.5, preserve_size=True)`` (spec §2.1).
``method`` picks the loss: ``"dip"`` (:class:`PixelMSE`), ``"dsp"`` (:class:`DSPLoss`, v2, our
reading), ``"dsp-v1"`` (:class:`DSPLoss`, v1), ``"fourier-l2"`` (:class:`FourierLoss`, the
Parseval control that must behave as DIP), or any loss object.
"""

from __future__ import annotations

import typing
from typing import Literal, TypedDict, Unpack

import torch
from torch import nn

import invprob_core as ipc
from sciml_core import InputError, SeedLike

from ._fit import FitResult, check_measurement, fit
from ._losses import DSPLoss, FourierLoss, Loss, PixelMSE
from ._skip import SkipNet
from ._stopping import StopRule

Method = Literal["dip", "dsp", "dsp-v1", "fourier-l2"]
METHODS: tuple[Method, ...] = typing.get_args(Method)
Task = Literal["denoise", "inpaint", "sr", "deblur"]
TASKS: tuple[Task, ...] = typing.get_args(Task)


def make_loss(method: Method | Loss) -> Loss:
    """The loss of a method name (``METHODS``), or ``method`` itself when it is a loss object."""
    if isinstance(method, str):
        if method not in METHODS:
            raise InputError(f"method: expected one of {METHODS} or a loss object, got {method!r}")
        table: dict[str, Loss] = {
            "dip": PixelMSE(),
            "dsp": DSPLoss("v2"),
            "dsp-v1": DSPLoss("v1"),
            "fourier-l2": FourierLoss(),
        }
        return table[method]
    if not callable(method):
        raise InputError(f"method: expected one of {METHODS} or a loss object, got {method!r}")
    return method


def _check_unit_range(y: torch.Tensor, net: nn.Module, name: str) -> None:
    if getattr(net, "sigmoid", False) and (float(y.min()) < 0.0 or float(y.max()) > 1.0):
        raise InputError(
            f"{name}: values in [{float(y.min()):.4g}, {float(y.max()):.4g}] but the network ends "
            "in a sigmoid, whose outputs lie in (0, 1); clip y to [0, 1] (as DIP does) or pass a "
            "network with sigmoid=False"
        )


class TaskOptions(TypedDict, total=False):
    """The keyword options every task passes on to :func:`dsp_prior.fit`, with the task defaults.

    ``lr`` (0.01, every DIP notebook), ``ema`` (0.99, DIP's output average; ``None``: off),
    ``stop`` (``None``: the whole horizon), ``x_true`` (``None``; only logged metrics use it),
    ``oracle`` (``False``), ``seed`` (``None``), ``log_every`` (25), ``progress_bar`` (``True``).
    """

    lr: float
    ema: float | None
    stop: StopRule | None
    x_true: torch.Tensor | None
    oracle: bool
    seed: SeedLike
    log_every: int
    progress_bar: bool


#: The tasks' defaults of :class:`TaskOptions` (``fit``'s own default is no output average).
_TASK_DEFAULTS: TaskOptions = {
    "lr": 0.01,
    "ema": 0.99,
    "stop": None,
    "x_true": None,
    "oracle": False,
    "seed": None,
    "log_every": 25,
    "progress_bar": True,
}


def _run(
    y: torch.Tensor,
    physics: ipc.LinearOperator,
    net: nn.Module,
    method: Method | Loss,
    options: TaskOptions,
    *,
    iterations: int,
    input_perturbation: float,
    size: tuple[int, int] | None = None,
    metric_crop: int = 0,
) -> FitResult:
    """:func:`fit` with the task's operator, the loss of ``method`` and the task defaults."""
    unknown = sorted(set(options) - set(_TASK_DEFAULTS))
    if unknown:  # what a signature with these keywords spelled out would raise
        raise TypeError(
            f"unexpected keyword argument(s) {unknown}; options: {list(_TASK_DEFAULTS)}"
        )
    merged: TaskOptions = {**_TASK_DEFAULTS, **options}
    return fit(
        y,
        physics,
        net,
        make_loss(method),
        iterations=iterations,
        size=size,
        input_perturbation=input_perturbation,
        metric_crop=metric_crop,
        **merged,
    )


def denoise(
    y: torch.Tensor,
    *,
    sigma: float = 25 / 255,
    method: Method | Loss = "dip",
    net: nn.Module | None = None,
    iterations: int = 3000,
    input_perturbation: float | None = None,
    **options: Unpack[TaskOptions],
) -> FitResult:
    r"""Denoise ``y = x + e`` (``invprob_core.Identity``), DIP's ``denoising.ipynb`` settings.

    Args:
        y: noisy image ``(1, C, H, W)`` in ``[0, 1]`` (DIP clips its noisy images).
        sigma: the noise level (in ``[0, 1]`` units); it only sets the default
            ``input_perturbation`` (1/30, or 1/20 from ``sigma >= 50/255`` on).
        method: ``"dip"``, ``"dsp"``, ``"dsp-v1"``, ``"fourier-l2"`` or a loss object.
        net: the generator (default :meth:`SkipNet.dip_denoising` with ``C`` outputs).
        iterations: the horizon.
        input_perturbation: :math:`\sigma_p` (default from ``sigma``).
        **options: :class:`TaskOptions` (``lr`` 0.01, ``ema`` 0.99, ``stop``, ``x_true``,
            ``oracle``, ``seed``, ``log_every`` 25, ``progress_bar``), as in
            :func:`dsp_prior.fit`.

    Returns:
        :class:`dsp_prior.FitResult`.
    """
    y = check_measurement(y)
    if not (isinstance(sigma, int | float) and 0 <= sigma < float("inf")):
        raise InputError(f"sigma: expected a finite number >= 0, got {sigma!r}")
    net = SkipNet.dip_denoising(y.shape[1]) if net is None else net
    _check_unit_range(y, net, "y")
    if input_perturbation is None:
        input_perturbation = 1 / 20 if sigma >= 50 / 255 - 1e-12 else 1 / 30
    return _run(
        y, ipc.Identity(), net, method, options,
        iterations=iterations, input_perturbation=input_perturbation,
    )  # fmt: skip


def inpaint(
    y: torch.Tensor,
    mask: torch.Tensor,
    *,
    method: Method | Loss = "dip",
    net: nn.Module | None = None,
    iterations: int = 6001,
    input_perturbation: float = 0.03,
    **options: Unpack[TaskOptions],
) -> FitResult:
    r"""Inpaint ``y = m * x`` (``invprob_core.Mask(m)``), DIP's ``inpainting.ipynb`` settings.

    Args:
        y: the masked image ``(1, C, H, W)`` in ``[0, 1]`` (zeros, or anything, in the holes:
            the loss sees ``m * y`` only through ``m * f``; the holes of ``y`` must be ``m * y``).
        mask: ``(H, W)``, 1 where the pixel is known, 0 in the holes (one mask for all channels).
        method, net (default :meth:`SkipNet.dip_inpainting`), iterations, ...: as in
            :func:`denoise`.

    Returns:
        :class:`dsp_prior.FitResult`.
    """
    y = check_measurement(y)
    if not isinstance(mask, torch.Tensor) or mask.shape != y.shape[-2:]:
        got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise InputError(
            f"mask: expected shape {tuple(y.shape[-2:])} (the image's H, W), got {got}"
        )
    mask = mask.to(device=y.device, dtype=y.dtype)
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise InputError("mask: expected values 0 (hole) and 1 (known pixel) only")
    net = SkipNet.dip_inpainting(y.shape[1]) if net is None else net
    _check_unit_range(y, net, "y")
    return _run(
        mask * y, ipc.Mask(mask), net, method, options,
        iterations=iterations, input_perturbation=input_perturbation,
    )  # fmt: skip


def super_resolve(
    y_lr: torch.Tensor,
    factor: int = 4,
    *,
    method: Method | Loss = "dip",
    net: nn.Module | None = None,
    iterations: int | None = None,
    input_perturbation: float | None = None,
    **options: Unpack[TaskOptions],
) -> FitResult:
    r"""Super-resolve ``y_lr = S(k * x)`` (``Downsample(factor, "lanczos2", "replicate")``).

    Defaults of ``super-resolution.ipynb``: 2000 iterations and :math:`\sigma_p = 0.03` for x4,
    4000 and 0.05 for x8. PSNR/SSIM leave out a border of ``factor`` pixels.

    Args:
        y_lr: low-resolution image ``(1, C, h, w)``; the result is ``(1, C, f h, f w)``.
        factor: integer scale factor.
        method, net (default :meth:`SkipNet.dip_super_resolution`), ...: as in :func:`denoise`.

    Returns:
        :class:`dsp_prior.FitResult`.
    """
    y_lr = check_measurement(y_lr, "y_lr")
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 2:
        raise InputError(f"factor: expected an integer >= 2, got {factor!r}")
    big = factor >= 8
    iterations = (4000 if big else 2000) if iterations is None else iterations
    input_perturbation = (
        (0.05 if big else 0.03) if input_perturbation is None else input_perturbation
    )
    net = SkipNet.dip_super_resolution(y_lr.shape[1]) if net is None else net
    size = (y_lr.shape[-2] * factor, y_lr.shape[-1] * factor)
    physics = ipc.Downsample(factor, "lanczos2", "replicate")
    return _run(
        y_lr, physics, net, method, options,
        iterations=iterations, input_perturbation=input_perturbation, size=size, metric_crop=factor,
    )  # fmt: skip


def deblur(
    y: torch.Tensor,
    kernel: torch.Tensor,
    *,
    boundary: str = "circular",
    method: Method | Loss = "dip",
    net: nn.Module | None = None,
    iterations: int = 3000,
    input_perturbation: float = 1 / 30,
    **options: Unpack[TaskOptions],
) -> FitResult:
    r"""Deblur ``y = k * x + e`` (``invprob_core.Blur(kernel, boundary)``), denoising settings.

    The DIP reference has no deblurring notebook; the denoising settings are used.

    Args:
        y: blurred image ``(1, C, H, W)``.
        kernel: 2-D blur kernel (e.g. ``invprob_core.gaussian_kernel(1.6)``).
        boundary: the blur's boundary mode (invprob-core's ``Blur``).
        method, net (default :meth:`SkipNet.dip_denoising`), ...: as in :func:`denoise`.

    Returns:
        :class:`dsp_prior.FitResult`.
    """
    y = check_measurement(y)
    # invprob-core checks the mode at run time; its Literal type is not part of its public API
    physics = ipc.Blur(kernel, boundary=boundary)  # type: ignore[arg-type]
    net = SkipNet.dip_denoising(y.shape[1]) if net is None else net
    return _run(
        y, physics, net, method, options,
        iterations=iterations, input_perturbation=input_perturbation,
    )  # fmt: skip
