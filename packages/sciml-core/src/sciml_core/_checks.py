"""Numerical self-checks: the dot-product adjoint test and a finite-difference gradient check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._backend import is_tensor, loaded_torch
from ._errors import InputError, require_extra
from ._seed import SeedLike, as_torch_generator

__all__ = ["adjoint_test", "gradient_check"]


def _inner(u: Any, v: Any) -> complex:
    """<u, v> = sum(u * conj(v)), accumulated in double precision."""
    if is_tensor(u):
        torch = loaded_torch()
        assert torch is not None
        wide = torch.complex128 if (u.is_complex() or v.is_complex()) else torch.float64
        return complex((u.reshape(-1).to(wide) * v.reshape(-1).to(wide).conj()).sum().item())
    a = np.asarray(u).ravel()
    b = np.asarray(v).ravel()
    return complex(np.vdot(b.astype(np.complex128), a.astype(np.complex128)))


def _norm(u: Any) -> float:
    if is_tensor(u):
        torch = loaded_torch()
        assert torch is not None
        wide = torch.complex128 if u.is_complex() else torch.float64
        return float(torch.linalg.vector_norm(u.to(wide)))
    return float(np.linalg.norm(np.asarray(u, dtype=np.complex128).ravel()))


def _is_complex(u: Any) -> bool:
    return bool(u.is_complex()) if is_tensor(u) else bool(np.iscomplexobj(u))


def adjoint_test(
    forward: Callable[[Any], Any], adjoint: Callable[[Any], Any], x: Any, y: Any
) -> float:
    r"""Relative defect of the adjoint identity :math:`\langle Ax,y\rangle = \langle x,A^*y\rangle`.

    .. math::
        \frac{|\langle Ax, y\rangle - \langle x, A^* y\rangle|}{\|Ax\|\,\|y\|},
        \qquad \langle u, v\rangle = \textstyle\sum_i u_i \overline{v_i}.

    For a correct adjoint this is at rounding level (about 1e-16 in float64, 1e-7 in float32);
    by Cauchy-Schwarz it is at most about 2 for an arbitrary wrong "adjoint" of the same norm.
    Inner products are accumulated in double precision. When exactly one of the domain and the
    range is complex (a real-linear operator, e.g. a real image to complex k-space), only the real
    parts are compared, as the adjoint is then defined for :math:`\operatorname{Re}\langle\cdot,
    \cdot\rangle`.

    Args:
        forward: :math:`x \mapsto Ax`.
        adjoint: :math:`y \mapsto A^* y`.
        x: A point of the domain (numpy array or torch tensor), typically random.
        y: A point of the range, same shape as ``forward(x)``, typically random.

    Returns:
        The relative defect, a Python float.

    Raises:
        InputError: ``forward(x)`` and ``y`` (or ``adjoint(y)`` and ``x``) differ in shape, or
            ``Ax`` or ``y`` is zero.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> A = rng.standard_normal((5, 3))
        >>> x, y = rng.standard_normal(3), rng.standard_normal(5)
        >>> adjoint_test(lambda v: A @ v, lambda w: A.T @ w, x, y) < 1e-14
        True
        >>> adjoint_test(lambda v: A @ v, lambda w: A[:3].T @ w[:3], x, y) > 1e-3
        True
    """
    ax = forward(x)
    if tuple(ax.shape) != tuple(y.shape):
        raise InputError(
            f"y must have the shape of forward(x); got y {tuple(y.shape)} and forward(x) "
            f"{tuple(ax.shape)}"
        )
    aty = adjoint(y)
    if tuple(aty.shape) != tuple(x.shape):
        raise InputError(
            f"adjoint(y) must have the shape of x; got adjoint(y) {tuple(aty.shape)} and x "
            f"{tuple(x.shape)}"
        )
    lhs = _inner(ax, y)
    rhs = _inner(x, aty)
    scale = _norm(ax) * _norm(y)
    if scale == 0.0:
        raise InputError("adjoint_test needs forward(x) != 0 and y != 0; got a zero vector")
    if _is_complex(x) != _is_complex(ax):
        return abs(lhs.real - rhs.real) / scale
    return abs(lhs - rhs) / scale


def gradient_check(
    f: Callable[[Any], Any], x: Any, *, eps: float | None = None, seed: SeedLike = 0
) -> float:
    r"""Relative error of autograd's directional derivative against a central difference.

    With a seeded random unit direction :math:`v`,

    .. math::
        g = \langle \nabla f(x), v\rangle, \qquad
        d = \frac{f(x + \varepsilon v) - f(x - \varepsilon v)}{2\varepsilon}, \qquad
        \text{error} = \frac{|g - d|}{\max(|g|, |d|)},

    and 0 when both vanish. The central difference has error
    :math:`O(\varepsilon^2) + O(u/\varepsilon)` for unit roundoff :math:`u`; the default
    :math:`\varepsilon = u^{1/3} \max(1, \|x\|_\infty)` balances the two, so expect about 1e-10
    in float64 and 1e-4 in float32 for smooth ``f``. Prefer float64 for tight checks. The error
    is relative with no absolute floor, so check at a generic point: at a stationary point (a
    minimum, say) both derivatives are rounding noise and the ratio means nothing.

    Args:
        f: Scalar function of a tensor, differentiable with torch autograd.
        x: Real floating-point torch tensor (any device); not modified.
        eps: Finite-difference step; default as above.
        seed: Seed of the direction (drawn on the CPU, so it is device independent).

    Returns:
        The relative error, a Python float.

    Raises:
        MissingExtraError: torch is not installed.
        InputError: ``x`` is not a real floating tensor, ``f`` does not return a scalar, or
            ``eps`` is not positive.

    Examples:
        >>> import torch
        >>> x = torch.linspace(-1.0, 1.0, 7, dtype=torch.float64)
        >>> gradient_check(lambda t: (t.sin() * t).sum(), x) < 1e-8
        True
        >>> class BadSquare(torch.autograd.Function):  # sum(t**2) with a wrong backward
        ...     @staticmethod
        ...     def forward(ctx, t):
        ...         return (t * t).sum()
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return grad * torch.ones(7, dtype=torch.float64)
        >>> gradient_check(BadSquare.apply, x + 0.1) > 1e-2
        True
    """
    torch = require_extra("torch", extra="torch", package="sciml-core")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise InputError(
            f"x must be a real floating-point torch tensor; got "
            f"{getattr(x, 'dtype', type(x).__name__)}"
        )
    if x.numel() == 0:
        raise InputError(f"x must not be empty; got shape {tuple(x.shape)}")
    base = x.detach()
    gen = as_torch_generator(seed, device="cpu")
    v = torch.randn(base.shape, generator=gen, dtype=torch.float64).to(base.device, base.dtype)
    v = v / torch.linalg.vector_norm(v)
    if eps is None:
        scale = max(1.0, float(base.abs().max()))
        eps = float(torch.finfo(base.dtype).eps) ** (1.0 / 3.0) * scale
    elif not eps > 0:
        raise InputError(f"eps must be > 0; got {eps!r}")

    xg = base.clone().requires_grad_(True)
    with torch.enable_grad():
        out = f(xg)
        if not isinstance(out, torch.Tensor) or out.numel() != 1:
            raise InputError(
                f"f must return a scalar tensor; got {getattr(out, 'shape', type(out).__name__)}"
            )
        (grad,) = torch.autograd.grad(out.reshape(()), xg, allow_unused=True)
    g = 0.0 if grad is None else float((grad.to(torch.float64) * v.to(torch.float64)).sum())
    with torch.no_grad():
        f_plus = float(f(base + eps * v))
        f_minus = float(f(base - eps * v))
    d = (f_plus - f_minus) / (2.0 * eps)
    denom = max(abs(g), abs(d))
    return 0.0 if denom == 0.0 else abs(g - d) / denom
