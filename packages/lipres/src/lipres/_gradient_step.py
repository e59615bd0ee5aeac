r"""The gradient block: an explicit Euler step of a negative gradient flow (spec §2.1).

.. math::
    R(x) = x - h\,W^T\sigma(Wx + b), \qquad W \in \mathbb R^{k\times d},

the Euler step of :math:`\dot x = -\nabla V(x)`, :math:`V(x) = \sum_i \gamma(w_i^Tx + b_i)`,
:math:`\sigma = \gamma'` monotone with slope in [0, 1] (ReLU, tanh, softplus).

**Lipschitz bound (proof).** Where :math:`R` is differentiable its Jacobian is
:math:`J = I - hW^TDW`, :math:`D = \operatorname{diag}(\sigma'(Wx+b)) \in [0, 1]^{k}`. ``J`` is
symmetric and :math:`0 \preceq W^TDW \preceq W^TW \preceq \|W\|_2^2 I`, so the spectrum of ``J``
lies in :math:`[1 - h\|W\|_2^2, 1]` and :math:`\|J\|_2 \le \max(1, h\|W\|_2^2 - 1)`. ``R`` is
Lipschitz (ReLU: piecewise affine and continuous) with that constant: 1-Lipschitz in ℓ2 for
:math:`0 \le h \le 2/\|W\|_2^2` (the cap of Meunier et al.'s CPL and of Murari, Furuya,
Schönlieb's Theorem 3.1 blocks) and averaged for :math:`h < 2/\|W\|_2^2` (Baillon–Haddad).
The official code writes the same block as ``x - tau * relu(lin(x)) @ lin.weight`` with
``tau = clamp(taus[i], 0, 2 / op_norm**2)``.

**Step size.** ``h = clamp(τ, 0, cap)``, ``cap = 2 (1 - 1e-6) / s²`` with ``s`` a proven upper
bound on ``‖W‖₂``, recomputed at every forward, so every forward is certified:

* ``norm="verified"`` (the default): a Cholesky certificate that ``‖W‖₂² <= s²`` for an ``s``
  within a factor ``sqrt(1 + 1e-4)`` of the exact norm (:func:`lipres.verified_spectral_norm`:
  the smaller Gram matrix in float64, ten Lanczos steps on it warm-started from the last forward's
  Ritz vector, one factorisation), or the exact SVD norm where that is cheaper (Gram side
  below 96, :data:`lipres._norms.SMALL_GRAM`);
* ``norm="exact"``: the exact norm, the largest eigenvalue of the smaller Gram matrix in float64
  (:func:`lipres.gram_spectral_norm`, its proven upper end), or the SVD where that is cheaper
  (Gram side below 96);
* ``norm="power"``: a warm-started power-iteration estimate (faster, a *lower* bound that can
  break the cap until the next exact refresh; spec §4 item 2): not certified between refreshes.

In bfloat16 / float16 the cap is rounded *down* to the parameters' dtype (rounded to nearest,
it could land 0.4 % above ``2 / s²`` in bfloat16). What is certified is the block in exact
arithmetic with the stored weights and the applied step; a forward computed in lower precision
(autocast, TF32 matmuls) differs from it by its rounding.

Width 256, one thread, the norm's share of a training step: SVD (0.1.0's ``"exact"``) about
70 %, Gram eigenvalue about 60 %, verified about 35 % (CHANGELOG).
:meth:`GradientStep.lipschitz_bound` always uses the SVD norm and the step the forward actually
applies; :meth:`~GradientStep.step_size` with ``exact=True`` (what :func:`lipres.export` folds
in) is the step of a certified forward, and for ``norm="power"`` the step re-capped with the SVD
norm.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ._common import (
    ACTIVATIONS,
    NORM_MODES,
    SAFETY,
    Activation,
    NormMode,
    activation_fn,
    activation_module,
    check_choice,
    check_features,
    check_int,
    check_number,
)
from ._norms import exact_spectral_norm, power_step, spectral_norm, verified_spectral_norm

__all__ = ["STEP_MODES", "GradientStep"]

STEP_MODES = ("learned", "max")


class GradientStep(nn.Module):
    r"""One gradient block :math:`x \mapsto x - h\,W^T\sigma(Wx + b)`, 1-Lipschitz in ℓ2.

    See the module docstring for the proof. ``step="learned"`` learns τ (initialised at
    ``tau_init``, the official 2.0) and applies ``h = clamp(τ, 0, cap)``; ``step="max"`` fixes
    ``h = cap`` (CPL, Meunier et al. 2022); a number fixes τ (still capped). No public path sets
    ``h`` above the cap.

    Args:
        features: d, the input and output size.
        hidden: k, the rows of W (default d).
        activation: ``"relu"``, ``"tanh"`` or ``"softplus"``.
        step: ``"learned"``, ``"max"`` or a fixed τ >= 0.
        tau_init: Initial τ of ``step="learned"`` (>= 0).
        norm: ``"verified"`` (default), ``"exact"`` or ``"power"`` (module docstring).
        n_power_iter: Power steps per training forward with ``norm="power"`` (>= 1).
        refresh_every: With ``norm="power"``, an exact norm every this many training forwards.
        init: ``"orthogonal"`` (the official init: the cap starts at 2) or ``"uniform"``
            (``nn.Linear``'s).

    Shapes:
        x: ``[B, d]`` -> ``[B, d]``, same dtype and device.

    Examples:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> block = GradientStep(4, hidden=6).double()
        >>> x = torch.randn(100, 4, dtype=torch.float64)
        >>> y = torch.randn(100, 4, dtype=torch.float64)
        >>> ratio = (block(x) - block(y)).norm(dim=1) / (x - y).norm(dim=1)
        >>> bool(ratio.max() <= 1.0), block.lipschitz_bound()
        (True, 1.0)
    """

    in_norm = "l2"
    out_norm = "l2"

    def __init__(
        self,
        features: int,
        hidden: int | None = None,
        *,
        activation: Activation = "relu",
        step: str | float = "learned",
        tau_init: float = 2.0,
        norm: NormMode = "verified",
        n_power_iter: int = 2,
        refresh_every: int = 100,
        init: str = "orthogonal",
    ) -> None:
        super().__init__()
        self.features = check_int(features, "features", minimum=1)
        self.hidden = features if hidden is None else check_int(hidden, "hidden", minimum=1)
        self.activation: Activation = check_choice(activation, "activation", ACTIVATIONS)
        self.norm: NormMode = check_choice(norm, "norm", NORM_MODES)
        self.n_power_iter = check_int(n_power_iter, "n_power_iter", minimum=1)
        self.refresh_every = check_int(refresh_every, "refresh_every", minimum=1)
        self.init = check_choice(init, "init", ("orthogonal", "uniform"))
        if isinstance(step, str):
            self.step_mode = check_choice(step, "step", STEP_MODES)
            fixed = None
        else:
            self.step_mode = "fixed"
            fixed = check_number(step, "step")
        self.tau_init = check_number(tau_init, "tau_init")
        self.weight = nn.Parameter(torch.empty(self.hidden, self.features))
        self.bias = nn.Parameter(torch.empty(self.hidden))
        if self.step_mode == "learned":
            self.tau = nn.Parameter(torch.tensor(self.tau_init))
        else:
            self.register_buffer("tau", torch.tensor(fixed if fixed is not None else math.inf))
        self._sigma: Tensor
        self._u: Tensor
        self._count: Tensor
        self.register_buffer("_sigma", torch.tensor(0.0, dtype=torch.float64))
        self.register_buffer("_u", torch.ones(self.features) / math.sqrt(self.features))
        self.register_buffer("_count", torch.tensor(0, dtype=torch.int64))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Orthogonal (or uniform) W, uniform bias, τ at ``tau_init``, exact norm refreshed."""
        bound = 1.0 / math.sqrt(self.features)
        with torch.no_grad():
            if self.init == "orthogonal":
                nn.init.orthogonal_(self.weight)
            else:
                self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)
            if self.step_mode == "learned":
                self.tau.fill_(self.tau_init)
            gen = torch.Generator().manual_seed(0)
            self._u.copy_(torch.randn(self.features, generator=gen, dtype=self._u.dtype))
            self._u.div_(self._u.norm())
        self.refresh_norm_(exact=True)

    def refresh_norm_(self, *, exact: bool = True) -> float:
        """Store ‖W‖₂ for the cap: exact (SVD upper end) or ``n_power_iter`` power steps."""
        if exact:
            sigma = spectral_norm(self.weight).upper
        else:
            sigma, u = power_step(self.weight, self._u, self.n_power_iter)
            self._u.copy_(u)
        self._sigma.fill_(sigma)
        return sigma

    def _certified_norm(self, *, update: bool) -> float:
        """A proven upper bound on ‖W‖₂ by the block's ``norm`` (the SVD for ``"power"``);
        ``update`` stores the improved warm start of ``"verified"``."""
        if self.norm == "verified":
            est, u = verified_spectral_norm(self.weight, self._u)
            if update:
                with torch.no_grad():
                    self._u.copy_(u)
            return est.upper
        if self.norm == "exact":
            return exact_spectral_norm(self.weight).upper
        return spectral_norm(self.weight).upper

    def _norm_for_cap(self) -> float:
        if self.norm != "power":
            return self._certified_norm(update=self.training and torch.is_grad_enabled())
        if self.training and torch.is_grad_enabled():
            self._count += 1
            self.refresh_norm_(exact=int(self._count) % self.refresh_every == 0)
        return float(self._sigma)

    @staticmethod
    def cap_for(sigma: float) -> float:
        """The largest step used for ‖W‖₂ = sigma: ``2 (1 - 1e-6) / sigma²`` (inf for W = 0)."""
        return math.inf if sigma == 0.0 else 2.0 * (1.0 - SAFETY) / sigma**2

    def step_size(self, *, exact: bool = False) -> Tensor:
        """The applied h (a 0-d tensor, differentiable in τ).

        ``exact=True``: the step of a certified forward (for ``norm="power"``: re-capped with the
        SVD norm), computed without touching the warm start."""
        sigma = self._certified_norm(update=False) if exact else self._norm_for_cap()
        tau = self.tau
        info = torch.finfo(tau.dtype)
        cap = min(self.cap_for(sigma), 1e30, info.max)
        if info.eps > SAFETY:
            # bfloat16 / float16: the cap rounds to nearest in tau's dtype, up to half an ulp
            # (0.4 % in bfloat16) above the certified one; (1 - eps) first makes it round below
            cap *= 1.0 - info.eps
        if self.step_mode == "max":
            return torch.as_tensor(cap, dtype=tau.dtype, device=tau.device)
        return tau.clamp(0.0, cap)

    def forward(self, x: Tensor) -> Tensor:
        """``x - h W^T σ(W x + b)``.

        Shapes:
            x: ``[B, d]`` -> ``[B, d]``.
        """
        check_features(x, self.features)
        h = self.step_size()
        act = activation_fn(self.activation)(nn.functional.linear(x, self.weight, self.bias))
        return x - h * (act @ self.weight)

    def lipschitz_bound(self) -> float:
        r"""Proven ℓ2 bound :math:`\max(1, h\|W\|_2^2 - 1)`, exact norm, the step as applied."""
        was = self.training
        self.eval()
        try:
            h = float(self.step_size().detach())
        finally:
            self.train(was)
        s = spectral_norm(self.weight).upper
        return max(1.0, h * s * s - 1.0)

    def constrain_(self) -> None:
        """Re-cap with the exact norm: store it and clamp a learned τ into ``[0, cap]``."""
        with torch.no_grad():
            sigma = self.refresh_norm_(exact=True)
            if self.step_mode == "learned":
                self.tau.clamp_(0.0, min(self.cap_for(sigma), 1e30))

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        """Plain ``torch.nn`` layers: ``x + Linear_out(σ(Linear_in(x)))`` with h folded in."""
        with torch.no_grad():
            h = self.step_size(exact=True)
            kw: dict[str, Any] = {"dtype": self.weight.dtype, "device": self.weight.device}
            inner = nn.Linear(self.features, self.hidden, **kw)
            inner.weight.copy_(self.weight)
            inner.bias.copy_(self.bias)
            outer = nn.Linear(self.hidden, self.features, bias=False, **kw)
            outer.weight.copy_(-h * self.weight.T)
        seq = nn.Sequential(inner, activation_module(self.activation), outer)
        return [("residual", seq)]

    def config(self) -> dict[str, Any]:
        step: str | float = self.step_mode if self.step_mode != "fixed" else float(self.tau)
        return {
            "features": self.features,
            "hidden": self.hidden,
            "activation": self.activation,
            "step": step,
            "tau_init": self.tau_init,
            "norm": self.norm,
            "n_power_iter": self.n_power_iter,
            "refresh_every": self.refresh_every,
            "init": self.init,
        }

    def extra_repr(self) -> str:
        h = float(self.step_size(exact=True).detach())
        return (
            f"{self.features}, hidden={self.hidden}, activation={self.activation!r}, "
            f"step={self.step_mode!r} (h={h:.4g}), norm={self.norm!r}"
        )
