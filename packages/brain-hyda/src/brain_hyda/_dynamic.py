"""Patient-specific kernels: a mixture of learned bases routed by the patient embedding.

The hypernetwork (dynamic convolution, Chen et al. 2020, eq. 1-3) turns the standardised patient
embedding ``ĝ_p ∈ R^d`` into mixture weights over ``n_b`` learned kernels,

.. math::
    α_p = \\operatorname{softmax}((A ĝ_p + a) / τ) ∈ Δ^{n_b},  \\qquad
    W_p = \\sum_b α_{p,b} W_b ,

so every patient gets its own kernel ``W_p`` at the cost of ``n_b`` kernels. Two places use it:

* :class:`DynamicFusion`: the 1×1×1 kernel that fuses the ``M`` modalities' features at one scale,
  ``F_p = W_p [F_{p,1}; …; F_{p,M}]`` (``"full"``: ``W_b ∈ R^{C×MC}``; ``"channel"``: one weight
  per modality and channel, ``W_b ∈ R^{M×C}``). Every basis starts at the **modality mean** plus
  noise of std ``basis_noise``, so at step 0 (noise 0) the fusion is the mean for every ``α``.
* :class:`DynamicDepthwiseConv3d`: a residual branch ``F + γ ⊙ E(DWConv(R F; Σ_b α_b B_b))``
  with ``γ = 0`` at the start; the per-patient depthwise kernels run in one grouped call
  (:func:`dynamic_depthwise_conv3d`).
"""

from __future__ import annotations

import typing
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml_core import InputError

__all__ = [
    "FUSION_FORMS",
    "BasisRouter",
    "DynamicDepthwiseConv3d",
    "DynamicFusion",
    "FusionForm",
    "dynamic_depthwise_conv3d",
]

FusionForm = Literal["full", "channel"]
FUSION_FORMS: tuple[FusionForm, ...] = typing.get_args(FusionForm)


def dynamic_depthwise_conv3d(x: Tensor, kernels: Tensor) -> Tensor:
    """Each patient's own depthwise 3-D convolution, in one grouped call (zero padding, same size).

    Args:
        x: ``(B, C, D, H, W)``.
        kernels: ``(B, C, k, k, k)``, ``k`` odd: patient ``b``, channel ``c`` uses
            ``kernels[b, c]``.

    Shapes:
        x: ``(B, C, D, H, W)``, kernels: ``(B, C, k, k, k)`` -> ``(B, C, D, H, W)``.

    Examples:
        >>> x = torch.randn(2, 3, 5, 5, 5)
        >>> delta = torch.zeros(2, 3, 3, 3, 3); delta[..., 1, 1, 1] = 1.0
        >>> torch.equal(dynamic_depthwise_conv3d(x, delta), x)
        True
    """
    b, c = x.shape[:2]
    if kernels.ndim != 5 or kernels.shape[:2] != (b, c) or kernels.shape[2] % 2 == 0:
        raise InputError(
            f"kernels: expected ({b}, {c}, k, k, k) with k odd; got {tuple(kernels.shape)}"
        )
    k = kernels.shape[2]
    y = F.conv3d(
        x.reshape(1, b * c, *x.shape[2:]),
        kernels.reshape(b * c, 1, k, k, k),
        padding=k // 2,
        groups=b * c,
    )
    return y.reshape(x.shape)


