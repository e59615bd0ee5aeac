"""Convergent plug-and-play with linear, symmetric circulant denoisers (Hauptmann et al. 2024)."""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from sciml_core import (
    InputError,
    as_torch_generator,
    check_finite,
    load_checkpoint,
    save_checkpoint,
)

from .__about__ import __version__
from ._operator import LinearOperator, Shape, check_tensor
from ._result import (
    Callback,
    SolverResult,
    check_count,
    check_data,
    check_iterate,
    check_like,
    check_operator,
    check_positive,
    conjugate_gradient,
    sqnorm_upper,
)

SeedLike = int | np.random.Generator | torch.Generator | None


def _flip_freq(d: torch.Tensor) -> torch.Tensor:
    """``d(-k)`` on the unshifted DFT grid."""
    return torch.roll(torch.flip(d, dims=(-2, -1)), shifts=(1, 1), dims=(-2, -1))


def _images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    check_tensor(images, name)
    check_finite(images, name)
    if images.ndim < 3:
        raise InputError(
            f"{name}: expected a stack (N, [C,] H, W), got shape {tuple(images.shape)}"
        )
    return images.reshape(-1, *images.shape[-2:]).to(torch.float64)


class CirculantDenoiser(LinearOperator):
    r"""Linear denoiser :math:`D = \mathcal F^* \mathrm{diag}(\hat d)\,\mathcal F` with a real
    symmetric spectrum.

    :math:`\hat d(k) = \hat d(-k) \in [0, 1]` makes :math:`D` self-adjoint with
    :math:`0 \preceq D \preceq I`, which is exactly the condition for :math:`D` to be the
    proximal map of the convex quadratic :math:`R(x) = \tfrac12\langle x, (D^{-1} - I)x\rangle`
    (Hauptmann, Mukherjee, Schönlieb, Sherry 2024; Moreau's characterisation of proximal maps).
    Spectral filtering of strength :math:`\tau \in (0, 1]`,
    :math:`D_\tau = D(\tau I + (1-\tau)D)^{-1}` (eigenvalues :math:`d/(\tau + (1-\tau)d)`), is the
    proximal map of :math:`\tau R`.

    Args:
        spectrum: real ``(H, W)`` tensor on the unshifted DFT grid, symmetric under
            :math:`k \to -k` (to 1e-6, then symmetrised exactly), values in :math:`[0, 1]`.

    Shapes:
        x: ``(..., H, W)`` -> ``(..., H, W)``.

    Examples:
        >>> import torch
        >>> D = CirculantDenoiser(torch.full((4, 4), 0.5))
        >>> D(torch.ones(1, 4, 4)).mean().item()
        0.5
    """

    spectrum: torch.Tensor  # (H, W) float64, symmetric, a non-persistent buffer

    def __init__(self, spectrum: torch.Tensor) -> None:
        check_tensor(spectrum, "spectrum")
        check_finite(spectrum, "spectrum")
        if spectrum.ndim != 2:
            raise InputError(f"spectrum: expected shape (H, W), got {tuple(spectrum.shape)}")
        d = spectrum.detach().to(torch.float64)
        if float(d.min()) < 0.0 or float(d.max()) > 1.0:
            raise InputError(
                f"spectrum: expected values in [0, 1] (0 <= D <= I), got range "
                f"[{float(d.min()):.4g}, {float(d.max()):.4g}]"
            )
        asym = float((d - _flip_freq(d)).abs().max())
        if asym > 1e-6:
            raise InputError(
                f"spectrum: expected d(k) = d(-k) (D self-adjoint), asymmetry {asym:.3g}"
            )
        super().__init__(tuple(d.shape), tuple(d.shape))
        self.register_buffer("spectrum", 0.5 * (d + _flip_freq(d)), persistent=False)
        self._cache: dict[tuple[object, ...], torch.Tensor] = {}

    def _d(self, ref: torch.Tensor) -> torch.Tensor:
        key = (ref.device, ref.dtype)
        if key not in self._cache:
            self._cache[key] = self.spectrum.to(ref.device, ref.dtype)
        return self._cache[key]

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.ifft2(self._d(x) * torch.fft.fft2(x)).real

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return self._fwd(y)

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        return float(self.spectrum.abs().max())

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def fit_wiener(
        cls, images: torch.Tensor, sigma: float, *, eps: float = 1e-6
    ) -> CirculantDenoiser:
        r"""Wiener filter :math:`\hat d = S_x/(S_x + \sigma^2)`, :math:`S_x = \mathrm{mean}|\hat
        x_k|^2`.

        The MSE-optimal circulant denoiser for white noise of standard deviation ``sigma`` on
        the given images (unitary DFT), clamped to :math:`[\epsilon, 1 - \epsilon]` so that
        :math:`D` is invertible and :math:`R` finite.

        Examples:
            >>> import torch
            >>> D = CirculantDenoiser.fit_wiener(torch.ones(3, 8, 8), 0.1)
            >>> round(float(D.spectrum[0, 0]), 4), float(D.spectrum[1, 1]) < 1e-5
            (0.9998, True)
        """
        x = _images(images)
        sigma = check_positive(sigma, "sigma")
        power = (torch.fft.fft2(x, norm="ortho").abs() ** 2).mean(dim=0)
        d = power / (power + sigma**2)
        return cls(d.clamp(eps, 1.0 - eps))

    @classmethod
    def fit_mse(
        cls,
        images: torch.Tensor,
        sigma: float,
        *,
        steps: int = 300,
        seed: SeedLike = None,
        lr: float = 0.1,
        eps: float = 1e-6,
        batch_size: int | None = None,
    ) -> CirculantDenoiser:
        r"""Learned circulant denoiser: :math:`\hat d = \epsilon + (1 -
        2\epsilon)\,\mathrm{sigmoid}(\theta)`.

        :math:`\theta(k) = (\phi(k) + \phi(-k))/2` is symmetric and real for every parameter
        :math:`\phi`, so :math:`D = D^*` and :math:`\epsilon \preceq D \preceq 1 - \epsilon` hold
        throughout training. :math:`\phi` is trained by Adam on the MSE
        :math:`\|D(x + \sigma\xi) - x\|^2` with fresh seeded noise each step, on every image
        (``batch_size=None``) or on ``batch_size`` images drawn at random each step (cost per
        step independent of the number of images).
        """
        x = _images(images)
        sigma = check_positive(sigma, "sigma")
        if isinstance(steps, bool) or int(steps) < 1:
            raise InputError(f"steps: expected a positive integer, got {steps!r}")
        if batch_size is not None:
            batch_size = check_count(batch_size, "batch_size")
        gen = as_torch_generator(seed)
        phi = torch.zeros(x.shape[-2:], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([phi], lr=lr)
        x_all = x
        xf_all = torch.fft.fft2(x_all)
        steps = check_count(steps, "steps")
        for _ in range(int(steps)):
            if batch_size is None:
                x, xf = x_all, xf_all
            else:
                idx = torch.randint(0, x_all.shape[0], (batch_size,), generator=gen)
                x, xf = x_all[idx], xf_all[idx]
            noise = torch.randn(x.shape, generator=gen, dtype=torch.float64)
            theta = 0.5 * (phi + _flip_freq(phi))
            d = eps + (1 - 2 * eps) * torch.sigmoid(theta)
            out = torch.fft.ifft2(d * (xf + sigma * torch.fft.fft2(noise))).real
            loss = ((out - x) ** 2).sum(dim=(-2, -1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            theta = 0.5 * (phi + _flip_freq(phi))
            d = eps + (1 - 2 * eps) * torch.sigmoid(theta)
        return cls(d)

    def filtered(self, tau: float) -> CirculantDenoiser:
        r"""The prox of :math:`\tau R`: spectrum :math:`\hat d/(\tau + (1 - \tau)\hat d)`."""
        tau = check_positive(tau, "tau")
        if tau > 1.0:
            raise InputError(f"tau: expected 0 < tau <= 1, got {tau}")
        d = self.spectrum
        return CirculantDenoiser(d / (tau + (1.0 - tau) * d))

    def regularizer(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`R(x) = \tfrac12\langle x, (D^{-1} - I)x\rangle` per image (inf where d = 0)."""
        check_tensor(x, "x")
        w = 1.0 / self._d(x) - 1.0
        xf = torch.fft.fft2(x, norm="ortho")
        return 0.5 * (w * xf.abs() ** 2).sum(dim=(-2, -1))

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Save the spectrum as a versioned checkpoint (``sciml_core.save_checkpoint``)."""
        save_checkpoint(
            path,
            {"spectrum": self.spectrum.clone()},
            config={"kind": "CirculantDenoiser", "shape": list(self.spectrum.shape)},
            package="invprob-core",
            version=__version__,
            overwrite=overwrite,
        )

    @classmethod
    def load(cls, path: str | Path, *, argument: str = "path") -> CirculantDenoiser:
        """Load a denoiser saved by :meth:`save` (refused across major.minor versions).

        Args:
            path: the checkpoint.
            argument: how the caller names ``path`` in error messages (e.g. ``"--checkpoint"``).

        Raises:
            InputError: the file is missing, unreadable, not a checkpoint of this package and
                version, or does not hold a valid spectrum.
        """
        ck = load_checkpoint(path, package="invprob-core", version=__version__, argument=argument)
        if ck.config.get("kind") != "CirculantDenoiser":
            raise InputError(
                f"{argument}: {str(path)!r} holds a {ck.config.get('kind')!r}, "
                "not a CirculantDenoiser"
            )
        spectrum = ck.state_dict.get("spectrum")
        if not isinstance(spectrum, torch.Tensor):
            raise InputError(f"{argument}: {str(path)!r} holds no spectrum tensor")
        try:
            return cls(spectrum)
        except InputError as err:
            raise InputError(f"{argument}: {str(path)!r}: {err}") from err


def _step(A: LinearOperator, y: torch.Tensor, step: float | None) -> float:
    bound = sqnorm_upper(A, y)
    if step is None:
        return 1.0 / bound
    step = check_positive(step, "step")
    if step >= 2.0 / bound:
        raise InputError(
            f"step: PnP-PGD needs 0 < step < 2/||A||^2 = {2.0 / bound:.6g} (certified bound), "
            f"got {step}"
        )
    return step


def pnp_pgd(
    A: LinearOperator,
    y: torch.Tensor,
    denoiser: Callable[[torch.Tensor], torch.Tensor],
    step: float | None = None,
    x0: torch.Tensor | None = None,
    max_iter: int = 500,
    tol: float = 1e-8,
) -> SolverResult:
    r"""Plug-and-play proximal gradient :math:`x_{k+1} = D(x_k - \eta A^*(Ax_k - y))`.

    If ``denoiser`` is linear, self-adjoint and :math:`0 \preceq D \preceq I` (every
    :class:`CirculantDenoiser`), it is :math:`\mathrm{prox}_R` and the iteration converges for
    :math:`0 < \eta < 2/\|A\|^2` to :math:`\arg\min \tfrac12\|Ax - y\|^2 + \tfrac1\eta R(x)`.
    Any other callable is accepted but carries no guarantee. ``step`` defaults to
    :math:`1/\|A\|^2` (certified upper value); larger steps than :math:`2/\|A\|^2` raise.
    Stops when :math:`\|x_{k+1} - x_k\| \le` ``tol`` :math:`\|x_{k+1}\|`.
    """
    A = check_operator(A)
    y = check_data(A, y)
    if not callable(denoiser):
        raise InputError(f"denoiser: expected a callable, got {type(denoiser).__name__}")
    eta = _step(A, y, step)
    ref = torch.zeros_like(A._adj(y))
    check_like(x0, ref)
    x = ref if x0 is None else x0.clone()
    hist: dict[str, list[float]] = {"change": []}
    converged = False
    k = 0
    max_iter = check_count(max_iter, "max_iter")
    for k in range(1, max_iter + 1):
        v = x - eta * A._adj(A._fwd(x) - y)
        x_new = denoiser._fwd(v) if isinstance(denoiser, LinearOperator) else denoiser(v)
        check_iterate(x_new, k, "pnp_pgd")
        change = float(torch.linalg.vector_norm(x_new - x))
        x = x_new
        hist["change"].append(change)
        if change <= tol * float(torch.linalg.vector_norm(x)):
            converged = True
            break
    return SolverResult(x, k, converged, hist)


def _fourier_apply(spec: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.fft.ifft2(spec * torch.fft.fft2(v)).real


SolveMethod = Literal["auto", "cg", "dense", "fourier"]
"""How the PnP fixed point is solved: picked automatically, CG, dense Cholesky, Fourier."""
SOLVE_METHODS: tuple[SolveMethod, ...] = typing.get_args(SolveMethod)
_DENSE_MAX = 4096


def _circulant_symbol(A: LinearOperator, h: int, w: int, ref: torch.Tensor) -> torch.Tensor | None:
    """Full-grid DFT symbol of a circular blur or identity, else ``None``."""
    from ._blur import Blur
    from ._operator import Identity

    if isinstance(A, Identity):
        return torch.ones(h, w, dtype=_cdtype(ref), device=ref.device)
    if isinstance(A, Blur) and A.boundary == "circular":
        kh, kw = A.kernel.shape
        full = torch.zeros(h, w, dtype=torch.float64)
        full[:kh, :kw] = A.kernel
        full = torch.roll(full, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))
        return torch.fft.fft2(full).to(ref.device, _cdtype(ref))
    return None


def _cdtype(ref: torch.Tensor) -> torch.dtype:
    return torch.complex128 if ref.dtype == torch.float64 else torch.complex64


def _pick(method: str, A: LinearOperator, shape: tuple[int, ...], ref: torch.Tensor) -> str:
    if method not in SOLVE_METHODS:
        raise InputError(f"method: expected one of {SOLVE_METHODS}, got {method!r}")
    circ = _circulant_symbol(A, shape[-2], shape[-1], ref) is not None
    if method == "fourier" and not circ:
        raise InputError("method: 'fourier' needs A to be a circular Blur or the Identity")
    if method != "auto":
        return method
    if circ:
        return "fourier"
    return "dense" if math.prod(shape) <= _DENSE_MAX else "cg"


def _dense_matrix(A: LinearOperator, shape: tuple[int, ...]) -> torch.Tensor:
    n = math.prod(shape)
    eye = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
    return A._fwd(eye).reshape(n, -1).T  # (m, n)


def _fourier_matrix(spec: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    n = math.prod(shape)
    eye = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
    return _fourier_apply(spec.to(torch.float64), eye).reshape(n, n).T


def pnp_fixed_point(
    A: LinearOperator,
    y: torch.Tensor,
    denoiser: CirculantDenoiser,
    step: float | None = None,
    *,
    method: SolveMethod = "auto",
    max_iter: int = 2000,
    tol: float | None = None,
    callback: Callback | None = None,
) -> SolverResult:
    r"""The limit of :func:`pnp_pgd`: :math:`(A^*A + \tfrac1\eta(D^{-1} - I))\,x = A^*y`.

    The fixed point of :math:`x = D(x - \eta A^*(Ax - y))` satisfies exactly this generalised
    Tikhonov system. ``method``: ``"fourier"`` (closed form, ``A`` a circular blur or the
    identity), ``"dense"`` (Cholesky in float64, images up to 4096 pixels), ``"cg"`` (conjugate
    gradients preconditioned by the Fourier multiplier :math:`(\tfrac1\eta(1/\hat d - 1) +
    \|A\|^2)^{-1}`); ``"auto"`` picks in that order. Requires :math:`\hat d > 0`.
    ``callback(k)`` is called after CG iteration ``k`` (progress reporting; the direct Fourier
    and dense solves do not call it).
    """
    A = check_operator(A)
    y = check_data(A, y)
    if not isinstance(denoiser, CirculantDenoiser):
        raise InputError(f"denoiser: expected a CirculantDenoiser, got {type(denoiser).__name__}")
    if float(denoiser.spectrum.min()) <= 0.0:
        raise InputError("denoiser: spectrum must be > 0 (D invertible) for the fixed-point system")
    eta = _step(A, y, step)
    shape = tuple(denoiser.spectrum.shape)
    how = _pick(method, A, shape, y)
    d = denoiser._d(y)
    lmat = (1.0 / d - 1.0) / eta
    b = A._adj(y)
    if how == "fourier":
        k = _circulant_symbol(A, shape[0], shape[1], y)
        assert k is not None
        x = torch.fft.ifft2(torch.fft.fft2(b) / (k.abs() ** 2 + lmat)).real
        return SolverResult(x, 1, True, {"residual": []})
    if how == "dense":
        m = _dense_matrix(A, shape)
        lm = _fourier_matrix(lmat, shape)
        system = m.T @ m + 0.5 * (lm + lm.T)
        chol = torch.linalg.cholesky(system)
        rhs = b.reshape(-1, math.prod(shape)).to(torch.float64).T
        x = torch.cholesky_solve(rhs, chol).T.reshape(b.shape).to(y.dtype)
        return SolverResult(x, 1, True, {"residual": []})
    c = sqnorm_upper(A, y)
    tol = (1e-12 if y.dtype == torch.float64 else 1e-6) if tol is None else tol

    def normal(v: torch.Tensor) -> torch.Tensor:
        return A._adj(A._fwd(v)) + _fourier_apply(lmat, v)

    pre = 1.0 / (lmat + c)
    return conjugate_gradient(
        normal,
        b,
        max_iter=max_iter,
        tol=tol,
        precond=lambda r: _fourier_apply(pre, r),
        callback=callback,
    )


def r_minimizing_solution(
    A: LinearOperator,
    y0: torch.Tensor,
    denoiser: CirculantDenoiser,
    *,
    method: SolveMethod = "auto",
    max_iter: int = 5000,
    tol: float | None = None,
    rcond: float = 1e-12,
) -> SolverResult:
    r"""The :math:`R`-minimising solution :math:`x^\dagger_R = \arg\min\{R(x) : Ax = y^0\}`.

    With :math:`L = D^{-1} - I`: :math:`x = L^{-1}A^*z` where :math:`AL^{-1}A^*z = y^0`. This is
    the limit of the convergent parameter choice :math:`\tau(\delta) \to 0`,
    :math:`\delta^2/\tau(\delta) \to 0`. ``method``: ``"fourier"`` (circular blur or identity:
    :math:`\hat x = \hat y/\hat k` where :math:`\hat k \ne 0`), ``"dense"`` (pseudo-inverse of
    the float64 Gram matrix :math:`AL^{-1}A^*`, eigenvalues below ``rcond`` times the largest
    dropped; images up to 4096 pixels), ``"cg"`` (CG from 0; slow when ill-conditioned).
    """
    A = check_operator(A)
    y0 = check_data(A, y0, "y0")
    if not isinstance(denoiser, CirculantDenoiser):
        raise InputError(f"denoiser: expected a CirculantDenoiser, got {type(denoiser).__name__}")
    d = denoiser._d(y0)
    if float(d.max()) >= 1.0 or float(d.min()) <= 0.0:
        raise InputError("denoiser: spectrum must lie in (0, 1) for L = D^-1 - I to be invertible")
    linv = d / (1.0 - d)
    shape = tuple(denoiser.spectrum.shape)
    how = _pick(method, A, shape, y0)
    if how == "fourier":
        k = _circulant_symbol(A, shape[0], shape[1], y0)
        assert k is not None
        keep = k.abs() > rcond * float(k.abs().max())
        safe = torch.where(keep, k, torch.ones_like(k))
        xf = torch.where(keep, torch.fft.fft2(y0) / safe, torch.zeros_like(k))
        return SolverResult(torch.fft.ifft2(xf).real, 1, True, {"residual": []})
    if how == "dense":
        m = _dense_matrix(A, shape)  # (m, n)
        li = _fourier_matrix(linv, shape)
        li = 0.5 * (li + li.T)
        gram = m @ li @ m.T
        evals, evecs = torch.linalg.eigh(0.5 * (gram + gram.T))
        keep = evals > rcond * float(evals.max())
        inv = torch.where(keep, 1.0 / torch.where(keep, evals, torch.ones_like(evals)), 0.0)
        rhs = y0.reshape(-1, m.shape[0]).to(torch.float64).T
        z = evecs @ (inv[:, None] * (evecs.T @ rhs))
        x = (li @ (m.T @ z)).T.reshape(*y0.shape[: y0.ndim - len(A.out_shape or ())], *shape)
        return SolverResult(x.to(y0.dtype), 1, True, {"residual": []})
    tol = (1e-12 if y0.dtype == torch.float64 else 1e-6) if tol is None else tol

    def op(z: torch.Tensor) -> torch.Tensor:
        return A._fwd(_fourier_apply(linv, A._adj(z)))

    sol = conjugate_gradient(op, y0, max_iter=max_iter, tol=tol)
    x = _fourier_apply(linv, A._adj(sol.x))
    return SolverResult(x, sol.iterations, sol.converged, sol.history)


class LinearPnP:
    r"""Convergent linear plug-and-play for one operator and one circulant denoiser.

    ``reconstruct(y, tau)`` runs PnP-PGD with :math:`D_\tau`; ``fixed_point(y, tau)`` solves
    its limit :math:`(A^*A + \tfrac\tau\eta(D^{-1} - I))x = A^*y` directly;
    ``tau_by_discrepancy`` picks :math:`\tau` by the discrepancy principle; ``limit(y0)`` is
    :math:`x^\dagger_R`. With :math:`\tau(\delta) \to 0` and :math:`\delta^2/\tau(\delta) \to 0`
    the reconstructions converge to :math:`x^\dagger_R` (a convergent regularisation).

    Args:
        A: forward operator.
        denoiser: the (unfiltered) denoiser :math:`D`.
        step: PnP step :math:`\eta` (default :math:`1/\|A\|^2`, certified upper value).
    """

    def __init__(self, A: LinearOperator, denoiser: CirculantDenoiser, step: float | None = None):
        self.A = check_operator(A)
        if not isinstance(denoiser, CirculantDenoiser):
            raise InputError(
                f"denoiser: expected a CirculantDenoiser, got {type(denoiser).__name__}"
            )
        if A.in_shape is not None and tuple(A.in_shape) != tuple(denoiser.spectrum.shape):
            raise InputError(
                f"denoiser: spectrum shape {tuple(denoiser.spectrum.shape)} differs from the "
                f"operator's image shape {A.in_shape}"
            )
        self.denoiser = denoiser
        self.step = step
        self._dense: tuple[torch.Tensor, torch.Tensor] | None = None
        self._chol: dict[float, torch.Tensor] = {}

    def _eta(self, y: torch.Tensor) -> float:
        return _step(self.A, y, self.step)

    def reconstruct(self, y: torch.Tensor, tau: float, **kwargs: Any) -> SolverResult:
        return pnp_pgd(self.A, y, self.denoiser.filtered(tau), self._eta(y), **kwargs)

    def fixed_point(self, y: torch.Tensor, tau: float, **kwargs: Any) -> SolverResult:
        r"""Solve :math:`(A^*A + \tfrac\tau\eta(D^{-1} - I))x = A^*y` (see :func:`pnp_fixed_point`).

        In the ``"dense"`` case the Gram matrices are built once per ``LinearPnP`` and the
        Cholesky factor once per ``tau``, so sweeps over noise draws cost one solve each.
        """
        shape = tuple(self.denoiser.spectrum.shape)
        method = str(kwargs.get("method", "auto"))
        y = check_data(self.A, y)
        if set(kwargs) <= {"method", "callback"} and _pick(method, self.A, shape, y) == "dense":
            eta = self._eta(y)
            if self._dense is None:
                m = _dense_matrix(self.A, shape)
                lm = _fourier_matrix(1.0 / self.denoiser.spectrum - 1.0, shape)
                self._dense = (m.T @ m, 0.5 * (lm + lm.T))
            key = float(tau)
            if key not in self._chol:
                check_positive(tau, "tau")
                if tau > 1.0:
                    raise InputError(f"tau: expected 0 < tau <= 1, got {tau}")
                mtm, lm = self._dense
                self._chol[key] = torch.linalg.cholesky(mtm + (tau / eta) * lm)
            b = self.A._adj(y)
            rhs = b.reshape(-1, math.prod(shape)).to(torch.float64).T
            x = torch.cholesky_solve(rhs, self._chol[key]).T.reshape(b.shape).to(y.dtype)
            return SolverResult(x, 1, True, {"residual": []})
        return pnp_fixed_point(self.A, y, self.denoiser.filtered(tau), self._eta(y), **kwargs)

    def limit(self, y0: torch.Tensor) -> SolverResult:
        return r_minimizing_solution(self.A, y0, self.denoiser)

    def tau_by_discrepancy(
        self,
        y: torch.Tensor,
        delta: float,
        tau_dp: float = 1.1,
        *,
        rtol: float = 1e-4,
        tau_min: float = 1e-8,
        max_bisections: int = 100,
        callback: Callback | None = None,
    ) -> tuple[float, SolverResult]:
        r"""Largest-residual-matching :math:`\tau \in [\tau_{min}, 1]` with :math:`\|Ax_\tau - y\| =
        \tau_{dp}\delta`.

        The residual increases with :math:`\tau` (the weight :math:`\tau/\eta` of :math:`R`), so
        it is bisected on :math:`\log\tau`. If even :math:`\tau = 1` leaves the residual below
        the target, :math:`\tau = 1` is returned with ``converged=False``. ``callback(k)`` is
        called after the ``k``-th fixed-point solve (progress reporting).
        """
        delta = check_positive(delta, "delta")
        tau_dp = check_positive(tau_dp, "tau_dp")
        if tau_dp <= 1.0:
            raise InputError(f"tau_dp: expected tau_dp > 1, got {tau_dp}")
        target = tau_dp * delta

        solves = 0

        def res(tau: float) -> tuple[float, SolverResult]:
            nonlocal solves
            s = self.fixed_point(y, tau)
            solves += 1
            if callback is not None:
                callback(solves)
            return float(torch.linalg.vector_norm(self.A._fwd(s.x) - y)), s

        r1, s1 = res(1.0)
        if r1 <= target:
            return 1.0, SolverResult(s1.x, 1, False, {"residual": [r1]})
        r0, s0 = res(tau_min)
        if r0 >= target:
            raise InputError(
                f"delta: even tau={tau_min:g} leaves residual {r0:.4g} > "
                f"tau_dp * delta = {target:.4g}"
            )
        lo, hi = math.log(tau_min), 0.0
        hist: list[float] = []
        best = (tau_min, s0)
        for _ in range(max_bisections):
            mid = 0.5 * (lo + hi)
            r, s = res(math.exp(mid))
            hist.append(r)
            best = (math.exp(mid), s)
            if abs(r - target) <= rtol * target:
                break
            if r < target:
                lo = mid
            else:
                hi = mid
        ok = abs(hist[-1] - target) <= rtol * target
        return best[0], SolverResult(best[1].x, len(hist), ok, {"residual": hist})
