"""``ConservedOperator``: wrap any operator model so that its output obeys the laws exactly."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, overload

import torch
from torch import nn

from sciml_core import InputError

from ._constraints import Constraints
from ._correction import ConservationCorrection, Direction
from ._fno import FNO, Pointwise
from ._grid import grid

TensorMap = Callable[[torch.Tensor], torch.Tensor]
"""An encoder or decoder: any callable from a tensor to a tensor (a module or a function)."""


def _periodic_embedding(
    shape: Sequence[int], *, dtype: torch.dtype, device: torch.device | str | None
) -> torch.Tensor:
    coords = grid(tuple(shape), "periodic", dtype=dtype, device=device)
    return torch.cat([torch.sin(2 * math.pi * coords), torch.cos(2 * math.pi * coords)])


class PointwiseMLP(nn.Module):
    """Pointwise (1x1) MLP over the channel axis of ``(B, C, *spatial)``, any spatial dimension.

    ``fc2(gelu(fc1(z)))`` at every grid point; the two layers are :class:`~fno_conserve.FNO`'s
    :class:`Pointwise` (``nn.Linear`` parameters, computed channel-first as one batched matrix
    product, with no transposed copy of ``z`` in the forward or the backward pass).

    Examples:
        >>> PointwiseMLP(3, 2, hidden=8)(torch.randn(4, 3, 5, 6)).shape
        torch.Size([4, 2, 5, 6])
    """

    def __init__(
        self, in_channels: int, out_channels: int, hidden: int = 32, *, init_bias: float = 0.0
    ) -> None:
        super().__init__()
        self.fc1 = Pointwise(in_channels, hidden)
        self.fc2 = Pointwise(hidden, out_channels)
        self.act = nn.GELU()
        self.init_bias = float(init_bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.fc1.reset_parameters()
        self.fc2.reset_parameters()
        with torch.no_grad():  # start near a constant output, with enough spread to learn from
            self.fc2.weight.mul_(0.1)
            self.fc2.bias.fill_(self.init_bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """The MLP at every grid point.

        Shapes:
            ``z`` ``(B, in_channels, *spatial)``; output ``(B, out_channels, *spatial)``.
        """
        return self.fc2(self.act(self.fc1(z)))


def _inv_softplus(y: float) -> float:
    return math.log(math.expm1(y))


class ConservedOperator(nn.Module):
    r"""``x -> Pi(decoder(base(encoder(x))))``: any model, corrected so its output obeys the laws.

    The correction (:class:`ConservationCorrection`) is applied in physical units, after the
    optional ``decoder`` (pitfall: correcting normalised outputs breaks the law in physical units).
    The adaptive direction comes from (``direction`` of the correction; ``None`` resolves here):

    * ``"head"``: the base model's ``aux_channels`` extra output channels,
    ``s = softplus(aux) + eps``
      (input-dependent, O(N)); the default for this package's :class:`FNO` built with aux channels.
    * ``"net"``: a small pointwise network on ``(x, u, periodic grid embedding)`` (``s_net``
      replaces it: a module ``(x, u) -> raw s``); needs nothing from the base, so it is the default
      for every other model (a CNN, neuraloperator's FNO, ...).
    * ``"field"``: a learned positive field of the coordinates only (not input-adaptive).
    * ``"lowrank"``: ``A = W^{-1} + V V^T`` with ``rank`` pointwise features ``V`` of
    ``(x, u, grid)``.
    * ``"dense"``: ``A = W^{-1} + M M^T`` with a dense ``(C N) x (C N)`` matrix ``M``: the literal
      learnable matrix, O(N^2) and tied to the grid ``grid_shape`` (refused at any other grid).

    Args:
        base: any ``nn.Module`` mapping ``(B, C_in, *spatial)`` to ``(B, C_out (+aux), *spatial)``.
        correction: the :class:`ConservationCorrection`.
        s_net: optional module ``(x, u) -> raw s`` for ``direction="net"``.
        encoder: optional callable applied to ``x`` before ``base``.
        decoder: optional callable applied to the base output before the correction.
        in_channels, out_channels, dim: needed only when ``base`` does not expose them
            (``in_channels``/``out_channels``/``dim`` or ``n_dim`` attributes).
        hidden: hidden width of the direction networks.
        rank: rank of ``V`` for ``"lowrank"``.
        grid_shape: the fixed grid for ``"dense"``.

    Shapes:
        input ``(B, C_in, *spatial)``; output ``(B, C_out, *spatial)``.

    Examples:
        >>> from fno_conserve import FNO1d, LinearConstraint
        >>> corr = ConservationCorrection(LinearConstraint.mass())
        >>> model = ConservedOperator(FNO1d(1, 1, modes=4, width=8, aux_channels=1), corr)
        >>> model.direction
        'head'
        >>> x = torch.randn(2, 1, 32)
        >>> bool((model(x).mean(-1) - x.mean(-1)).abs().max() < 1e-6)
        True
    """

    def __init__(
        self,
        base: nn.Module,
        correction: ConservationCorrection,
        s_net: nn.Module | None = None,
        encoder: TensorMap | None = None,
        decoder: TensorMap | None = None,
        *,
        in_channels: int | None = None,
        out_channels: int | None = None,
        dim: int | None = None,
        hidden: int = 32,
        rank: int = 2,
        grid_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(base, nn.Module):
            raise InputError(f"base: expected a torch.nn.Module, got {type(base).__name__}")
        if not isinstance(correction, ConservationCorrection):
            raise InputError(
                f"correction: expected a ConservationCorrection, got {type(correction).__name__}"
            )
        self.base, self.correction = base, correction
        self.encoder, self.decoder = encoder, decoder
        is_head_fno = isinstance(base, FNO) and base.aux_channels > 0
        direction: Direction | None = correction.direction
        if correction.needs_direction and direction is None:
            direction = "head" if is_head_fno else "net"
        if not correction.needs_direction:
            direction = None
        self.direction: Direction | None = direction
        self.aux_channels: int = base.aux_channels if isinstance(base, FNO) else 0
        if direction == "head" and not is_head_fno:
            raise InputError(
                "correction: direction='head' needs a base that emits extra channels (this "
                "package's FNO with aux_channels >= 1); use direction='net' for other models"
            )
        self.in_channels: int | None = (
            in_channels if in_channels is not None else getattr(base, "in_channels", None)
        )
        self.out_channels: int | None = (
            out_channels if out_channels is not None else getattr(base, "out_channels", None)
        )
        self.dim: int | None = (
            dim if dim is not None else getattr(base, "dim", getattr(base, "n_dim", None))
        )
        needs: dict[Direction, tuple[str, ...]] = {
            "net": ("in_channels", "out_channels", "dim"),
            "field": ("out_channels", "dim"),
            "lowrank": ("in_channels", "out_channels", "dim"),
            "dense": ("out_channels",),
        }
        if direction == "net" and s_net is not None:
            needs["net"] = ("out_channels",)
        needed = ("out_channels",) if direction is None else needs.get(direction, ())
        for name in needed:
            if getattr(self, name) is None:
                raise InputError(
                    f"{name}: direction={direction!r} needs it and the base model does not expose "
                    f"`{name}`; pass {name}=..."
                )
        self.s_net: nn.Module | None = None
        self.v_net: nn.Module | None = None
        self.s_field: nn.Module | None = None
        self.dense: nn.Parameter | None = None
        self.rank = int(rank)
        bias = _inv_softplus(1.0 - correction.eps)  # s starts near 1 (the projection)
        if direction == "net":
            if s_net is not None:
                self.s_net = s_net
            else:
                cin = self._size("in_channels") + self._size("out_channels") + 2 * self._size("dim")
                self.s_net = PointwiseMLP(cin, 1, hidden, init_bias=bias)
        elif direction == "field":
            self.s_field = PointwiseMLP(2 * self._size("dim"), 1, hidden, init_bias=bias)
        elif direction == "lowrank":
            if self.rank < 1:
                raise InputError(f"rank: expected a positive integer, got {rank!r}")
            cin = self._size("in_channels") + self._size("out_channels") + 2 * self._size("dim")
            self.v_net = PointwiseMLP(cin, self.rank * self._size("out_channels"), hidden)
        elif direction == "dense":
            if grid_shape is None:
                raise InputError("grid_shape: direction='dense' needs the fixed grid, got None")
            self.grid_shape = tuple(int(n) for n in grid_shape)
            n = self._size("out_channels") * math.prod(self.grid_shape)
            self.dense = nn.Parameter(torch.randn(n, n) / n)

    def _size(self, name: str) -> int:
        """``in_channels``, ``out_channels`` or ``dim``, checked to be known in ``__init__``."""
        value = getattr(self, name)
        if not isinstance(value, int):
            raise ValueError(f"{name}: expected a known integer, got {value!r}")
        return value

    def config(self) -> dict[str, Any]:
        """The correction's settings and the resolved direction (JSON-serialisable)."""
        return {
            "direction": self.direction,
            "mode": self.correction.mode,
            "compute_dtype": str(self.correction.compute_dtype),
            "eps": self.correction.eps,
            "rank": self.rank,
        }

    def _embed(self, ref: torch.Tensor) -> torch.Tensor:
        """The periodic grid embedding ``(B, 2 dim, *spatial)`` of ``ref``'s grid (cached per grid,
        dtype, device and inference mode: a constant, never recomputed per call; one made under
        ``torch.inference_mode()`` is never handed to training)."""
        key = (tuple(ref.shape[2:]), ref.dtype, str(ref.device), torch.is_inference_mode_enabled())
        cache: dict[tuple[Any, ...], torch.Tensor] = self.__dict__.setdefault("_embed_cache", {})
        emb = cache.get(key)
        if emb is None:
            emb = _periodic_embedding(ref.shape[2:], dtype=ref.dtype, device=ref.device)
            if len(cache) > 16:
                cache.clear()
            cache[key] = emb
        return emb.unsqueeze(0).expand(ref.shape[0], *emb.shape)

    def direction_terms(
        self, x: torch.Tensor, u: torch.Tensor, aux: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """The keyword arguments (``s``, ``V``) the correction gets for this input.

        Shapes:
            ``x`` ``(B, C_in, *spatial)``; ``u`` ``(B, C_out, *spatial)``; ``aux``
            ``(B, aux_channels, *spatial)``; ``s`` ``(B, 1, *spatial)``; ``V``
            ``(B, r, C_out, *spatial)``.
        """
        pos = self.correction.positive
        if self.direction == "head":
            if aux is None:
                raise InputError("base: direction='head' needs the base's aux channels, got none")
            return {"s": pos(aux)}
        if self.direction == "net" and self.s_net is not None:
            if isinstance(self.s_net, PointwiseMLP):
                return {"s": pos(self.s_net(torch.cat([x, u, self._embed(u)], dim=1)))}
            return {"s": pos(self.s_net(x, u))}
        if self.direction == "field" and self.s_field is not None:
            emb = self._embed(u)[:1]
            return {"s": pos(self.s_field(emb)).expand(u.shape[0], *([-1] * (u.ndim - 1)))}
        if self.direction == "lowrank" and self.v_net is not None:
            v = self.v_net(torch.cat([x, u, self._embed(u)], dim=1))
            return {"V": v.reshape(u.shape[0], self.rank, *u.shape[1:])}
        if self.direction == "dense" and self.dense is not None:
            if tuple(u.shape[2:]) != self.grid_shape:
                raise InputError(
                    f"x: direction='dense' is tied to the grid {self.grid_shape}, got "
                    f"{tuple(u.shape[2:])}"
                )
            n = self.dense.shape[0]
            v = self.dense.T.reshape(1, n, *u.shape[1:]).to(u.dtype)
            return {"V": v.expand(u.shape[0], *v.shape[1:])}
        return {}

    @overload
    def forward(self, x: torch.Tensor, *, return_info: Literal[False] = False) -> torch.Tensor: ...

    @overload
    def forward(
        self, x: torch.Tensor, *, return_info: Literal[True]
    ) -> tuple[torch.Tensor, dict[str, Any]]: ...

    def forward(
        self, x: torch.Tensor, *, return_info: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, Any]]:
        """Corrected output (and the correction's info dict, with ``s`` if used, if asked).

        Shapes:
            ``x`` ``(B, C_in, *spatial)``; output ``(B, C_out, *spatial)``.
        """
        if not isinstance(x, torch.Tensor):
            raise InputError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        z = self.encoder(x) if self.encoder is not None else x
        out = self.base(z)
        n_out = out.shape[1] - self.aux_channels
        if self.out_channels is not None and n_out != self.out_channels:
            raise InputError(
                f"base: expected {self.out_channels} output channels (+{self.aux_channels} aux), "
                f"got {out.shape[1]}"
            )
        u, aux = out[:, :n_out], (out[:, n_out:] if self.aux_channels else None)
        if self.decoder is not None:
            u = self.decoder(u)
        terms = self.direction_terms(x, u, aux)
        corrected, info = self.correction(u, x, residuals=return_info, **terms)
        if "s" in terms:
            info["s"] = terms["s"].detach()
        return (corrected, info) if return_info else corrected

    def uncorrected(self, x: torch.Tensor) -> torch.Tensor:
        """The base model's output (decoded, aux channels dropped), before the correction."""
        z = self.encoder(x) if self.encoder is not None else x
        out = self.base(z)
        u = out[:, : out.shape[1] - self.aux_channels]
        return self.decoder(u) if self.decoder is not None else u


def posthoc_projection(
    u: torch.Tensor, x: torch.Tensor | None, constraints: Constraints
) -> torch.Tensor:
    """Orthogonal (quadrature) projection of ``u`` onto the laws, applied after the fact.

    ``u* = u - W^{-1} C^T (C W^{-1} C^T)^{-1} (C u - b)``: per sample it never increases the
    quadrature L2 distance to any target that satisfies the laws.

    Examples:
        >>> from fno_conserve import LinearConstraint
        >>> x = torch.randn(2, 1, 16)
        >>> u = posthoc_projection(torch.randn(2, 1, 16), x, LinearConstraint.mass())
        >>> bool(torch.allclose(u.mean(-1), x.mean(-1), atol=1e-6))
        True
    """
    return ConservationCorrection(constraints, mode="projection")(u, x)[0]
