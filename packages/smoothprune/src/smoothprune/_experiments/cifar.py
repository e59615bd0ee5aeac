"""The paper's headline case, opt-in: ResNet-18 on the user's CIFAR-10, SVD at 30 % of the model.

Runs only with ``reproduce --cifar10 ROOT`` (the python batches on disk; nothing is downloaded):
``cifar_resnet18``, random crop (padding 4) and flip, SGD momentum 0.9, cosine learning rate from
0.1, weight decay 5e-4, plain and smooth (Δ² along ``out``), then SVD compression to
``params=0.3`` of the model without fine-tuning. Hours on a CPU; the paper reports 91 %.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

from .._cifar import load_cifar10
from .._compress import compress_model
from .._models import cifar_resnet18
from .._regularizer import SmoothnessRegularizer
from .._train import accuracy
from .context import Context

_MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).reshape(1, 3, 1, 1)
_STD = torch.tensor([0.2470, 0.2435, 0.2616]).reshape(1, 3, 1, 1)


def _tensor(x: np.ndarray) -> torch.Tensor:
    return (torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0 - _MEAN) / _STD


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n = len(x)
    padded = F.pad(x, (4, 4, 4, 4))
    dy, dx = torch.randint(0, 9, (2,), generator=gen).tolist()
    out = padded[:, :, dy : dy + 32, dx : dx + 32]
    flip = torch.rand(n, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def run(ctx: Context) -> None:
    """Train plain and smooth ResNet-18 on the user's CIFAR-10 and compress to 30 %."""
    if ctx.cifar10 is None:
        return
    cfg = ctx.config
    device = torch.device(ctx.device)
    x_np, y_np = load_cifar10(ctx.cifar10, train=True, verify=False)
    xt_np, yt_np = load_cifar10(ctx.cifar10, train=False, verify=False)
    if cfg.cifar_subset:
        x_np, y_np = x_np[: cfg.cifar_subset], y_np[: cfg.cifar_subset]
    x, y = _tensor(x_np), torch.from_numpy(y_np)
    xt, yt = _tensor(xt_np), torch.from_numpy(yt_np)
    rows = []
    for run_name, lam in (("plain", 0.0), ("smooth-out2", 1e-4)):
        torch.manual_seed(ctx.seed)
        model = cifar_resnet18().to(device)
        reg = SmoothnessRegularizer(model, second_order=lam) if lam else None
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        steps = cfg.cifar_epochs * math.ceil(len(x) / 128)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1))
        gen = torch.Generator().manual_seed(ctx.seed)
        model.train()
        for _ in range(cfg.cifar_epochs):
            perm = torch.randperm(len(x), generator=gen)
            for start in range(0, len(x), 128):
                idx = perm[start : start + 128]
                xb = _augment(x[idx], gen).to(device)
                loss = F.cross_entropy(model(xb), y[idx].to(device))
                if reg is not None:
                    loss = loss + reg()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        model.eval()
        full = accuracy(model, xt, yt)
        rep = compress_model(model, params=0.3)
        comp = accuracy(rep.model, xt, yt)
        ctx.values["cifar10", run_name, "full"] = full
        ctx.values["cifar10", run_name, "params0.3"] = comp
        rows.append([run_name, lam, cfg.cifar_epochs, len(x), full, comp, rep.params_after])
    ctx.result.add_table(
        "cifar10_resnet18",
        "ResNet-18 on the user's CIFAR-10: full and SVD-compressed to 30 % of the model "
        "(no fine-tuning)",
        [
            "run",
            "lambda2",
            "epochs",
            "train_images",
            "accuracy_full",
            "accuracy_params0.3",
            "parameters",
        ],
        rows,
    )
    acc = ctx.values["cifar10", "smooth-out2", "params0.3"]
    ctx.result.add_claim(
        "cifar10_headline",
        "paper: 91 % for a smooth ResNet-18 at 70 % fewer parameters",
        round(acc, 4),
        acc >= 0.91,
    )
