"""Adversarial regularisation (Lunz, Öktem, Schönlieb 2018) and its convex variant."""

from __future__ import annotations

import typing
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from sciml_core import (
    InputError,
    as_torch_generator,
    check_finite,
    load_checkpoint,
    save_checkpoint,
)

from .__about__ import __version__
from ._autograd import apply_forward
from ._critics import CRITICS
from ._operator import LinearOperator, check_tensor
from ._result import (
    Callback,
    SolverResult,
    check_data,
    check_like,
    check_operator,
    check_positive,
    image_shape,
    sqnorm_upper,
)

SeedLike = int | np.random.Generator | torch.Generator | None
Penalty = Literal["one-sided", "two-sided", "none"]
"""Gradient penalty of the critic loss: one-sided (Lunz et al.), two-sided (WGAN-GP) or none."""
PENALTIES: tuple[Penalty, ...] = typing.get_args(Penalty)


def _count(value: object, name: str, *, minimum: int) -> int:
    """An integer ``>= minimum`` (integral floats such as 2.7 are refused, not truncated)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _image_like(A: LinearOperator, y: torch.Tensor, x: object, name: str) -> torch.Tensor:
    """Check that ``x`` is an image stack matching data ``y``: shape, dtype, device, finite."""
    t = check_tensor(x, name)
    k = len(A.out_shape) if A.out_shape is not None else 2
    expected = (*y.shape[: y.ndim - k], *image_shape(A, y))
    check_like(t, torch.empty(expected, dtype=y.dtype, device=y.device), name)
    return t


class AdversarialRegularizer:
    r"""Train a critic :math:`\Psi_\Theta` to tell clean images from pseudo-inverse artefacts.

    Loss (Lunz et al. 2018, eq. 5; Gulrajani et al. 2017 for the penalty):

    .. math::
        L(\Theta) = E_{x \sim P_r}\Psi(x) - E_{x \sim P_n}\Psi(x)
        + \mu\, E_{\hat x}\,\varphi(\|\nabla_x\Psi(\hat x)\|_2 - 1),
        \quad \hat x = \epsilon x_n + (1 - \epsilon) x_r,\ \epsilon \sim U[0, 1],

    with :math:`\varphi(t) = \max(t, 0)^2` (``"one-sided"``, the original code, :math:`\mu = 20`)
    or :math:`\varphi(t) = t^2` (``"two-sided"``, WGAN-GP). A critic with a
    ``lipschitz_bound()`` method returning at most 1 may use ``"none"``.

    Reconstruction minimises :math:`\tfrac12\|Ax - y\|^2 + \lambda\Psi(x)` by gradient descent
    with Armijo backtracking from :math:`x_0` (FBP for a ray transform), for a fixed number of
    steps (:math:`\Psi` is not convex: no convergence theory; results depend on the budget).

    Args:
        critic: any module mapping ``(B, C, H, W)`` to ``(B,)``.
        gradient_penalty: ``"one-sided"``, ``"two-sided"`` or ``"none"``.
        gp_weight: :math:`\mu`.
    """

    def __init__(
        self, critic: nn.Module, gradient_penalty: Penalty = "one-sided", gp_weight: float = 20.0
    ) -> None:
        if not isinstance(critic, nn.Module):
            raise InputError(f"critic: expected a torch.nn.Module, got {type(critic).__name__}")
        if gradient_penalty not in PENALTIES:
            raise InputError(
                f"gradient_penalty: expected one of {PENALTIES}, got {gradient_penalty!r}"
            )
        gp_weight = check_positive(gp_weight, "gp_weight", allow_zero=True)
        if gradient_penalty == "none":
            bound = getattr(critic, "lipschitz_bound", None)
            if not (callable(bound) and float(bound()) <= 1.0):
                warnings.warn(
                    "gradient_penalty='none' with a critic that does not certify "
                    "lipschitz_bound() <= 1: the loss is unbounded below",
                    UserWarning,
                    stacklevel=2,
                )
        self.critic = critic
        self.gradient_penalty = gradient_penalty
        self.gp_weight = gp_weight
        self.history: list[float] = []

    # -- training ------------------------------------------------------------------------------
    def penalty(self, x_hat: torch.Tensor) -> torch.Tensor:
        r"""Batch mean of :math:`\varphi(\|\nabla\Psi(\hat x)\|_2 - 1)` (differentiable)."""
        if self.gradient_penalty == "none":
            return x_hat.new_zeros(())
        x_hat = x_hat.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(self.critic(x_hat).sum(), x_hat, create_graph=True)
        gn = g.flatten(1).norm(dim=1)
        t = gn - 1.0
        phi = torch.clamp(t, min=0.0) ** 2 if self.gradient_penalty == "one-sided" else t**2
        return phi.mean()

    def loss(
        self, x_clean: torch.Tensor, x_artefact: torch.Tensor, *, seed: SeedLike = None
    ) -> torch.Tensor:
        """The critic loss on one batch of clean and artefact images (same shape)."""
        check_tensor(x_clean, "x_clean")
        check_tensor(x_artefact, "x_artefact")
        check_finite(x_clean, "x_clean")
        check_finite(x_artefact, "x_artefact")
        if x_clean.shape != x_artefact.shape:
            raise InputError(
                f"x_artefact: expected the shape of x_clean {tuple(x_clean.shape)}, "
                f"got {tuple(x_artefact.shape)}"
            )
        gen = as_torch_generator(seed)
        eps = torch.rand(x_clean.shape[0], generator=gen, dtype=torch.float64)
        eps = eps.to(x_clean.device, x_clean.dtype).reshape(-1, *([1] * (x_clean.ndim - 1)))
        x_hat = eps * x_artefact + (1 - eps) * x_clean
        return self._loss_terms(x_clean, x_artefact, x_hat)[0]

    def _loss_terms(
        self, x_clean: torch.Tensor, x_artefact: torch.Tensor, x_hat: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss, batch E psi(artefact) - E psi(clean)) from one forward pass of each batch."""
        b = x_clean.shape[0]
        scores = self.critic(torch.cat([x_clean, x_artefact]))  # one forward pass for both
        wass = scores[:b].mean() - scores[b:].mean()
        return wass + self.gp_weight * self.penalty(x_hat), -wass.detach()

    def fit(
        self,
        clean: torch.Tensor,
        artefacts: torch.Tensor,
        steps: int,
        optimizer: torch.optim.Optimizer | None = None,
        *,
        seed: SeedLike = None,
        batch_size: int = 16,
        progress: bool = True,
    ) -> list[float]:
        r"""Train the critic for ``steps`` steps on random (unpaired) batches.

        Default optimiser: RMSProp, learning rate 1e-4 (Lunz et al.'s code). A critic with a
        ``project()`` method (:class:`ConvexCritic`) is projected after every step.

        Returns:
            per step, the batch estimate :math:`E\Psi(\mathrm{artefact}) - E\Psi(\mathrm{clean})`
            (from the forward pass of that step's loss, before its update).
        """
        check_tensor(clean, "clean")
        check_tensor(artefacts, "artefacts")
        check_finite(clean, "clean")
        check_finite(artefacts, "artefacts")
        if clean.ndim != 4 or artefacts.ndim != 4 or clean.shape[1:] != artefacts.shape[1:]:
            raise InputError(
                f"artefacts: expected (N, C, H, W) stacks of the same image shape, got "
                f"{tuple(clean.shape)} and {tuple(artefacts.shape)}"
            )
        if (artefacts.dtype, artefacts.device) != (clean.dtype, clean.device):
            raise InputError(
                f"artefacts: expected dtype {clean.dtype} on {clean.device} (as clean), got "
                f"{artefacts.dtype} on {artefacts.device}"
            )
        steps = _count(steps, "steps", minimum=1)
        batch_size = _count(batch_size, "batch_size", minimum=1)
        gen = as_torch_generator(seed)
        opt = optimizer or torch.optim.RMSprop(self.critic.parameters(), lr=1e-4)
        project = getattr(self.critic, "project", None)
        from sciml_core.cli import progress as bar

        it = range(int(steps))
        it = bar(it, desc="critic", total=int(steps)) if progress else it
        self.critic.train()
        for _ in it:
            i = torch.randint(0, clean.shape[0], (batch_size,), generator=gen)
            j = torch.randint(0, artefacts.shape[0], (batch_size,), generator=gen)
            xr, xn = clean[i], artefacts[j]
            eps = torch.rand(batch_size, generator=gen, dtype=torch.float64)
            eps = eps.to(xr.device, xr.dtype).reshape(-1, *([1] * (xr.ndim - 1)))
            loss, gap = self._loss_terms(xr, xn, eps * xn + (1 - eps) * xr)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if callable(project):
                project()
            self.history.append(float(gap))
        self.critic.eval()
        return self.history

    # -- reconstruction ---------------------------------------------------------------------------
    @staticmethod
    def lambda_heuristic(A: LinearOperator, x_true: torch.Tensor, y: torch.Tensor) -> float:
        r""":math:`\lambda = E\|A^*(Ax^\dagger - y^\delta)\|_2`: data-term gradient at the truth.

        Balances the gradient of :math:`\tfrac12\|Ax - y\|^2` at :math:`x^\dagger` against a
        critic of gradient norm about 1 (Lunz et al.'s heuristic; their code omits the ½ and so
        reports twice this value for its own data term: the same balance).
        """
        A = check_operator(A)
        y = check_data(A, y)
        _image_like(A, y, x_true, "x_true")
        g = A.adjoint(A(x_true) - y)
        return float(g.flatten(1).norm(dim=1).mean())

    def objective(
        self, A: LinearOperator, y: torch.Tensor, lam: float | torch.Tensor, x: torch.Tensor
    ) -> torch.Tensor:
        r"""Per-image :math:`\tfrac12\|Ax - y\|^2 + \lambda\Psi(x)`, shape ``(B,)``
        (``lam`` a number or one value per image)."""
        r = apply_forward(A, x) - y  # gradient through the operator's own exact adjoint
        data = 0.5 * (r**2).flatten(1).sum(1)
        zero = bool((lam == 0).all()) if isinstance(lam, torch.Tensor) else lam == 0
        return data if zero else data + lam * self.critic(x)

    def reconstruct(
        self,
        A: LinearOperator,
        y: torch.Tensor,
        lam: float | torch.Tensor,
        x0: torch.Tensor | None = None,
        steps: int = 200,
        step: float | None = None,
        *,
        x_true: torch.Tensor | None = None,
        callback: Callback | None = None,
    ) -> SolverResult:
        r"""Gradient descent with per-image Armijo backtracking on :math:`\tfrac12\|Ax-y\|^2 +
        \lambda\Psi(x)`.

        ``lam = 0`` is plain gradient descent on the data term (same start, steps and step
        rule): the control that shows what the critic adds. ``lam`` may also hold one value per
        image (a 1-D tensor of length ``B``), so a parameter sweep runs as one batch. Start:
        ``x0``, else FBP (ray transform) or :math:`A^*y`. Every step starts at
        :math:`t_0 = 1/\|A\|^2` (upper value) and is halved until
        :math:`J(x - tg) \le J(x) - \tfrac12 t\|g\|^2` (Armijo).
        ``history["psnr"]`` (reference ``x_true``, data range 1; batch mean per step) and
        ``history["psnr_each"]`` (per step, one value per image) are for evaluation only.
        ``callback(k)`` is called after step ``k`` (progress reporting).
        """
        A = check_operator(A)
        y = check_data(A, y)
        if y.ndim != 4:
            raise InputError(f"y: expected (B, C, ...) data, got shape {tuple(y.shape)}")
        if isinstance(lam, torch.Tensor):
            if lam.shape != (y.shape[0],) or not lam.dtype.is_floating_point:
                raise InputError(
                    f"lam: expected a number or a float tensor of shape ({y.shape[0]},), got "
                    f"{lam.dtype} of shape {tuple(lam.shape)}"
                )
            if not bool(torch.isfinite(lam).all()) or bool((lam < 0).any()):
                raise InputError("lam: expected finite values >= 0, got " + str(lam.tolist()))
            lam = lam.to(y.device, y.dtype)
        else:
            lam = check_positive(lam, "lam", allow_zero=True)
        steps = _count(steps, "steps", minimum=0)
        if x0 is not None:
            _image_like(A, y, x0, "x0")
        if x_true is not None:
            _image_like(A, y, x_true, "x_true")
        if x0 is None:
            from ._ray import RayTransform

            x0 = A.fbp(y, filter="hann") if isinstance(A, RayTransform) else A.adjoint(y)
        t0 = 1.0 / sqnorm_upper(A, y) if step is None else check_positive(step, "step")
        x = x0.detach().clone()
        t = torch.full((x.shape[0],), t0, dtype=x.dtype, device=x.device)
        hist: dict[str, list[Any]] = {"objective": []}
        if x_true is not None:
            hist["psnr"], hist["psnr_each"] = [], []
        self.critic.eval()
        for p in self.critic.parameters():
            p.requires_grad_(False)
        try:
            known = None  # (J, grad J) at x, from the candidate accepted by the last step
            for k in range(int(steps)):
                if known is None:
                    xg = x.detach().requires_grad_(True)
                    with torch.enable_grad():
                        j = self.objective(A, y, lam, xg)
                        (g,) = torch.autograd.grad(j.sum(), xg)
                    j = j.detach()
                else:
                    j, g = known
                gn2 = (g**2).flatten(1).sum(1)
                for _ in range(30):
                    # candidates keep their graph: once every image accepts, the next step's
                    # gradient comes from it instead of a second forward pass at the same point
                    cand = (x - t.reshape(-1, 1, 1, 1) * g).detach().requires_grad_(True)
                    with torch.enable_grad():
                        jc_graph = self.objective(A, y, lam, cand)
                    jc = jc_graph.detach()
                    ok = jc <= j - 0.5 * t * gn2
                    if bool(ok.all()):
                        break
                    t = torch.where(ok, t, 0.5 * t)
                x = torch.where(ok.reshape(-1, 1, 1, 1), cand.detach(), x)
                hist["objective"].append(float(torch.where(ok, jc, j).sum()))
                known = None
                if bool(ok.all()) and k + 1 < int(steps):
                    with torch.enable_grad():
                        (gc,) = torch.autograd.grad(jc_graph.sum(), cand)
                    known = (jc, gc)
                t = torch.full_like(t, t0)
                if x_true is not None:
                    mse = ((x - x_true) ** 2).flatten(1).mean(1)
                    each = -10 * torch.log10(mse)
                    hist["psnr"].append(float(each.mean()))
                    hist["psnr_each"].append(each.tolist())
                if callback is not None:
                    callback(k + 1)
        finally:
            for p in self.critic.parameters():
                p.requires_grad_(True)
        return SolverResult(x, int(steps), True, hist)

    # -- persistence -------------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Save the critic (weights, class, constructor config, penalty settings) atomically."""
        name = type(self.critic).__name__
        config = getattr(self.critic, "config", None)
        if name not in CRITICS or not callable(config):
            raise InputError(f"critic: only {sorted(CRITICS)} can be saved, got {name}")
        save_checkpoint(
            path,
            self.critic.state_dict(),
            config={
                "kind": "AdversarialRegularizer",
                "critic": name,
                "critic_config": config(),
                "gradient_penalty": self.gradient_penalty,
                "gp_weight": self.gp_weight,
            },
            package="invprob-core",
            version=__version__,
            overwrite=overwrite,
        )

    @classmethod
    def load(cls, path: str | Path, *, argument: str = "path") -> AdversarialRegularizer:
        """Load a regulariser saved by :meth:`save` (refused across major.minor versions).

        Args:
            path: the checkpoint.
            argument: how the caller names ``path`` in error messages (e.g. ``"--checkpoint"``).

        Raises:
            InputError: the file is missing, unreadable, not a checkpoint of this package and
                version, or not a saved critic (a damaged config or state dict included).
        """
        ck = load_checkpoint(path, package="invprob-core", version=__version__, argument=argument)
        if ck.config.get("kind") != "AdversarialRegularizer":
            raise InputError(
                f"{argument}: {str(path)!r} holds a {ck.config.get('kind')!r}, not a critic"
            )
        try:
            critic = CRITICS[ck.config["critic"]](**ck.config["critic_config"])
            critic.load_state_dict(ck.state_dict)
            reg = cls(critic, ck.config["gradient_penalty"], ck.config["gp_weight"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            cause = " ".join(f"{type(err).__name__}: {err}".split())
            raise InputError(f"{argument}: {str(path)!r} is a damaged critic ({cause})") from err
        critic.eval()
        return reg
