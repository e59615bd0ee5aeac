r"""The max/min unit and the augmented block of the fixed-width architecture (spec §2.2-2.3).

On the first two coordinates, :math:`z - w\,\mathrm{ReLU}(w^Tz)` with :math:`w = e_2 - e_1` returns
:math:`(\max(z_1, z_2), \min(z_1, z_2), z_3, \dots)`: a gradient block with :math:`\|w\|_2^2 = 2`
at :math:`h = 1 = 2/\|w\|^2` (the official ``AugmentedNonExpansiveBlock.top_part``). Sorting two
coordinates is 1-Lipschitz in ℓ2 (it is such a block) and in ℓ∞ on the pair
(:math:`|\max(a) - \max(b)| \le \max_i |a_i - b_i|`), hence in the mixed norm
:math:`\|z\|_\star = \max(|z_1|, |z_2|, |z_3|, \|z_{4:}\|_2)`.

With it, :math:`|x| = \max(x, -x)`: lift :math:`x \mapsto (x, -x, 0)`, one unit, read
:math:`e_1`; a maximum of affine functions is assembled the same way (the paper's exact
representation of piecewise-affine 1-Lipschitz functions).
"""

from __future__ import annotations

import typing
from typing import Any

import torch
from torch import Tensor, nn

from ._common import (
    ACTIVATIONS,
    NORM_MODES,
    Activation,
    NormMode,
    check_choice,
    check_features,
    check_int,
)
from ._gradient_step import GradientStep

__all__ = ["AugmentedGradientStep", "MaxMin"]


class MaxMin(nn.Module):
    r"""Sort coordinates 1 and 2: :math:`z \mapsto (\max(z_1,z_2), \min(z_1,z_2), z_{3:})`.

    Equal to :math:`z - w\,\mathrm{ReLU}(w^Tz)`, :math:`w = e_2 - e_1`; 1-Lipschitz in ℓ2 and in
    the mixed norm (no parameters).

    Shapes:
        z: ``[B, m]``, m >= 2 -> ``[B, m]``.

    Examples:
        >>> MaxMin()(torch.tensor([[1.0, 3.0, 5.0], [4.0, -2.0, 0.0]])).tolist()
        [[3.0, 1.0, 5.0], [4.0, -2.0, 0.0]]
    """

    in_norm = "any"
    out_norm = "any"

    def forward(self, z: Tensor) -> Tensor:
        """Shapes: ``[B, m]`` -> ``[B, m]``."""
        if z.dim() < 1 or z.shape[-1] < 2:
            check_features(z, 2, "z")
        # = z - w ReLU(w^T z) in exact arithmetic; max/min avoid its rounding
        a, b = z[..., 0:1], z[..., 1:2]
        return torch.cat([torch.maximum(a, b), torch.minimum(a, b), z[..., 2:]], dim=-1)

    def reset_parameters(self) -> None:
        """No parameters."""

    def lipschitz_bound(self) -> float:
        """1 (in ℓ2 and in the mixed norm)."""
        return 1.0

    def export_stages(self, width: int, dtype: torch.dtype) -> list[tuple[str, nn.Module]]:
        """``z + Linear_out(ReLU(Linear_in(z)))`` with ``w = e_2 - e_1``."""
        inner = nn.Linear(width, 1, bias=False)
        outer = nn.Linear(1, width, bias=False)
        with torch.no_grad():
            inner.weight.zero_()
            inner.weight[0, 0], inner.weight[0, 1] = -1.0, 1.0
            outer.weight.copy_(-inner.weight.T)
        return [("residual", nn.Sequential(inner, nn.ReLU(), outer).to(dtype))]


