"""The learned priors of the CT table: two linear denoisers and two adversarial critics.

Fitted once on the training phantoms and shared by every noise level. The denoisers (Wiener and
MSE-trained circulant, both at ``sigma = cfg.denoiser_sigma``) serve linear plug-and-play; the
critics are Lunz et al.'s ``AR`` (one-sided penalty 20, RMSProp 1e-4) and the convex ``ACR``
(ICNN, two-sided penalty 5, Adam 2e-5), trained on the pooled FBP artefacts.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from .._adversarial import AdversarialRegularizer, Penalty
from .._critics import ConvexCritic, LunzCritic
from .._pnp import CirculantDenoiser
from .config import Config
from .ct_data import CTData

CriticName = Literal["AR", "ACR"]
"""The two trained critics, in training order (also their rows' display labels)."""


@dataclass(frozen=True)
class Denoisers:
    """The linear denoisers of PnP, fitted on the training phantoms (float64)."""

    wiener: CirculantDenoiser
    learned: CirculantDenoiser


@dataclass(frozen=True)
class TrainedCritic:
    """One trained critic with its untrained twin (same initial weights) and training curve.

    Attributes:
        trained: the regulariser with the trained critic (on the CPU).
        untrained: the same architecture and initial weights, never trained (the control).
        curve: per training step, the batch estimate ``E psi(artefact) - E psi(clean)``.
        seconds: training wall time.
    """

    trained: AdversarialRegularizer
    untrained: AdversarialRegularizer
    curve: list[float]
    seconds: float


@dataclass(frozen=True)
class _CriticRecipe:
    make: Callable[[], torch.nn.Module]
    penalty: Penalty
    gp_weight: float
    optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer]


def fit_denoisers(data: CTData, cfg: Config, base: int) -> Denoisers:
    """Wiener filter (closed form, every training phantom) and the MSE-trained denoiser."""
    wiener = CirculantDenoiser.fit_wiener(data.x_train.double(), cfg.denoiser_sigma)
    learned = CirculantDenoiser.fit_mse(
        data.x_train[: cfg.mse_images].double(),
        cfg.denoiser_sigma,
        steps=cfg.mse_steps,
        seed=base + cfg.seeds.ct_train,
        batch_size=cfg.mse_batch,
    )
    return Denoisers(wiener, learned)


def _recipes(n: int) -> dict[CriticName, _CriticRecipe]:
    return {
        "AR": _CriticRecipe(
            lambda: LunzCritic(n),
            "one-sided",
            20.0,
            lambda c: torch.optim.RMSprop(c.parameters(), lr=1e-4),
        ),
        "ACR": _CriticRecipe(
            ConvexCritic,
            "two-sided",
            5.0,
            lambda c: torch.optim.Adam(c.parameters(), lr=2e-5),
        ),
    }


def train_critics(
    data: CTData,
    cfg: Config,
    base: int,
    device: torch.device,
    names: tuple[CriticName, ...] = ("AR", "ACR"),
) -> dict[CriticName, TrainedCritic]:
    """Train the critics ``names`` (AR then ACR) on ``device``, each from weights drawn after
    ``torch.manual_seed(base + seeds.ct_train)`` (so leaving one out changes nothing in the
    other); the trained critics come back to the CPU."""
    seed = base + cfg.seeds.ct_train
    out: dict[CriticName, TrainedCritic] = {}
    for name, recipe in _recipes(cfg.n).items():
        if name not in names:
            continue
        torch.manual_seed(seed)
        critic = recipe.make()
        untrained = AdversarialRegularizer(
            copy.deepcopy(critic), gradient_penalty=recipe.penalty, gp_weight=recipe.gp_weight
        )
        ar = AdversarialRegularizer(
            critic.to(device), gradient_penalty=recipe.penalty, gp_weight=recipe.gp_weight
        )
        t0 = time.perf_counter()
        curve = ar.fit(
            data.x_train.to(device),
            data.fbp_train.to(device),
            cfg.critic_steps,
            recipe.optimizer(critic),
            seed=seed,
            batch_size=cfg.critic_batch,
            progress=True,  # a bar on stderr, silenced by --quiet
        )
        ar.critic.cpu()
        out[name] = TrainedCritic(ar, untrained, curve, time.perf_counter() - t0)
    return out


class ScaledCritic(torch.nn.Module):
    """A critic divided by a fixed constant (the gradient-normalised untrained control).

    Args:
        critic: any critic, ``(B, C, H, W) -> (B,)``.
        scale: the divisor.
    """

    def __init__(self, critic: torch.nn.Module, scale: float) -> None:
        super().__init__()
        self.critic, self.scale = critic, float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``critic(x) / scale``.

        Shapes:
            x: ``(B, C, H, W)``; returns ``(B,)``.
        """
        out: torch.Tensor = self.critic(x) / self.scale
        return out


def grad_norm(critic: torch.nn.Module, x: torch.Tensor) -> float:
    """Mean ``||grad_x critic(x)||_2`` over a batch ``x`` of shape ``(B, C, H, W)``."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(critic(x).sum(), x)
    return float(g.flatten(1).norm(dim=1).mean())


def gradient_normalised(
    untrained: torch.nn.Module, data: CTData
) -> tuple[AdversarialRegularizer, float]:
    """The untrained critic divided by its mean gradient norm on training interpolates.

    The untrained critic's gradient at default initialisation is tiny (about 1e-3), so with AR's
    lambda it is gradient descent in disguise; divided by its mean gradient norm on midpoints of
    clean and FBP training images (the regime the penalty keeps the trained critic in), it gets
    its own lambda factor and stopping index on the validation phantoms, as AR does.

    Returns:
        ``(regulariser with the scaled critic, the gradient norm divided by)``.
    """
    g = grad_norm(untrained, 0.5 * (data.x_train[:64] + data.fbp_train[:64]))
    return AdversarialRegularizer(ScaledCritic(untrained, g)), g
