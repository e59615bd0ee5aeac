"""Conservation laws as objects: linear laws ``C u = b`` and quadratic laws ``Q(u) = c``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

import torch

from sciml_core import InputError

from ._grid import RULES, Rule, _as_lengths, grid, quadrature_weights, rule_grid_kind

TargetFn = Callable[[torch.Tensor | None], torch.Tensor]
"""A target computed from the operator's input ``x`` (``None`` when no input is given)."""

Target = Literal["input"] | float | TargetFn
"""``"input"`` (the law's value on the input), a constant, or a callable ``x -> b``."""

QuadraticMode = Literal["rescale", "adaptive"]
QUADRATIC_MODES: tuple[QuadraticMode, ...] = get_args(QuadraticMode)
"""Quadratic schemes: Q1 radial rescale, Q2 adaptive ``u (1 + lambda s)``."""

TestFunction = Callable[[torch.Tensor], torch.Tensor]
"""A test function of the grid coordinates ``(d, *spatial) -> (*spatial)`` (or broadcastable)."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class Monomial:
    """Test function ``phi(x) = x_axis ** order`` (``order = 0``: the constant 1)."""

    order: int = 0
    axis: int = 0

    def __call__(self, coords: torch.Tensor) -> torch.Tensor:
        if self.axis >= coords.shape[0]:
            raise InputError(
                f"test_functions: a moment along axis {self.axis} needs a grid with more than "
                f"{self.axis} axes, got {coords.shape[0]}"
            )
        return coords[self.axis] ** self.order


def _cached(owner: object, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
    """Small per-object cache of grid-dependent constants (weights, test functions).

    Keyed also by whether inference mode is on: a constant made under ``torch.inference_mode()``
    is an inference tensor, which autograd refuses to save for backward, so training must never
    get it back."""
    key = (*key, torch.is_inference_mode_enabled())
    cache: dict[tuple[Any, ...], Any] = owner.__dict__.setdefault("_cache", {})
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[key] = make()
    value: _T = cache[key]
    return value


def _channels(channels: int | Sequence[int], name: str) -> tuple[int, ...]:
    values = (channels,) if isinstance(channels, int) else channels
    out = tuple(int(c) for c in values)
    if not out or any(c < 0 for c in out) or len(set(out)) != len(out):
        raise InputError(f"{name}: expected distinct non-negative channel indices, got {out}")
    return out


def _check_target(target: Target) -> Target:
    if isinstance(target, str):
        if target != "input":
            raise InputError(f"target: expected 'input', a float or a callable, got {target!r}")
    elif not (callable(target) or isinstance(target, int | float)):
        raise InputError(
            f"target: expected 'input', a float or a callable, got {type(target).__name__}"
        )
    return target


def _check_field(u: torch.Tensor, name: str, need_channels: int) -> None:
    if not isinstance(u, torch.Tensor) or not u.is_floating_point():
        raise InputError(
            f"{name}: expected a floating torch.Tensor (B, C, *spatial), got {u!r:.60}"
        )
    if u.ndim < 3:
        raise InputError(f"{name}: expected shape (B, C, *spatial), got {tuple(u.shape)}")
    if u.shape[1] < need_channels:
        raise InputError(
            f"{name}: the constraint uses channel {need_channels - 1}, so at least "
            f"{need_channels} channels are needed; got shape {tuple(u.shape)}"
        )


class LinearConstraint:
    r"""Linear law :math:`C u = b` with rows :math:`C_j u = \sum_i w_i \phi_j(x_i) u_{c_j,i}`.

    Each row is a quadrature of a test function ``phi_j`` against one channel ``c_j`` of the output:
    mass (``phi = 1``), moments (``phi = x^k``), per-channel masses (several ``channels``). Test
    functions are callables of the grid coordinates ``(d, *spatial)`` and are evaluated at the
    field's own resolution, so one law applies at every grid.

    The target ``b`` is ``"input"`` (``b = C x`` on the input's ``input_channels``: state-to-state
    maps), a float (e.g. ``0.0`` for zero-mean vorticity), or a callable ``x -> b`` returning
    ``(B,)`` or ``(B, rows)``.

    Args:
        test_functions: callables ``coords -> values``; default ``[1]`` (mass).
        channels: output channels the law acts on (one row per channel and test function).
        target: ``"input"``, a float, or a callable.
        rule: quadrature rule, ``"periodic"``, ``"trapezoid"`` or ``"cells"`` (it also fixes the
            grid on which test functions are evaluated).
        lengths: box side lengths.
        input_channels: input channels for ``target="input"`` (default: ``channels``).

    Examples:
        >>> law = LinearConstraint.mass()
        >>> u = torch.ones(2, 1, 8)
        >>> law.residual(u, 3 * u).tolist()
        [[-2.0], [-2.0]]
    """

    kind = "linear"

    def __init__(
        self,
        test_functions: Sequence[TestFunction] | None = None,
        channels: int | Sequence[int] = (0,),
        target: Target = "input",
        rule: Rule = "periodic",
        lengths: float | Sequence[float] = 1.0,
        input_channels: int | Sequence[int] | None = None,
    ) -> None:
        funcs: list[TestFunction] = (
            [Monomial(0)] if test_functions is None else list(test_functions)
        )
        if not funcs or not all(callable(f) for f in funcs):
            raise InputError(
                f"test_functions: expected a non-empty list of callables, got {funcs!r}"
            )
        if rule not in RULES:
            raise InputError(f"rule: expected one of {RULES}, got {rule!r}")
        self.test_functions = funcs
        self.channels = _channels(channels, "channels")
        self.input_channels = (
            self.channels if input_channels is None else _channels(input_channels, "input_channels")
        )
        if len(self.input_channels) != len(self.channels):
            raise InputError(
                f"input_channels: expected {len(self.channels)} channels (one per output channel), "
                f"got {self.input_channels}"
            )
        self.target = _check_target(target)
        self.rule = rule
        self.lengths = lengths

    @classmethod
    def mass(
        cls,
        channel: int | Sequence[int] = 0,
        *,
        target: Target = "input",
        rule: Rule = "periodic",
        lengths: float | Sequence[float] = 1.0,
        input_channels: int | Sequence[int] | None = None,
    ) -> LinearConstraint:
        """Mass ``int u`` of one or more channels (``phi = 1``); other arguments as the class."""
        return cls(
            [Monomial(0)],
            channels=channel,
            target=target,
            rule=rule,
            lengths=lengths,
            input_channels=input_channels,
        )

    @classmethod
    def moment(
        cls,
        order: int = 1,
        axis: int = 0,
        channel: int = 0,
        *,
        target: Target = "input",
        rule: Rule = "periodic",
        lengths: float | Sequence[float] = 1.0,
        input_channels: int | Sequence[int] | None = None,
    ) -> LinearConstraint:
        """Moment ``int x_axis^order u`` of one channel; other arguments as the class."""
        if int(order) < 0:
            raise InputError(f"order: expected a non-negative integer, got {order!r}")
        return cls(
            [Monomial(int(order), int(axis))],
            channels=channel,
            target=target,
            rule=rule,
            lengths=lengths,
            input_channels=input_channels,
        )

    @classmethod
    def moments(
        cls,
        max_order: int = 2,
        axis: int = 0,
        channel: int = 0,
        *,
        target: Target = "input",
        rule: Rule = "periodic",
        lengths: float | Sequence[float] = 1.0,
        input_channels: int | Sequence[int] | None = None,
    ) -> LinearConstraint:
        """The ``max_order + 1`` moments ``int x^k u``, ``k = 0..max_order``, as one law."""
        if int(max_order) < 0:
            raise InputError(f"max_order: expected a non-negative integer, got {max_order!r}")
        funcs: list[TestFunction] = [Monomial(k, int(axis)) for k in range(int(max_order) + 1)]
        return cls(
            funcs,
            channels=channel,
            target=target,
            rule=rule,
            lengths=lengths,
            input_channels=input_channels,
        )

    @property
    def n_rows(self) -> int:
        """Number of scalar conditions ``m`` (channels x test functions)."""
        return len(self.channels) * len(self.test_functions)

    def __repr__(self) -> str:
        return (
            f"LinearConstraint(rows={self.n_rows}, channels={self.channels}, "
            f"target={self.target!r}, rule={self.rule!r})"
        )

    def weights(
        self, spatial: Sequence[int], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> torch.Tensor:
        """Quadrature weights on the grid ``spatial`` (cached per grid, dtype and device)."""
        return _cached(
            self,
            ("w", tuple(spatial), dtype, str(device)),
            lambda: quadrature_weights(
                tuple(spatial), self.lengths, self.rule, dtype=dtype, device=device
            ),
        )

    def test_values(
        self, spatial: Sequence[int], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> torch.Tensor:
        """Test functions on the grid: ``(n_test, *spatial)`` (cached per grid, dtype, device)."""
        spatial = tuple(spatial)
        return _cached(
            self,
            ("phi", spatial, dtype, str(device)),
            lambda: self._test_values(spatial, dtype=dtype, device=device),
        )

    def _test_values(
        self, spatial: tuple[int, ...], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> torch.Tensor:
        lengths = _as_lengths(self.lengths, len(spatial))
        coords = grid(spatial, rule_grid_kind(self.rule), lengths, dtype=dtype, device=device)
        vals = []
        for f in self.test_functions:
            v = torch.as_tensor(f(coords), dtype=dtype, device=device)
            vals.append(torch.broadcast_to(v, spatial))
        return torch.stack(vals)

    def rows(
        self,
        spatial: Sequence[int],
        n_channels: int,
        *,
        dtype: torch.dtype,
        device: torch.device | str | None,
    ) -> torch.Tensor:
        """Test functions placed in their channel: ``Phi`` of shape ``(m, C, *spatial)``.

        Row ``j`` of ``C`` is ``w * Phi[j]`` (flattened over channel and space).
        """
        phi = self.test_values(spatial, dtype=dtype, device=device)
        out = torch.zeros((self.n_rows, n_channels, *spatial), dtype=dtype, device=device)
        j = 0
        for c in self.channels:
            for t in range(phi.shape[0]):
                out[j, c] = phi[t]
                j += 1
        return out

    def apply(self, u: torch.Tensor, channels: Sequence[int] | None = None) -> torch.Tensor:
        """``C u`` for a field ``(B, C, *spatial)`` (``channels``: which channels play ``c_j``)."""
        channels = self.channels if channels is None else tuple(channels)
        spatial = tuple(u.shape[2:])
        w = self.weights(spatial, dtype=u.dtype, device=u.device)
        phi = self.test_values(spatial, dtype=u.dtype, device=u.device)
        dims = tuple(range(2, u.ndim))
        out = [(u[:, c].unsqueeze(1) * phi * w).sum(dim=dims) for c in channels]  # each (B, T)
        return torch.cat(out, dim=1)

    def target_values(
        self,
        x: torch.Tensor | None,
        batch: int,
        *,
        dtype: torch.dtype,
        device: torch.device | str | None,
    ) -> torch.Tensor:
        """The target ``b`` of shape ``(B, m)``."""
        if isinstance(self.target, str):
            if x is None:
                raise InputError("x: target='input' needs the operator's input, got None")
            _check_field(x, "x", max(self.input_channels) + 1)
            return self.apply(x.to(dtype), self.input_channels)
        if callable(self.target):
            b = torch.as_tensor(self.target(x), dtype=dtype, device=device)
            if b.ndim == 1:
                b = b.unsqueeze(1).expand(b.shape[0], self.n_rows)
            if tuple(b.shape) != (batch, self.n_rows):
                raise InputError(
                    f"target: the callable must return shape ({batch},) or ({batch}, "
                    f"{self.n_rows}), got {tuple(b.shape)}"
                )
            return b
        return torch.full((batch, self.n_rows), float(self.target), dtype=dtype, device=device)

    def residual(self, u: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """``C u - b`` of shape ``(B, m)``."""
        _check_field(u, "u", max(self.channels) + 1)
        b = self.target_values(x, u.shape[0], dtype=u.dtype, device=u.device)
        return self.apply(u) - b

    def scale(self, u: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """``sum_i |w_i phi_j u_{c_j,i}| + |b_j|``: the magnitude exactness is relative to (B,
        m)."""
        b = self.target_values(x, u.shape[0], dtype=u.dtype, device=u.device)
        spatial = tuple(u.shape[2:])
        w = self.weights(spatial, dtype=u.dtype, device=u.device)
        phi = self.test_values(spatial, dtype=u.dtype, device=u.device)
        dims = tuple(range(2, u.ndim))
        out = [(u[:, c].unsqueeze(1) * phi * w).abs().sum(dim=dims) for c in self.channels]
        return torch.cat(out, dim=1) + b.abs()


class QuadraticConstraint:
    r"""Quadratic law :math:`Q(u) = \sum_{c} \sum_i w_i u_{c,i}^2 = c_0` (an L2 norm).

    For a complex field stored as (Re, Im) channels, ``Q`` is ``int |psi|^2`` (the NLS mass).

    Args:
        channels: channels summed in ``Q``.
        target: ``"input"`` (``Q`` of the input's ``input_channels``), a float, or a callable.
        mode: ``"rescale"`` (Q1: radial rescale) or ``"adaptive"`` (Q2: ``u (1 + lambda s)``).
        rule: quadrature rule.
        lengths: box side lengths.
        input_channels: input channels for ``target="input"`` (default: ``channels``).

    Examples:
        >>> law = QuadraticConstraint(channels=(0,), target=2.0)
        >>> law.value(torch.ones(1, 1, 16)).tolist()
        [1.0]
    """

    kind = "quadratic"

    def __init__(
        self,
        channels: int | Sequence[int] = (0, 1),
        target: Target = "input",
        mode: QuadraticMode = "rescale",
        rule: Rule = "periodic",
        lengths: float | Sequence[float] = 1.0,
        input_channels: int | Sequence[int] | None = None,
    ) -> None:
        if mode not in QUADRATIC_MODES:
            raise InputError(f"mode: expected one of {QUADRATIC_MODES}, got {mode!r}")
        if rule not in RULES:
            raise InputError(f"rule: expected one of {RULES}, got {rule!r}")
        self.channels = _channels(channels, "channels")
        self.input_channels = (
            self.channels if input_channels is None else _channels(input_channels, "input_channels")
        )
        self.target = _check_target(target)
        if (
            isinstance(self.target, int | float)
            and not isinstance(self.target, bool)
            and not float(self.target) > 0
        ):
            raise InputError(f"target: a quadratic target must be > 0, got {self.target!r}")
        self.mode, self.rule, self.lengths = mode, rule, lengths

    def __repr__(self) -> str:
        return (
            f"QuadraticConstraint(channels={self.channels}, target={self.target!r}, "
            f"mode={self.mode!r}, rule={self.rule!r})"
        )

    def weights(
        self, spatial: Sequence[int], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> torch.Tensor:
        """Quadrature weights on the grid ``spatial`` (cached per grid, dtype and device)."""
        return _cached(
            self,
            ("w", tuple(spatial), dtype, str(device)),
            lambda: quadrature_weights(
                tuple(spatial), self.lengths, self.rule, dtype=dtype, device=device
            ),
        )

    def value(self, u: torch.Tensor, channels: Sequence[int] | None = None) -> torch.Tensor:
        """``Q(u)`` per sample, shape ``(B,)``."""
        channels = self.channels if channels is None else tuple(channels)
        _check_field(u, "u", max(channels) + 1)
        w = self.weights(tuple(u.shape[2:]), dtype=u.dtype, device=u.device)
        dims = tuple(range(1, u.ndim))
        return (u[:, list(channels)] ** 2 * w).sum(dim=dims)

    def target_values(
        self,
        x: torch.Tensor | None,
        batch: int,
        *,
        dtype: torch.dtype,
        device: torch.device | str | None,
    ) -> torch.Tensor:
        """The target ``c`` per sample, shape ``(B,)``."""
        if isinstance(self.target, str):
            if x is None:
                raise InputError("x: target='input' needs the operator's input, got None")
            return self.value(x.to(dtype), self.input_channels)
        if callable(self.target):
            c = torch.as_tensor(self.target(x), dtype=dtype, device=device).reshape(-1)
            if c.shape[0] != batch:
                raise InputError(
                    f"target: the callable must return shape ({batch},), got {tuple(c.shape)}"
                )
            return c
        return torch.full((batch,), float(self.target), dtype=dtype, device=device)

    def residual(self, u: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """``Q(u) - c`` per sample, shape ``(B, 1)``."""
        c = self.target_values(x, u.shape[0], dtype=u.dtype, device=u.device)
        return (self.value(u) - c).unsqueeze(1)

    def scale(self, u: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """``Q(u) + c``: the magnitude exactness is relative to, shape ``(B, 1)``."""
        c = self.target_values(x, u.shape[0], dtype=u.dtype, device=u.device)
        return (self.value(u) + c.abs()).unsqueeze(1)


Constraint = LinearConstraint | QuadraticConstraint
"""One law."""

Constraints = Constraint | Iterable[Constraint]
"""One law or several (what every ``constraints`` argument accepts)."""


def as_constraint_list(constraints: Constraints) -> list[Constraint]:
    """Normalise one constraint or a sequence of them; at most one quadratic law."""
    if isinstance(constraints, LinearConstraint | QuadraticConstraint):
        constraints = [constraints]
    try:
        laws = list(constraints)
    except TypeError:
        raise InputError(
            f"constraints: expected a LinearConstraint, QuadraticConstraint or a list of them, "
            f"got {type(constraints).__name__}"
        ) from None
    if not laws or not all(isinstance(c, LinearConstraint | QuadraticConstraint) for c in laws):
        raise InputError(
            f"constraints: expected a non-empty list of LinearConstraint/QuadraticConstraint, "
            f"got {laws!r}"
        )
    if sum(isinstance(c, QuadraticConstraint) for c in laws) > 1:
        raise InputError("constraints: at most one QuadraticConstraint is supported, got several")
    return laws
