"""Every exported layer and network, stressed so that its constraints are active.

Each entry gives the module, how to sample inputs, and the norms it is measured in (the law:
random pairs never beat ``lipschitz_bound()``; constrained entries have a bound <= 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import lipres
import torch
from torch import Tensor, nn


@dataclass
class Entry:
    module: nn.Module
    shape: tuple[int, ...]
    in_norm: str = "l2"
    out_norm: str = "l2"
    constrained: bool = True


def _stress(module: nn.Module, factor: float = 7.0) -> nn.Module:
    """Blow the raw weights and steps up: the forward must still respect its constraints."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("tau"):
                p.fill_(50.0)
            elif "weight" in name or "rows" in name:
                p.mul_(factor)
    return module


def zoo() -> dict[str, Entry]:
    torch.manual_seed(0)
    e: dict[str, Entry] = {}
    e["gradient_step"] = Entry(_stress(lipres.GradientStep(5)), (5,))
    e["gradient_step_wide_hidden"] = Entry(_stress(lipres.GradientStep(4, hidden=9)), (4,))
    e["gradient_step_narrow_hidden"] = Entry(_stress(lipres.GradientStep(6, hidden=2)), (6,))
    e["gradient_step_tanh"] = Entry(_stress(lipres.GradientStep(5, activation="tanh")), (5,))
    e["gradient_step_softplus"] = Entry(
        _stress(lipres.GradientStep(5, activation="softplus")), (5,)
    )
    e["gradient_step_max"] = Entry(_stress(lipres.GradientStep(5, step="max")), (5,))
    e["gradient_step_fixed"] = Entry(_stress(lipres.GradientStep(5, step=9.0)), (5,))
    e["maxmin"] = Entry(lipres.MaxMin(), (5,))
    e["maxmin_mixed"] = Entry(lipres.MaxMin(), (5,), "mixed", "mixed")
    e["augmented"] = Entry(_stress(lipres.AugmentedGradientStep(7)), (7,), "mixed", "mixed")
    e["augmented_width3"] = Entry(lipres.AugmentedGradientStep(3), (3,), "mixed", "mixed")
    e["mixed_affine"] = Entry(_stress(lipres.MixedNormAffine(7)), (7,), "mixed", "mixed")
    e["lifting_l2"] = Entry(_stress(lipres.Lifting(3, 6)), (3,))
    e["lifting_mixed"] = Entry(_stress(lipres.Lifting(3, 6, norm="mixed")), (3,), "l2", "mixed")
    e["scalar_head_l2"] = Entry(_stress(lipres.ScalarHead(6)), (6,))
    e["scalar_head_mixed"] = Entry(_stress(lipres.ScalarHead(6, norm="mixed")), (6,), "mixed")
    e["classifier_head"] = Entry(lipres.ClassifierHead(6, 4), (6,), constrained=False)
    e["classifier_head_mixed"] = Entry(
        lipres.ClassifierHead(6, 4, norm="mixed"), (6,), "mixed", constrained=False
    )
    e["groupsort"] = Entry(lipres.GroupSort2(), (6,))
    e["spectral_linear"] = Entry(_stress(lipres.SpectralLinear(5, 3)), (5,))
    e["spectral_mlp"] = Entry(_stress(lipres.SpectralNormMLP(4, 3, 6, 2)), (4,))
    e["spectral_mlp_relu"] = Entry(
        _stress(lipres.SpectralNormMLP(4, 3, 6, 2, activation="relu")), (4,)
    )
    e["unconstrained_resnet"] = Entry(
        lipres.UnconstrainedResNet(3, 2, 6, 2), (3,), constrained=False
    )
    e["gradient_conv_circular"] = Entry(
        _stress(lipres.GradientConv2d(2, 3, image_size=6)), (2, 6, 6)
    )
    e["gradient_conv_zeros"] = Entry(
        _stress(lipres.GradientConv2d(2, 3, image_size=(5, 6), padding="zeros")), (2, 5, 6)
    )
    e["gradient_conv_max"] = Entry(
        _stress(lipres.GradientConv2d(2, 2, kernel_size=1, image_size=4, step="max")), (2, 4, 4)
    )
    e["critic"] = Entry(_stress(lipres.LipCritic(1, 6, width=3, depth=2), 3.0), (1, 6, 6))
    e["resnet_gradient"] = Entry(_stress(lipres.LipResNet(2, 6, 3), 3.0), (2,))
    e["resnet_fixed_width"] = Entry(
        _stress(lipres.LipResNet(2, 6, 3, architecture="fixed-width"), 3.0), (2,)
    )
    e["resnet_lipschitz_2"] = Entry(_stress(lipres.LipResNet(2, 5, 2, lipschitz=2.0)), (2,))
    e["classifier_gradient"] = Entry(
        lipres.LipResNetClassifier(3, 4, 6, 2), (3,), constrained=False
    )
    e["classifier_fixed_width"] = Entry(
        lipres.LipResNetClassifier(3, 4, 6, 2, architecture="fixed-width"), (3,), constrained=False
    )
    return e


def norm_of(z: Tensor, kind: str) -> Tensor:
    flat = z.reshape(z.shape[0], -1) if z.dim() > 1 else z[:, None]
    if kind == "mixed":
        return lipres.dual_norm(flat, "l2") if flat.shape[1] < 3 else _mixed(flat)
    return torch.linalg.vector_norm(flat, dim=1)


def _mixed(z: Tensor) -> Tensor:
    top = z[:, :3].abs()
    rest = torch.linalg.vector_norm(z[:, 3:], dim=1, keepdim=True)
    return torch.cat([top, rest], dim=1).amax(dim=1)


def pairs(entry: Entry, dtype: torch.dtype, n: int, seed: int) -> tuple[Tensor, Tensor]:
    """Data-scale pairs plus close pairs (separation 0.05-0.5), all in ``dtype``."""
    g = torch.Generator().manual_seed(seed)
    a = 2.0 * torch.randn(n, *entry.shape, generator=g, dtype=torch.float64)
    b = 2.0 * torch.randn(n, *entry.shape, generator=g, dtype=torch.float64)
    d = torch.randn(n, *entry.shape, generator=g, dtype=torch.float64)
    d = d / d.reshape(n, -1).norm(dim=1).reshape(-1, *[1] * len(entry.shape))
    r = 0.05 + 0.45 * torch.rand(n, generator=g, dtype=torch.float64)
    close = a + d * r.reshape(-1, *[1] * len(entry.shape))
    b[n // 2 :] = close[n // 2 :]
    return a.to(dtype), b.to(dtype)


Law = Callable[[Entry, torch.dtype], float]
