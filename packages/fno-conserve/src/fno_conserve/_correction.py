"""The exact conservation correction: oblique projection for linear laws, rescalings for
quadratic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from sciml_core import InputError, resolve_dtype

from ._constraints import (
    Constraint,
    Constraints,
    LinearConstraint,
    QuadraticConstraint,
    as_constraint_list,
)

Mode = Literal["adaptive", "projection"]
MODES: tuple[Mode, ...] = get_args(Mode)
"""Linear correction modes: the learned oblique projection or the orthogonal one."""

Direction = Literal["head", "net", "field", "lowrank", "dense"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
"""Where :class:`ConservedOperator` gets the adaptive direction (``None`` resolves there)."""


def _flat(t: torch.Tensor, lead: int) -> torch.Tensor:
    """Flatten every axis after the first ``lead`` ones."""
    return t.reshape(*t.shape[:lead], -1)


class ConservationCorrection(nn.Module):
    r"""Differentiable map :math:`u \mapsto u^*` with :math:`C u^* = b` (and :math:`Q(u^*) = c`)
    exactly.

    **Linear laws** (oblique projection). For a direction :math:`D \in \mathbb R^{N \times m}` with
    :math:`C D` invertible,

    .. math:: u^* = u - D (C D)^{-1} (C u - b) \quad\Rightarrow\quad C u^* = b

    for *any* such ``D``. ``mode="projection"`` uses :math:`D = W^{-1} C^T` (the orthogonal
    projection in the quadrature inner product; for mass on a uniform grid it subtracts the mean
    residual). ``mode="adaptive"`` uses :math:`D = A C^T` with the learnable, input-dependent SPD
    :math:`A = \mathrm{diag}(s) W^{-1}`, :math:`s > 0`: column ``j`` of ``D`` is
    :math:`s \odot \phi_j`,
    :math:`(C D)_{jk} = \sum_i w_i s_i \phi_j \phi_k` is an ``s``-weighted Gram matrix (SPD for
    independent test functions, and a quadrature of :math:`\int s \phi_j \phi_k`, hence
    resolution-invariant); for mass :math:`u^* = u - s (\sum_i w_i u_i - b) / \sum_i w_i s_i`.
    ``s = 1`` recovers the projection. Low-rank directions use :math:`A = W^{-1} + V V^T`
    (``V`` pointwise features), and a dense ``D`` may be passed directly (fixed grid only).
    This is ProbConserv's constrained mean update in the noise-free limit, with ``A`` in the role of
    the predictive covariance (Hansen et al. 2023); the learnable adaptive matrix is the method of
    Liu et al. (2025).

    **Quadratic law** :math:`Q(u) = \sum_i w_i |u_i|^2 = c` (our schemes; the paper's exact scheme
    was not available to us):

    * Q1 (``QuadraticConstraint(mode="rescale")``): :math:`u^* = u \sqrt{c / Q(u)}`; needs
    ``Q(u) > 0``.
    * Q2 (``mode="adaptive"``): :math:`u^*_i = u_i (1 + \lambda s_i)`, with :math:`\lambda` the
    root of
      smallest modulus of :math:`a\lambda^2 + 2\beta\lambda + (e - c) = 0`,
      :math:`a = \sum w s^2 u^2`, :math:`\beta = \sum w s u^2`, :math:`e = Q(u)`; when no real root
      exists the sample falls back to Q1 and is counted in ``info["fallbacks"]``.
    * Q3 (linear and quadratic laws together, Q radial): after the linear step, split
      :math:`u = m + v` with ``m`` the W-orthogonal projection onto the test functions (so
      :math:`C v = 0`, :math:`Q(u) = Q(m) + Q(v)`), and rescale ``v`` so that
      :math:`Q(m) + \mu^2 Q(v) = c`; needs :math:`c \ge Q(m)` and :math:`Q(v) > 0`.

    The residual, the ``m x m`` Cholesky solve and the update run in ``compute_dtype`` (float64 by
    default); the result is cast back to the input dtype, so the exactness floor is
    :math:`|C u^* - b| \lesssim \mathrm{eps(dtype)} \sum_i |w_i \phi_j u^*_i|`. A feasible ``u`` is
    returned unchanged up to that floor, and the map is idempotent.

    Args:
        constraints: a :class:`LinearConstraint`, a :class:`QuadraticConstraint`, or a list (at
            most one quadratic; all with the same rule and lengths).
        mode: ``"adaptive"`` or ``"projection"`` for the linear laws.
        direction: how :class:`ConservedOperator` produces ``s`` (``None`` resolves there):
            ``"head"``, ``"net"``, ``"field"``, ``"lowrank"`` or ``"dense"``.
        compute_dtype: dtype of the small solve and the update (float64 by default).
        eps: lower bound added to ``softplus`` in :meth:`positive` (``s >= eps``).

    Shapes:
        ``u`` ``(B, C, *spatial)``; ``x`` ``(B, C_in, *spatial)``; ``s`` ``(B, 1 or C, *spatial)``;
        ``V`` ``(B, r, C, *spatial)``; ``D`` ``(B or 1, m, C, *spatial)``.

    Examples:
        >>> corr = ConservationCorrection(LinearConstraint.mass(), mode="projection")
        >>> x = torch.randn(3, 1, 32)
        >>> u, info = corr(torch.randn(3, 1, 32), x)
        >>> bool((u.mean(-1) - x.mean(-1)).abs().max() < 1e-6)
        True
    """

    def __init__(
        self,
        constraints: Constraints,
        mode: Mode = "adaptive",
        direction: Direction | None = None,
        compute_dtype: torch.dtype | str = torch.float64,
        eps: float = 1e-3,
    ) -> None:
        super().__init__()
        constraints = as_constraint_list(constraints)
        if mode not in MODES:
            raise InputError(f"mode: expected one of {MODES}, got {mode!r}")
        if direction is not None and direction not in DIRECTIONS:
            raise InputError(f"direction: expected one of {DIRECTIONS} or None, got {direction!r}")
        if not float(eps) > 0:
            raise InputError(f"eps: expected a positive float, got {eps!r}")
        self.compute_dtype = resolve_dtype(compute_dtype)
        if not self.compute_dtype.is_floating_point:
            raise InputError(f"compute_dtype: expected a floating dtype, got {compute_dtype!r}")
        self.linear: list[LinearConstraint] = [
            c for c in constraints if isinstance(c, LinearConstraint)
        ]
        quads = [c for c in constraints if isinstance(c, QuadraticConstraint)]
        self.quadratic: QuadraticConstraint | None = quads[0] if quads else None
        rules = {(c.rule, str(c.lengths)) for c in constraints}
        if len(rules) > 1:
            raise InputError(
                f"constraints: all laws of one correction must share rule and lengths, got {rules}"
            )
        if self.linear and self.quadratic is not None:
            if self.quadratic.mode == "adaptive":
                raise InputError(
                    "constraints: a quadratic law with mode='adaptive' cannot be combined with "
                    "linear laws (its rescaling would break them); use mode='rescale' (Q3)"
                )
            lin_channels = {c for law in self.linear for c in law.channels}
            if not lin_channels <= set(self.quadratic.channels):
                raise InputError(
                    f"constraints: with linear and quadratic laws together, the linear channels "
                    f"{sorted(lin_channels)} must be among the quadratic channels "
                    f"{list(self.quadratic.channels)}"
                )
        self.mode: Mode = mode
        self.direction: Direction | None = direction if self.needs_direction else None
        self.eps = float(eps)

    @property
    def needs_direction(self) -> bool:
        """Whether ``forward`` needs an adaptive direction (``s``, ``V`` or ``D``)."""
        quad_adaptive = self.quadratic is not None and self.quadratic.mode == "adaptive"
        return (self.mode == "adaptive" and bool(self.linear)) or quad_adaptive

    @property
    def n_rows(self) -> int:
        """Number of linear conditions ``m``."""
        return sum(c.n_rows for c in self.linear)

    @property
    def constraints(self) -> list[Constraint]:
        """Every law: the linear ones first, then the quadratic one."""
        return [*self.linear, *([self.quadratic] if self.quadratic is not None else [])]

    def extra_repr(self) -> str:
        return (
            f"mode={self.mode!r}, direction={self.direction!r}, linear_rows={self.n_rows}, "
            f"quadratic={self.quadratic is not None}, compute_dtype={self.compute_dtype}"
        )

    def positive(self, raw: torch.Tensor) -> torch.Tensor:
        """``s = softplus(raw) + eps``: the map from unconstrained features to a positive ``s``."""
        return F.softplus(raw) + self.eps

    def rows(
        self,
        spatial: Sequence[int],
        n_channels: int,
        *,
        dtype: torch.dtype,
        device: torch.device | str | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stacked test functions ``Phi (m, C, *spatial)`` and weights ``w (*spatial)``."""
        for law in self.linear:
            if max(law.channels) >= n_channels:
                raise InputError(
                    f"u: the law acts on channel {max(law.channels)}, but u has {n_channels} "
                    "channels"
                )
        # inference tensors (made under torch.inference_mode) must never reach training
        key = (tuple(spatial), n_channels, dtype, str(device), torch.is_inference_mode_enabled())
        cache: dict[tuple[Any, ...], tuple[torch.Tensor, torch.Tensor]]
        cache = self.__dict__.setdefault("_rows_cache", {})
        if key not in cache:
            phi = torch.cat(
                [c.rows(spatial, n_channels, dtype=dtype, device=device) for c in self.linear]
            )
            w = self.linear[0].weights(spatial, dtype=dtype, device=device)
            self._gram_check(phi, w)
            if len(cache) > 64:
                cache.clear()
            cache[key] = (phi, w)
        return cache[key]

    def _gram_check(self, phi: torch.Tensor, w: torch.Tensor) -> None:
        """Raise if the test functions are linearly dependent on this grid (singular ``C D``)."""
        g = torch.einsum("mn,kn->mk", _flat(phi * w, 1), _flat(phi, 1))
        d = torch.diagonal(g)
        if bool((d <= 0).any()):
            raise InputError("constraints: a test function vanishes on this grid (zero row of C)")
        gn = g / torch.sqrt(d[:, None] * d[None, :])
        if float(torch.linalg.eigvalsh(gn).min()) < 1e-10:
            raise InputError(
                "constraints: the test functions are linearly dependent on this grid "
                "(C W^-1 C^T is singular); remove the redundant ones"
            )

    def _check(
        self,
        u: torch.Tensor,
        x: torch.Tensor | None,
        s: torch.Tensor | None,
        V: torch.Tensor | None,
        D: torch.Tensor | None,
    ) -> None:
        if not isinstance(u, torch.Tensor) or not u.is_floating_point() or u.ndim < 3:
            raise InputError(
                f"u: expected a floating tensor (B, C, *spatial), got "
                f"{tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__}"
            )
        if u.device.type == "mps" and self.compute_dtype == torch.float64:
            raise InputError(
                "compute_dtype: float64 is not available on MPS; pass compute_dtype=torch.float32"
            )
        if x is not None and (
            not isinstance(x, torch.Tensor)
            or x.shape[0] != u.shape[0]
            or x.shape[2:] != u.shape[2:]
        ):
            raise InputError(
                f"x: expected shape (B, C_in, *spatial) matching u {tuple(u.shape)}, got "
                f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
            )
        if self.needs_direction and s is None and V is None and D is None:
            if self.mode == "adaptive" and self.linear:
                raise InputError("s: mode='adaptive' needs a direction (s, V or D), got none")
            raise InputError("s: a quadratic law with mode='adaptive' needs s, got None")
        if s is not None:
            ok = s.ndim == u.ndim and s.shape[0] == u.shape[0] and s.shape[2:] == u.shape[2:]
            if not ok or s.shape[1] not in (1, u.shape[1]):
                raise InputError(
                    f"s: expected shape (B, 1 or {u.shape[1]}, *spatial) for u {tuple(u.shape)}, "
                    f"got {tuple(s.shape)}"
                )
            if not bool((s > 0).all()):
                raise InputError("s: the adaptive direction must be positive everywhere")
        if V is not None and (
            V.ndim != u.ndim + 1 or V.shape[0] != u.shape[0] or V.shape[2:] != u.shape[1:]
        ):
            raise InputError(
                f"V: expected shape (B, r, *{tuple(u.shape[1:])}), got {tuple(V.shape)}"
            )

    def forward(
        self,
        u: torch.Tensor,
        x: torch.Tensor | None = None,
        *,
        s: torch.Tensor | None = None,
        V: torch.Tensor | None = None,
        D: torch.Tensor | None = None,
        residuals: bool = True,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Correct ``u`` so that every law holds; returns ``(u_star, info)``.

        ``info`` holds ``fallbacks`` (Q2 samples that fell back to Q1) and, unless
        ``residuals=False`` (training loops skip this bookkeeping), ``residual_before`` and
        ``residual_after`` (``(B, rows)``, absolute, linear rows first, then the quadratic one).

        Shapes:
            ``u`` ``(B, C, *spatial)``; ``x`` ``(B, C_in, *spatial)``; ``s`` ``(B, 1 or C,
            *spatial)``; ``V`` ``(B, r, C, *spatial)``; ``D`` ``(B or 1, m, C, *spatial)``;
            ``u_star`` ``(B, C, *spatial)`` in ``u``'s dtype.
        """
        self._check(u, x, s, V, D)
        cd = self.compute_dtype
        B, C = u.shape[:2]
        spatial = tuple(u.shape[2:])
        out = u.to(cd)
        info: dict[str, Any] = {"fallbacks": 0}
        if residuals:
            with torch.no_grad():
                before = [law.residual(out, x) for law in self.constraints]
        if self.linear:
            out = self._linear(
                out,
                x,
                s if self.mode == "adaptive" else None,
                V if self.mode == "adaptive" else None,
                D if self.mode == "adaptive" else None,
            )
        if self.quadratic is not None:
            out, info["fallbacks"] = self._quadratic(out, x, s)
        result = out.to(u.dtype).reshape(B, C, *spatial)
        if residuals:
            with torch.no_grad():
                after = [law.residual(result.to(cd), x) for law in self.constraints]
            info["residual_before"] = torch.cat(before, dim=1).abs()
            info["residual_after"] = torch.cat(after, dim=1).abs()
        return result, info

    def _linear(
        self,
        u: torch.Tensor,
        x: torch.Tensor | None,
        s: torch.Tensor | None,
        V: torch.Tensor | None,
        D: torch.Tensor | None,
    ) -> torch.Tensor:
        B, C = u.shape[:2]
        spatial = tuple(u.shape[2:])
        phi, w = self.rows(spatial, C, dtype=u.dtype, device=u.device)  # checked once per grid
        phi_f = _flat(phi, 2)  # (m, C, N)
        rows_f = phi_f * _flat(w, 0)  # rows of C
        u_f = _flat(u, 2)  # (B, C, N)
        b = torch.cat(
            [law.target_values(x, B, dtype=u.dtype, device=u.device) for law in self.linear], 1
        )
        # elementwise product + sum (cascade summation) rather than a BLAS dot: the residual is the
        # quantity exactness is measured by, and its rounding sets the float64 floor
        r = (rows_f.unsqueeze(0) * u_f.unsqueeze(1)).sum(dim=(2, 3)) - b  # (B, m)
        if phi_f.shape[0] == 1 and D is None and V is None:
            # one law row (e.g. mass): C D is a scalar, no factorisation or refinement needed
            col = phi_f if s is None else _flat(s.to(u.dtype), 2) * phi_f  # (B or 1, C, N)
            denom = (rows_f * col).sum(dim=(-2, -1))  # (B,) or (1,)
            if bool((denom <= 0).any()):
                raise InputError("s: C D is not positive for this direction (degenerate s)")
            alpha = r[:, 0] / denom
            return (u_f - alpha[:, None, None] * col).reshape(u.shape)
        if D is not None:
            cols = _flat(D.to(u.dtype), 3).expand(B, -1, C, -1)
        elif V is not None:
            v_f = _flat(V.to(u.dtype), 3)  # (B, r, C, N)
            cv = (rows_f[None, :, None] * v_f[:, None]).sum(dim=(3, 4))  # (B, m, r)
            cols = phi_f.unsqueeze(0) + torch.einsum("bmr,brcn->bmcn", cv, v_f)
        elif s is not None:
            cols = _flat(s.to(u.dtype), 2).unsqueeze(1) * phi_f.unsqueeze(0)  # (B, m, C, N)
        else:
            cols = phi_f.unsqueeze(0).expand(B, -1, -1, -1)
        gram = (rows_f[None, :, None] * cols[:, None]).sum(dim=(3, 4))  # C D, (B, m, m)
        chol, status = torch.linalg.cholesky_ex(gram)
        if bool((status != 0).any()):
            raise InputError(
                "s: C D is not positive definite for this direction (degenerate s, V or D)"
            )
        alpha = torch.cholesky_solve(r.unsqueeze(-1), chol).squeeze(-1)  # (B, m)
        out = u_f - (alpha[:, :, None, None] * cols).sum(dim=1)
        # one step of iterative refinement: removes the solve's error when C D is ill-conditioned
        # (many moments on a coarse grid), leaving only the rounding of the residual itself
        r = (rows_f.unsqueeze(0) * out.unsqueeze(1)).sum(dim=(2, 3)) - b
        alpha = torch.cholesky_solve(r.unsqueeze(-1), chol).squeeze(-1)
        out = out - (alpha[:, :, None, None] * cols).sum(dim=1)
        return out.reshape(u.shape)

    def _quadratic(
        self, u: torch.Tensor, x: torch.Tensor | None, s: torch.Tensor | None
    ) -> tuple[torch.Tensor, int]:
        law = self.quadratic
        if law is None:
            raise ValueError("_quadratic: the correction has no quadratic law")
        B = u.shape[0]
        S = list(law.channels)
        if max(S) >= u.shape[1]:
            raise InputError(
                f"u: the quadratic law uses channel {max(S)}, but u has {u.shape[1]} channels"
            )
        w = law.weights(tuple(u.shape[2:]), dtype=u.dtype, device=u.device)
        c = law.target_values(x, B, dtype=u.dtype, device=u.device)
        dims = tuple(range(1, u.ndim))

        def q(f: torch.Tensor) -> torch.Tensor:
            return (f**2 * w).sum(dim=dims)

        us = u[:, S]
        view = (B,) + (1,) * (u.ndim - 1)
        if self.linear:  # Q3
            phi, wl = self.rows(tuple(u.shape[2:]), u.shape[1], dtype=u.dtype, device=u.device)
            phi_f = _flat(phi, 2)
            rows_f = phi_f * _flat(wl, 0)
            g0 = (rows_f.unsqueeze(1) * phi_f.unsqueeze(0)).sum(dim=(2, 3))  # C W^-1 C^T

            def project(f: torch.Tensor) -> torch.Tensor:  # W-orthogonal projection, (B, C, N)
                cf = (rows_f.unsqueeze(0) * f.unsqueeze(1)).sum(dim=(2, 3))
                alpha = torch.linalg.solve(g0, cf.T).T
                return (alpha[:, :, None, None] * phi_f.unsqueeze(0)).sum(dim=1)

            u_f = _flat(u, 2)
            mean_f = project(u_f)
            rest = u_f - mean_f
            # u - m cancels when u is close to its mean, leaving C v ~ eps |u| instead of eps |v|;
            # projecting the remainder once more restores C v ~ eps |v| before v is rescaled
            rest = rest - project(rest)
            mean = mean_f.reshape(u.shape)[:, S]
            v = rest.reshape(u.shape)[:, S]
            qm, qv = q(mean), q(v)
            if bool((c < qm).any()) or bool((qv <= 0).any()):
                raise InputError(
                    "target: the quadratic target is below the energy of the conserved linear "
                    "part (c < Q(m)) or the remainder is zero, so no rescaling satisfies both laws"
                )
            mu = torch.sqrt((c - qm) / qv)
            new = mean + mu.reshape(view) * v
            fallbacks = 0
        else:
            e = q(us)
            if bool((e <= 0).any()):
                raise InputError("u: Q(u) = 0 for some sample; the radial rescale needs Q(u) > 0")
            mu = torch.sqrt(c / e)
            if law.mode == "adaptive":
                if s is None:  # _check refuses this before; narrowed for the type checker
                    raise InputError("s: a quadratic law with mode='adaptive' needs s, got None")
                ss = s.to(u.dtype)
                ss = ss if ss.shape[1] == 1 else ss[:, S]
                a = q(ss * us)
                beta = (ss * us**2 * w).sum(dim=dims)
                disc = beta**2 - a * (e - c)
                ok = (disc >= 0) & (a > 0)
                root = torch.sqrt(torch.where(ok, disc, torch.ones_like(disc)))
                denom = torch.where(ok, beta + root, torch.ones_like(disc))
                ok = ok & (denom > 0)
                lam = torch.where(ok, (c - e) / torch.where(ok, denom, torch.ones_like(disc)), 0.0)
                adaptive = us * (1 + lam.reshape(view) * ss)
                new = torch.where(ok.reshape(view), adaptive, us * mu.reshape(view))
                fallbacks = int((~ok).sum())
            else:
                new = us * mu.reshape(view)
                fallbacks = 0
        out = u.clone()
        out[:, S] = new
        return out, fallbacks
