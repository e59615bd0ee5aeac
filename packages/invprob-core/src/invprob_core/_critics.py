"""Critics for adversarial regularisation: Lunz et al.'s CNN, a size-agnostic variant, and ICNN."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sciml_core import InputError


def _conv_stack(in_channels: int) -> nn.Sequential:
    # six 5x5 convolutions with 16, 32, 32/s2, 64/s2, 64/s2, 128/s2 channels (Lunz et al. 2018)
    spec = [(16, 1), (32, 1), (32, 2), (64, 2), (64, 2), (128, 2)]
    layers: list[nn.Module] = []
    c = in_channels
    for out, stride in spec:
        layers += [nn.Conv2d(c, out, 5, stride=stride, padding=2), nn.LeakyReLU(0.1)]
        c = out
    return nn.Sequential(*layers)


class LunzCritic(nn.Module):
    r"""The critic of Lunz, Öktem and Schönlieb (2018): six 5x5 convolutions, then FC 256 -> 1.

    Convolutions with 16, 32, 32 (stride 2), 64 (s2), 64 (s2), 128 (s2) channels and LeakyReLU,
    flattened into a fully connected layer of 256 units and a scalar output. The FC size
    depends on the image size, so the critic is size-specific (``image_size`` divisible by 16).

    Shapes:
        x: ``(B, C, H, W)`` -> ``(B,)``.

    Examples:
        >>> import torch
        >>> LunzCritic(32)(torch.zeros(2, 1, 32, 32)).shape
        torch.Size([2])
    """

    def __init__(self, image_size: int, in_channels: int = 1) -> None:
        super().__init__()
        if image_size < 16 or image_size % 16:
            raise InputError(f"image_size: expected a multiple of 16, got {image_size}")
        self.image_size, self.in_channels = int(image_size), int(in_channels)
        self.convs = _conv_stack(in_channels)
        side = image_size // 16
        self.fc = nn.Sequential(
            nn.Linear(128 * side * side, 256), nn.LeakyReLU(0.1), nn.Linear(256, 1)
        )

    def config(self) -> dict[str, int]:
        return {"image_size": self.image_size, "in_channels": self.in_channels}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Critic values (low on clean images, high on artefacts).

        Shapes:
            x: ``(B, C, image_size, image_size)`` -> ``(B,)``.
        """
        if x.ndim != 4 or x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            raise InputError(
                f"x: expected (B, C, {self.image_size}, {self.image_size}), got {tuple(x.shape)}"
            )
        return self.fc(self.convs(x).flatten(1)).squeeze(-1)


class ConvCritic(nn.Module):
    r"""Size-agnostic variant of :class:`LunzCritic`: the same convolutions, then a global mean
    and a linear map of the 128 channels to a scalar.

    Shapes:
        x: ``(B, C, H, W)`` -> ``(B,)``.
    """

    def __init__(self, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = int(in_channels)
        self.convs = _conv_stack(in_channels)
        self.head = nn.Linear(128, 1)

    def config(self) -> dict[str, int]:
        return {"in_channels": self.in_channels}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Critic values (low on clean images, high on artefacts).

        Shapes:
            x: ``(B, C, H, W)`` -> ``(B,)``.
        """
        return self.head(self.convs(x).mean(dim=(-2, -1))).squeeze(-1)


class ConvexCritic(nn.Module):
    r"""Input-convex critic (ACR, Mukherjee et al. 2020):
    :math:`R(x) = \mathrm{ICNN}(x) + \sum_k \mathrm{softplus}(p_k)\,\overline{|(w_k * x)|}
    + \mathrm{softplus}(l)\,\overline{x^2}` (bars: means over pixels).

    The ICNN is :math:`z_1 = \phi(W^x_0 x)`, :math:`z_{k+1} = \phi(W^z_k z_k + W^x_k x)`,
    output the spatial mean of :math:`W^z_K z_K`, with :math:`\phi` = LeakyReLU(0.2) (convex,
    non-decreasing) and non-negative :math:`W^z` (enforced by :meth:`project`, which
    :meth:`AdversarialRegularizer.fit` calls after every optimiser step), so :math:`R` is convex
    in :math:`x`. ACR training settings (Mukherjee et al.'s code): two-sided gradient penalty
    with weight 5, Adam with learning rate 2e-5.

    Shapes:
        x: ``(B, C, H, W)`` -> ``(B,)``.
    """

    def __init__(
        self, in_channels: int = 1, hidden: int = 16, n_layers: int = 3, kernel_size: int = 5
    ) -> None:
        super().__init__()
        self.cfg = {
            "in_channels": int(in_channels),
            "hidden": int(hidden),
            "n_layers": int(n_layers),
            "kernel_size": int(kernel_size),
        }
        p = kernel_size // 2
        self.wx = nn.ModuleList(
            [nn.Conv2d(in_channels, hidden, kernel_size, padding=p) for _ in range(n_layers)]
        )
        self.wz = nn.ModuleList(
            [
                nn.Conv2d(hidden, hidden, kernel_size, padding=p, bias=False)
                for _ in range(n_layers - 1)
            ]
        )
        self.out = nn.Conv2d(hidden, 1, 1, bias=False)
        self.sparse = nn.Conv2d(in_channels, 8, kernel_size, padding=p, bias=False)
        self.sparse_weight = nn.Parameter(torch.zeros(8))
        self.l2_weight = nn.Parameter(torch.tensor(-4.0))
        self.project()

    def config(self) -> dict[str, int]:
        return dict(self.cfg)

    @torch.no_grad()
    def project(self) -> None:
        """Clamp the z-path weights to be non-negative (keeps the ICNN convex)."""
        for conv in [*self.wz, self.out]:
            conv.weight.clamp_(min=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`R(x)`, convex in ``x``.

        Shapes:
            x: ``(B, C, H, W)`` -> ``(B,)``.
        """
        z = F.leaky_relu(self.wx[0](x), 0.2)
        for wz, wx in zip(self.wz, self.wx[1:]):
            z = F.leaky_relu(wz(z) + wx(x), 0.2)
        icnn = self.out(z).mean(dim=(-3, -2, -1))
        l1 = (F.softplus(self.sparse_weight)[None, :, None, None] * self.sparse(x).abs()).sum(1)
        l2 = F.softplus(self.l2_weight) * (x**2).mean(dim=(-3, -2, -1))
        return icnn + l1.mean(dim=(-2, -1)) + l2


CRITICS = {"LunzCritic": LunzCritic, "ConvCritic": ConvCritic, "ConvexCritic": ConvexCritic}
