"""Linear operators with exact adjoints, their algebra and cached norm estimates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from sciml_core import InputError, NormEstimate, estimate_operator_norm

from ._autograd import apply_adjoint, apply_forward

Shape = tuple[int, ...]


def check_tensor(x: object, name: str, *, allow_complex: bool = False) -> torch.Tensor:
    """Raise :class:`InputError` unless ``x`` is a floating (or, if allowed, complex) tensor."""
    if not isinstance(x, torch.Tensor):
        raise InputError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() or (allow_complex and x.is_complex())):
        kind = "a floating or complex" if allow_complex else "a floating-point"
        raise InputError(f"{name}: expected {kind} tensor, got dtype {x.dtype}")
    return x


def _check_shape(x: torch.Tensor, shape: Shape | None, name: str, min_ndim: int) -> None:
    if shape is None:
        if x.ndim < min_ndim:
            raise InputError(
                f"{name}: expected at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
            )
        return
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k :]) != tuple(shape):
        raise InputError(
            f"{name}: expected trailing shape {tuple(shape)} (leading batch/channel dimensions "
            f"allowed), got shape {tuple(x.shape)}"
        )


class LinearOperator(nn.Module):
    r"""Bounded linear map :math:`A: X \to Y` between real Euclidean spaces, with exact adjoint.

    Subclasses implement the raw kernels ``_fwd`` (``x -> A x``) and ``_adj`` (``y -> A* y``),
    acting on the trailing ``in_shape``/``out_shape`` dimensions; any leading (batch, channel)
    dimensions are carried along. ``forward``/``adjoint`` check the input and go through
    autograd functions whose backward is the other map, so gradients are exact and
    differentiable to any order. Complex ranges use the real inner product
    :math:`\mathrm{Re}\langle\cdot,\cdot\rangle`.

    Algebra: ``A @ B`` (composition), ``A + B``, ``A - B``, ``c * A``, ``A.H`` (adjoint),
    ``A.gram()`` (:math:`A^*A`). ``norm()`` and ``sqnorm()`` return ``sciml_core.NormEstimate``
    for :math:`\|A\|_2` and :math:`\|A\|_2^2`; step-size rules use the ``upper`` field.
    """

    complex_range: bool = False
    complex_domain: bool = False

    def __init__(self, in_shape: Shape | None = None, out_shape: Shape | None = None) -> None:
        super().__init__()
        self.in_shape = None if in_shape is None else tuple(int(s) for s in in_shape)
        self.out_shape = None if out_shape is None else tuple(int(s) for s in out_shape)
        self._norm_cache: dict[tuple[object, ...], NormEstimate] = {}

    # -- raw kernels -------------------------------------------------------------------------
    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def output_shape(self, in_shape: Shape) -> Shape:
        """Trailing output shape for a trailing input shape (same shape by default)."""
        if self.out_shape is not None:
            return self.out_shape
        return tuple(in_shape)

    def _min_ndim(self) -> int:
        return 2

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        """A proven upper bound on :math:`\\|A\\|_2`, or ``None`` when none is known."""
        return None

    # -- public application ------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply :math:`A` (exact; autograd backward is :math:`A^*`).

        Shapes:
            x: ``(..., *in_shape)`` -> ``(..., *out_shape)``; leading dimensions are carried.
        """
        check_tensor(x, "x", allow_complex=self.complex_domain)
        _check_shape(x, self.in_shape, "x", self._min_ndim())
        return apply_forward(self, x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """Apply :math:`A^*` (exact; autograd backward is :math:`A`).

        Shapes:
            y: ``(..., *out_shape)`` -> ``(..., *in_shape)``; leading dimensions are carried.
        """
        check_tensor(y, "y", allow_complex=self.complex_range)
        _check_shape(y, self.out_shape, "y", 1 if self.out_shape is None else 0)
        return apply_adjoint(self, y)

    @property
    def H(self) -> LinearOperator:
        """The adjoint operator :math:`A^*` as a ``LinearOperator``."""
        return _AdjointOperator(self)

    def gram(self) -> LinearOperator:
        """The normal operator :math:`A^*A`."""
        return _AdjointOperator(self) @ self

    def __matmul__(self, other: object) -> LinearOperator:
        if isinstance(other, LinearOperator):
            return _Composition(self, other)
        return NotImplemented

    def __add__(self, other: object) -> LinearOperator:
        if isinstance(other, LinearOperator):
            return _Sum(self, other, 1.0)
        return NotImplemented

    def __sub__(self, other: object) -> LinearOperator:
        if isinstance(other, LinearOperator):
            return _Sum(self, other, -1.0)
        return NotImplemented

    def __mul__(self, c: object) -> LinearOperator:
        if isinstance(c, int | float) and not isinstance(c, bool):
            return _Scaled(self, float(c))
        return NotImplemented

    __rmul__ = __mul__

    # -- norms -------------------------------------------------------------------------------
    def _example(
        self, shape: Shape | None, device: torch.device | str | None, dtype: torch.dtype
    ) -> torch.Tensor:
        shape = self.in_shape if shape is None else tuple(shape)
        if shape is None:
            raise InputError(
                f"shape: {type(self).__name__} has no fixed input shape; pass shape=(H, W)"
            )
        return torch.zeros((1, *shape), device=device, dtype=dtype)

    def norm(
        self,
        n_iter: int = 100,
        tol: float = 1e-6,
        *,
        seed: int | None = None,
        shape: Shape | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> NormEstimate:
        r"""Estimate :math:`\|A\|_2` by power iteration on :math:`A^*A` (cached per setting).

        ``lower`` is a true lower bound (a Rayleigh quotient); ``upper`` is certified when the
        operator knows a proven bound (explicit matrix, Fourier multiplier, algebra of those).

        Args:
            n_iter: maximal power iterations.
            tol: relative stopping tolerance of the power iteration.
            seed: seed of the random start (default 0, so the estimate is reproducible).
            shape: trailing input shape, needed only for size-agnostic operators.
            device: device the estimate runs on.
            dtype: floating dtype the estimate runs in.

        Returns:
            ``sciml_core.NormEstimate(lower, upper, certified, iterations)``.
        """
        if int(n_iter) < 1:
            raise InputError(f"n_iter: expected a positive integer, got {n_iter!r}")
        key = (str(device), dtype, int(n_iter), float(tol), seed, shape)
        if key not in self._norm_cache:
            example = self._example(shape, device, dtype)
            ub = self.upper_bound(tuple(example.shape[1:]))
            with torch.no_grad():
                est = estimate_operator_norm(
                    self._fwd,
                    self._adj,
                    example,
                    iters=int(n_iter),
                    tol=float(tol),
                    seed=0 if seed is None else int(seed),
                    upper_bound=ub,
                )
            self._norm_cache[key] = est
        return self._norm_cache[key]

    def sqnorm(
        self,
        n_iter: int = 100,
        tol: float = 1e-6,
        *,
        seed: int | None = None,
        shape: Shape | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> NormEstimate:
        r"""Estimate :math:`\|A\|_2^2 = \|A^*A\|_2`: ``norm()`` squared, field by field (same
        arguments as :meth:`norm`)."""
        est = self.norm(n_iter, tol, seed=seed, shape=shape, device=device, dtype=dtype)
        return type(est)(
            lower=est.lower**2,
            upper=est.upper**2,
            certified=est.certified,
            iterations=est.iterations,
        )

    def extra_repr(self) -> str:
        return f"in_shape={self.in_shape}, out_shape={self.out_shape}"


class _AdjointOperator(LinearOperator):
    def __init__(self, op: LinearOperator) -> None:
        super().__init__(op.out_shape, op.in_shape)
        self.op = op
        self.complex_domain = op.complex_range
        self.complex_range = op.complex_domain

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return self.op._adj(x)

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return self.op._fwd(y)

    def _min_ndim(self) -> int:
        return 1

    def output_shape(self, in_shape: Shape) -> Shape:
        if self.op.in_shape is not None:
            return self.op.in_shape
        return tuple(in_shape) if self.op.output_shape(tuple(in_shape)) == tuple(in_shape) else ()

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        return self.op.upper_bound(self.op.in_shape if in_shape is None else in_shape)

    @property
    def H(self) -> LinearOperator:
        return self.op


class _Composition(LinearOperator):
    def __init__(self, a: LinearOperator, b: LinearOperator) -> None:
        out = a.out_shape
        if out is None and b.out_shape is not None:
            out = a.output_shape(b.out_shape)
        inner_a, inner_b = a.in_shape, b.out_shape
        if inner_a is not None and inner_b is not None and inner_a != inner_b:
            raise InputError(
                f"other: cannot compose, left operator takes {inner_a} but right gives {inner_b}"
            )
        super().__init__(b.in_shape, out)
        self.a, self.b = a, b
        self.complex_domain = b.complex_domain
        self.complex_range = a.complex_range

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return self.a._fwd(self.b._fwd(x))

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return self.b._adj(self.a._adj(y))

    def output_shape(self, in_shape: Shape) -> Shape:
        return self.a.output_shape(self.b.output_shape(in_shape))

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        shape = self.in_shape if in_shape is None else in_shape
        ub = self.b.upper_bound(shape)
        ua = self.a.upper_bound(None if shape is None else self.b.output_shape(shape))
        return None if ua is None or ub is None else ua * ub


class _Sum(LinearOperator):
    def __init__(self, a: LinearOperator, b: LinearOperator, sign: float) -> None:
        if a.in_shape is not None and b.in_shape is not None and a.in_shape != b.in_shape:
            raise InputError(f"other: input shapes differ, {a.in_shape} vs {b.in_shape}")
        super().__init__(a.in_shape or b.in_shape, a.out_shape or b.out_shape)
        self.a, self.b, self.sign = a, b, sign
        self.complex_domain = a.complex_domain or b.complex_domain
        self.complex_range = a.complex_range or b.complex_range

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return self.a._fwd(x) + self.sign * self.b._fwd(x)

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return self.a._adj(y) + self.sign * self.b._adj(y)

    def output_shape(self, in_shape: Shape) -> Shape:
        return self.a.output_shape(in_shape)

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        ua, ub = self.a.upper_bound(in_shape), self.b.upper_bound(in_shape)
        return None if ua is None or ub is None else ua + ub


class _Scaled(LinearOperator):
    def __init__(self, op: LinearOperator, c: float) -> None:
        if not math.isfinite(c):
            raise InputError(f"c: expected a finite scalar, got {c}")
        super().__init__(op.in_shape, op.out_shape)
        self.op, self.c = op, c
        self.complex_domain, self.complex_range = op.complex_domain, op.complex_range

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return self.c * self.op._fwd(x)

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return self.c * self.op._adj(y)

    def output_shape(self, in_shape: Shape) -> Shape:
        return self.op.output_shape(in_shape)

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        u = self.op.upper_bound(in_shape)
        return None if u is None else abs(self.c) * u


class Identity(LinearOperator):
    r"""The identity :math:`I x = x` (self-adjoint, :math:`\|I\| = 1`).

    Args:
        shape: optional fixed trailing shape ``(H, W)``; ``None`` accepts any image.

    Examples:
        >>> import torch
        >>> Identity()(torch.ones(1, 1, 2, 2)).sum().item()
        4.0
    """

    def __init__(self, shape: Shape | None = None) -> None:
        super().__init__(shape, shape)

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return y.clone()

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        return 1.0


class Diagonal(LinearOperator):
    r"""Pointwise multiplication :math:`(W x)_i = w_i x_i` by a real weight (self-adjoint).

    Args:
        weight: real tensor of shape ``(H, W)`` (the trailing shape of the images).

    Shapes:
        x: ``(..., H, W)`` -> ``(..., H, W)``.

    Examples:
        >>> import torch
        >>> Diagonal(torch.tensor([[2.0, 0.0]]))(torch.ones(1, 2)).tolist()
        [[2.0, 0.0]]
    """

    weight: torch.Tensor  # a non-persistent buffer

    def __init__(self, weight: torch.Tensor) -> None:
        check_tensor(weight, "weight")
        if weight.ndim < 1:
            raise InputError(f"weight: expected at least 1 dimension, got shape {weight.shape}")
        if not bool(torch.isfinite(weight).all()):
            raise InputError("weight: contains NaN or inf")
        super().__init__(tuple(weight.shape), tuple(weight.shape))
        self.register_buffer("weight", weight.detach().clone(), persistent=False)
        self._cache: dict[tuple[object, ...], torch.Tensor] = {}

    def _min_ndim(self) -> int:
        return 1

    def _w(self, ref: torch.Tensor) -> torch.Tensor:
        key = (ref.device, ref.dtype)
        if key not in self._cache:
            dtype = ref.real.dtype if ref.is_complex() else ref.dtype
            self._cache[key] = self.weight.to(device=ref.device, dtype=dtype)
        return self._cache[key]

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return self._w(x) * x

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return self._w(y) * y

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        return float(self.weight.abs().max())


class VStack(LinearOperator):
    r"""Stacked operator :math:`K x = (A_1 x, \dots, A_m x)`, :math:`K^* (y_i) = \sum A_i^* y_i`.

    The outputs are flattened over their trailing dimensions and concatenated, so ``K`` maps
    ``(..., *in_shape)`` to ``(..., sum_i numel_i)``; :meth:`split` undoes the flattening.
    :math:`\|K\|^2 \le \sum_i \|A_i\|^2` gives the certified bound.

    Args:
        ops: operators with the same (fixed) input shape.

    Examples:
        >>> import torch
        >>> K = VStack([Identity((2, 2)), 2.0 * Identity((2, 2))])
        >>> K(torch.ones(1, 2, 2)).shape
        torch.Size([1, 8])
    """

    def __init__(self, ops: Sequence[LinearOperator], shape: Shape | None = None) -> None:
        ops = list(ops)
        if not ops or not all(isinstance(o, LinearOperator) for o in ops):
            raise InputError("ops: expected a non-empty sequence of LinearOperator")
        in_shape = tuple(shape) if shape is not None else ops[0].in_shape
        if in_shape is None:
            raise InputError("shape: operators have no fixed input shape; pass shape=(H, W)")
        for o in ops:
            if o.in_shape is not None and o.in_shape != in_shape:
                raise InputError(f"ops: input shapes differ, {o.in_shape} vs {in_shape}")
            if o.complex_range or o.complex_domain:
                raise InputError("ops: VStack supports real operators only")
        self.sizes = [math.prod(o.output_shape(in_shape)) for o in ops]
        self.shapes = [o.output_shape(in_shape) for o in ops]
        super().__init__(in_shape, (sum(self.sizes),))
        self.ops = nn.ModuleList(ops)

    @property
    def operators(self) -> list[LinearOperator]:
        """The stacked operators ``[A_1, ..., A_m]``, typed (``ops`` holds them as modules)."""
        return [o for o in self.ops if isinstance(o, LinearOperator)]

    def _min_ndim(self) -> int:
        return len(self.in_shape or ())

    def split(self, y: torch.Tensor) -> list[torch.Tensor]:
        """Split a stacked output into the blocks, each in its operator's output shape."""
        lead = y.shape[:-1]
        parts = torch.split(y, self.sizes, dim=-1)
        return [p.reshape(*lead, *s) for p, s in zip(parts, self.shapes)]

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        k = len(self.in_shape or ())
        lead = x.shape[: x.ndim - k]
        return torch.cat([o._fwd(x).reshape(*lead, -1) for o in self.operators], dim=-1)

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        out = None
        for o, part in zip(self.operators, self.split(y)):
            z = o._adj(part)
            out = z if out is None else out + z
        assert out is not None
        return out

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        bounds = [o.upper_bound(self.in_shape) for o in self.operators]
        if any(b is None for b in bounds):
            return None
        return math.sqrt(sum(b * b for b in bounds if b is not None))