class BasisRouter(nn.Module):
    """``α = softmax((A ĝ + a) / τ)``; ``A ~ N(0, a_std²)``, ``a = 0`` at the start.

    ``tau`` is a buffer the training loop anneals (``set_tau``).

    Shapes:
        forward: ``(B, d)`` -> ``(B, n_b)``, rows on the simplex.
    """

    def __init__(
        self, embed_dim: int, n_basis: int, *, a_std: float = 1.0, tau: float = 1.0
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(embed_dim, n_basis)
        with torch.no_grad():
            self.linear.weight.normal_(0.0, a_std)
            self.linear.bias.zero_()
        self.register_buffer("tau", torch.tensor(float(tau)))

    def set_tau(self, tau: float) -> None:
        """Set the temperature (> 0)."""
        self.tau.fill_(float(tau))  # type: ignore[operator]  # a registered buffer

    def forward(self, g: Tensor) -> Tensor:
        """Mixture weights of the bases.

        Shapes:
            g: ``(B, d)`` -> ``(B, n_b)``.
        """
        return torch.softmax(self.linear(g) / self.tau, dim=-1)


class DynamicFusion(nn.Module):
    """Fuse ``M`` modalities' maps with a per-patient 1×1×1 kernel ``Σ_b α_b W_b``.

    ``n_basis=1`` with ``α = 1`` is the static fusion of the controls.

    Args:
        channels: ``C`` (each modality's map and the output).
        num_modalities: ``M``.
        n_basis: ``n_b``.
        form: ``"full"`` (``C×MC`` per basis) or ``"channel"`` (``M×C`` per basis).
        basis_noise: Std of the noise added to the mean initialisation.
        generator: Seeds the noise.

    Shapes:
        forward: ``M`` maps ``(B, C, D, H, W)`` and ``α (B, n_b)`` -> ``(B, C, D, H, W)``.
    """

    def __init__(
        self,
        channels: int,
        num_modalities: int,
        *,
        n_basis: int = 4,
        form: FusionForm = "full",
        basis_noise: float = 0.01,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if form not in FUSION_FORMS:
            raise InputError(f"fusion_form: expected one of {FUSION_FORMS}; got {form!r}")
        if n_basis < 1:
            raise InputError(f"n_basis: expected an integer >= 1; got {n_basis}")
        self.form: FusionForm = form
        c, m = channels, num_modalities
        if form == "full":
            mean = torch.cat([torch.eye(c) / m] * m, dim=1)  # (C, M C)
        else:
            mean = torch.full((m, c), 1.0 / m)
        noise = torch.randn((n_basis, *mean.shape), generator=generator) * basis_noise
        self.bases = nn.Parameter(mean.expand(n_basis, *mean.shape) + noise)

    def kernels(self, alpha: Tensor) -> Tensor:
        """The per-patient kernels ``Σ_b α_b W_b``: ``(B, C, MC)`` or ``(B, M, C)``."""
        return torch.einsum("bn,n...->b...", alpha, self.bases)

    def forward(self, maps: list[Tensor], alpha: Tensor) -> Tensor:
        """Fused map per patient.

        Shapes:
            maps: ``M`` × ``(B, C, D, H, W)``, alpha: ``(B, n_b)`` -> ``(B, C, D, H, W)``.
        """
        w = self.kernels(alpha)
        if self.form == "full":
            return torch.einsum("bco,bo...->bc...", w, torch.cat(maps, dim=1))
        stacked = torch.stack(maps, dim=1)  # (B, M, C, ...)
        return (w[..., None, None, None] * stacked).sum(dim=1)


class DynamicDepthwiseConv3d(nn.Module):
    """Residual branch ``F + γ ⊙ E(DWConv(R F; K_p))`` with per-patient depthwise kernels ``K_p``.

    ``mode="basis"``: ``K_p = Σ_b α_{p,b} B_b`` (bases start as centred deltas plus noise);
    ``mode="full"``: ``K_p = reshape(Linear(d, C'·k³)(ĝ_p))``; ``mode="static"``: one kernel.
    ``γ`` starts at zero, so the branch starts as the identity.

    Shapes:
        forward: x ``(B, C, D, H, W)``, alpha ``(B, n_b)``, g ``(B, d)`` -> ``(B, C, D, H, W)``.
    """

    def __init__(
        self,
        channels: int,
        reduced: int,
        *,
        embed_dim: int = 16,
        n_basis: int = 4,
        kernel_size: int = 3,
        mode: Literal["basis", "full", "static"] = "basis",
        basis_noise: float = 0.01,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.k = kernel_size
        self.reduce = nn.Conv3d(channels, reduced, 1)
        self.expand = nn.Conv3d(reduced, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(channels))
        delta = torch.zeros(reduced, kernel_size, kernel_size, kernel_size)
        delta[:, kernel_size // 2, kernel_size // 2, kernel_size // 2] = 1.0
        nb = 1 if mode == "static" else n_basis
        noise = torch.randn((nb, *delta.shape), generator=generator) * basis_noise
        self.bases = nn.Parameter(delta.expand(nb, *delta.shape) + noise)
        self.generator_net = (
            nn.Linear(embed_dim, reduced * kernel_size**3) if mode == "full" else None
        )

    def kernels(self, alpha: Tensor, g: Tensor) -> Tensor:
        """``(B, C', k, k, k)`` per-patient depthwise kernels."""
        if self.generator_net is not None:
            return self.bases[0] + self.generator_net(g).view(g.shape[0], *self.bases.shape[1:])
        if self.mode == "static":
            return self.bases[0].expand(g.shape[0], *self.bases.shape[1:])
        return torch.einsum("bn,n...->b...", alpha, self.bases)

    def forward(self, x: Tensor, alpha: Tensor, g: Tensor) -> Tensor:
        """The adapted map.

        Shapes:
            x: ``(B, C, D, H, W)``, alpha: ``(B, n_b)``, g: ``(B, d)`` -> ``(B, C, D, H, W)``.
        """
        y = dynamic_depthwise_conv3d(self.reduce(x), self.kernels(alpha, g))
        return x + self.gamma[None, :, None, None, None] * self.expand(y)