class AugmentedGradientStep(nn.Module):
    r"""The fixed-width block: max/min on :math:`(z_1, z_2)`, identity on :math:`z_3`, a gradient
    block on :math:`z_{4:}` (the official ``AugmentedNonExpansiveBlock``).

    Non-expansive in :math:`\|\cdot\|_\star`: the top three outputs are 1-Lipschitz in
    :math:`\max(|z_1|, |z_2|, |z_3|)` and the gradient block in :math:`\|z_{4:}\|_2`, so the bound
    is the gradient block's, :math:`\max(1, h\|W\|_2^2 - 1) = 1` under the cap.

    Args:
        width: m >= 3.
        hidden: rows of the gradient block's W (default m - 3).
        activation, step, tau_init, norm, n_power_iter, refresh_every: as
            :class:`~lipres.GradientStep`.

    Shapes:
        z: ``[B, m]`` -> ``[B, m]``.

    Examples:
        >>> block = AugmentedGradientStep(5)
        >>> out = block(torch.tensor([[1.0, 2.0, 3.0, 0.0, 0.0]]))
        >>> out[0, :3].tolist(), block.lipschitz_bound()
        ([2.0, 1.0, 3.0], 1.0)
    """

    in_norm = "mixed"
    out_norm = "mixed"

    def __init__(
        self,
        width: int,
        hidden: int | None = None,
        *,
        activation: Activation = "relu",
        step: str | float = "learned",
        tau_init: float = 2.0,
        norm: NormMode = "verified",
        n_power_iter: int = 2,
        refresh_every: int = 100,
    ) -> None:
        super().__init__()
        self.width = check_int(width, "width", minimum=3)
        check_choice(activation, "activation", ACTIVATIONS)
        check_choice(norm, "norm", NORM_MODES)
        self.maxmin = MaxMin()
        self.grad: GradientStep | None = None
        if width > 3:
            self.grad = GradientStep(
                width - 3,
                hidden,
                activation=activation,
                step=step,
                tau_init=tau_init,
                norm=norm,
                n_power_iter=n_power_iter,
                refresh_every=refresh_every,
            )

    def reset_parameters(self) -> None:
        """Reset the gradient block."""
        if self.grad is not None:
            self.grad.reset_parameters()

    def forward(self, z: Tensor) -> Tensor:
        """Shapes: ``[B, m]`` -> ``[B, m]``."""
        check_features(z, self.width, "z")
        top = self.maxmin(z[..., :3])
        if self.grad is None:
            return top
        return torch.cat([top, self.grad(z[..., 3:])], dim=-1)

    def lipschitz_bound(self) -> float:
        """Bound in the mixed norm: ``max(1, gradient block's bound)``."""
        return 1.0 if self.grad is None else max(1.0, self.grad.lipschitz_bound())

    def constrain_(self) -> None:
        """Re-cap the gradient block exactly."""
        if self.grad is not None:
            self.grad.constrain_()

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        """Two residual stages on disjoint coordinates: the max/min unit, then the gradient
        block zero-padded to the full width (they commute, so the order is immaterial)."""
        dtype = next(iter(self.parameters()), torch.zeros(())).dtype
        stages = self.maxmin.export_stages(self.width, dtype)
        if self.grad is None:
            return stages
        (_, stage), *_ = self.grad.export_stages()
        seq = typing.cast(nn.Sequential, stage)
        g_in = typing.cast(nn.Linear, seq[0])
        g_out = typing.cast(nn.Linear, seq[2])
        k = self.grad.hidden
        inner = nn.Linear(self.width, k).to(dtype)
        outer = nn.Linear(k, self.width, bias=False).to(dtype)
        with torch.no_grad():
            inner.weight.zero_()
            outer.weight.zero_()
            inner.weight[:, 3:] = g_in.weight
            inner.bias.copy_(g_in.bias)
            outer.weight[3:, :] = g_out.weight
        device = g_in.weight.device
        stages.append(("residual", nn.Sequential(inner, seq[1], outer).to(device)))
        return stages

    def config(self) -> dict[str, Any]:
        cfg = {"width": self.width}
        if self.grad is not None:
            g = self.grad.config()
            cfg.update({k: g[k] for k in ("activation", "step", "tau_init", "norm")})
            cfg["hidden"] = g["hidden"]
        return cfg

    def extra_repr(self) -> str:
        return f"{self.width}, bound={self.lipschitz_bound():.6g}"
