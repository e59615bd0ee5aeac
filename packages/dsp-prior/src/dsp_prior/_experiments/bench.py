"""``dsp-prior bench``: one DIP iteration, ours against DeepInverse's, and the spectral overhead.

``speedup = t_peer / t_ours``. The peer is ``deepinv.models.DeepImagePrior`` (the ``[bench]``
extra) on the same network, input size and learning rate, with ``deepinv.physics.Denoising``;
without deepinv a plain PyTorch loop (Adam, forward, MSE, backward) stands in and the row says so.
Ours is :func:`dsp_prior.fit` with ``PixelMSE``, no perturbation, no averaging, no logging.
"""

from __future__ import annotations

import importlib.util
import warnings
from functools import partial

import torch

from sciml_core import Comparison, compare_timing, resolve_device

from .._fit import fit
from .._losses import DSPLoss, FourierLoss, Loss, PixelMSE
from .._skip import SkipNet


def _ours(y: torch.Tensor, net: SkipNet, loss: Loss, n: int) -> None:
    fit(y, None, net, loss, iterations=n, log_every=n, seed=0, progress_bar=False)


def _plain_loop(y: torch.Tensor, net: SkipNet, n: int) -> None:
    z = 0.1 * torch.rand(1, 32, *y.shape[-2:], device=y.device)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(n):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(z), y)
        loss.backward()
        opt.step()


def _deepinv_peer(y: torch.Tensor, net: SkipNet, n: int):
    import deepinv

    model = deepinv.models.DeepImagePrior(
        generator=net, img_size=(32, *y.shape[-2:]), iterations=n, learning_rate=0.01
    )
    physics = deepinv.physics.Denoising()
    return lambda: model(y, physics)


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows and return them (each row names its peer)."""
    dev = resolve_device(device)
    torch.manual_seed(seed)
    n = 5 if quick else 50
    sizes = [64] if quick else [64, 128]
    has_deepinv = importlib.util.find_spec("deepinv") is not None
    rows: list[Comparison] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a loaded machine is flagged in the row
        for size in sizes:
            y = torch.rand(1, 1, size, size, device=dev)
            net = SkipNet.small(1).to(dev)
            if has_deepinv:
                peer, name = _deepinv_peer(y, net, n), "deepinv DeepImagePrior"
            else:
                peer = partial(_plain_loop, y, net, n)
                name = "plain torch loop (deepinv missing)"
            rows.append(compare_timing(
                partial(_ours, y, net, PixelMSE(), n), peer, repeats=3, warmup=1, device=dev,
                label=f"DIP {n} its, small net, {size}^2, peer {name}",
            ))  # fmt: skip
            for label, loss in (("FourierLoss", FourierLoss()), ("DSPLoss v2", DSPLoss("v2"))):
                rows.append(compare_timing(
                    partial(_ours, y, net, loss, n), partial(_ours, y, net, PixelMSE(), n),
                    repeats=3, warmup=1, device=dev,
                    label=f"{label} vs PixelMSE (peer), {n} its, {size}^2",
                ))  # fmt: skip
    return rows
