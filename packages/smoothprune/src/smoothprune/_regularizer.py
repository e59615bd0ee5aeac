r"""The regularised objective of the paper, over the layers of a model.

.. math::

    L(\theta) = \mathrm{CE}(f_\theta(x), y)
      + \lambda_* \sum_\ell \|\mathrm{mat}(W_\ell)\|_*
      + \lambda_1 \sum_\ell R^1(W_\ell) + \lambda_2 \sum_\ell R^2(W_\ell)

(:mod:`smoothprune._differences` defines :math:`R^q`). The nuclear term is either differentiated
(``nuclear_mode="penalty"``, through ``svdvals``) or applied as a proximal step
(``nuclear_mode="prox"``): after every ``every``-th optimiser step the caller runs
:meth:`SmoothnessRegularizer.prox_step` with the current learning rate :math:`\eta`, which sets
:math:`\sigma_i \leftarrow \max(\sigma_i - n \eta \lambda_*, 0)`, ``n = every``. With SGD and
``n = 1`` that is the exact proximal-gradient step; with Adam it is a heuristic (ours).

Layers: every ``nn.Conv2d`` and ``nn.Linear`` except grouped or depthwise convolutions and, by
default, the last ``nn.Linear`` (the classifier; ``exclude="last_linear"``). Our choice.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from sciml_core import InputError

from ._differences import Axis, Reduction, nuclear_norm, smoothness_penalty
from ._svd import layer_weight, singular_value_threshold

__all__ = ["NUCLEAR_MODES", "NuclearMode", "SmoothnessRegularizer"]

NuclearMode = Literal["penalty", "prox"]
NUCLEAR_MODES: tuple[NuclearMode, ...] = typing.get_args(NuclearMode)


def _lam(value: float, name: str) -> float:
    value = float(value)
    if not value >= 0.0 or value == float("inf"):
        raise InputError(f"{name} must be a finite number >= 0; got {value}")
    return value


def regularised_layers(
    model: nn.Module, exclude: str | Sequence[str] = "last_linear"
) -> list[tuple[str, nn.Module]]:
    """The ``(name, layer)`` pairs a regulariser acts on (module docstring)."""
    layers = [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1)
    ]
    if isinstance(exclude, str):
        if exclude == "last_linear":
            linear = [n for n, m in layers if isinstance(m, nn.Linear)]
            drop = set(linear[-1:])
        elif exclude == "none":
            drop = set()
        else:
            raise InputError(
                f"exclude must be 'last_linear', 'none' or a list of layer names; got {exclude!r}"
            )
    else:
        names = {n for n, _ in layers}
        unknown = [n for n in exclude if n not in names]
        if unknown:
            raise InputError(
                f"exclude names layers that are not in the model: {unknown}; "
                f"its layers are {sorted(names)}"
            )
        drop = set(exclude)
    return [(n, m) for n, m in layers if n not in drop]


class SmoothnessRegularizer:
    r"""Nuclear-norm, first- and second-order smoothness penalties over a model's layers.

    Args:
        model: The model whose layers are regularised (looked up once, here).
        nuclear: :math:`\lambda_*`.
        first_order: :math:`\lambda_1`.
        second_order: :math:`\lambda_2` (the default ``1e-3`` is a starting point: tune it per
            architecture, ``reduction="sum"`` makes it scale with layer size).
        axes: Axes of the differences (``"out"``, ``"in"``, ``"spatial"``).
        p: 2 (squares) or 1 (absolute values).
        reduction: ``"sum"`` or ``"mean"``.
        exclude: ``"last_linear"`` (default), ``"none"`` or a list of layer names.
        nuclear_mode: ``"penalty"`` (in :meth:`__call__`) or ``"prox"`` (:meth:`prox_step`).
        every: The ``n`` of the proximal step (the caller runs it every ``n`` steps).

    Examples:
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> reg = SmoothnessRegularizer(net, second_order=1.0)
        >>> [name for name, _ in reg.layers]  # the classifier is excluded
        ['0']
        >>> with torch.no_grad():
        ...     _ = net[0].weight.copy_(torch.arange(4.0)[:, None].expand(4, 3))  # rows affine in o
        >>> reg().item()
        0.0
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        nuclear: float = 0.0,
        first_order: float = 0.0,
        second_order: float = 1e-3,
        axes: Sequence[Axis | int] = ("out",),
        p: int = 2,
        reduction: Reduction = "sum",
        exclude: str | Sequence[str] = "last_linear",
        nuclear_mode: NuclearMode = "penalty",
        every: int = 1,
    ) -> None:
        self.nuclear = _lam(nuclear, "nuclear")
        self.first_order = _lam(first_order, "first_order")
        self.second_order = _lam(second_order, "second_order")
        if nuclear_mode not in NUCLEAR_MODES:
            raise InputError(f"nuclear_mode must be one of {NUCLEAR_MODES}; got {nuclear_mode!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise InputError(f"every must be an int >= 1; got {every!r}")
        self.axes: tuple[Axis | int, ...] = (
            (typing.cast(Axis, axes),) if isinstance(axes, str) else tuple(axes)
        )
        self.p = p
        self.reduction = reduction
        self.nuclear_mode = nuclear_mode
        self.every = every
        self.layers = regularised_layers(model, exclude)
        if self.layers:  # validates axes, p and reduction once, with a clear error
            smoothness_penalty(
                layer_weight(self.layers[0][1]).detach(),
                axes=self.axes,
                order=1,
                p=p,
                reduction=reduction,
            )

    def terms(self) -> dict[tuple[str, str], torch.Tensor]:
        """Each weighted term, keyed ``(layer, "nuclear" | "first_order" | "second_order")``."""
        out: dict[tuple[str, str], torch.Tensor] = {}
        for name, layer in self.layers:
            w = layer_weight(layer)
            if self.nuclear and self.nuclear_mode == "penalty":
                out[name, "nuclear"] = self.nuclear * nuclear_norm(w)
            for key, lam, order in (
                ("first_order", self.first_order, 1),
                ("second_order", self.second_order, 2),
            ):
                if lam:
                    pen = smoothness_penalty(
                        w, axes=self.axes, order=order, p=self.p, reduction=self.reduction
                    )
                    out[name, key] = lam * pen
        return out

    def __call__(self) -> torch.Tensor:
        """The scalar penalty (0 when every λ is 0), on the layers' device and dtype."""
        terms = list(self.terms().values())
        if not terms:
            w = layer_weight(self.layers[0][1]) if self.layers else torch.zeros(())
            return w.new_zeros(())
        return torch.stack(terms).sum()

    @torch.no_grad()
    def prox_step(self, lr: float) -> None:
        r"""Soft-threshold every layer's singular values by ``every * lr * nuclear``.

        Does nothing unless ``nuclear_mode="prox"`` and ``nuclear > 0``.
        """
        if self.nuclear_mode != "prox" or not self.nuclear:
            return
        tau = self.every * float(lr) * self.nuclear
        for _, layer in self.layers:
            w = layer_weight(layer)
            w.copy_(singular_value_threshold(w, tau))

    def __repr__(self) -> str:
        names = ", ".join(n for n, _ in self.layers)
        return (
            f"SmoothnessRegularizer(layers=[{names}], nuclear={self.nuclear:g} "
            f"({self.nuclear_mode}, every={self.every}), first_order={self.first_order:g}, "
            f"second_order={self.second_order:g}, axes={self.axes}, p={self.p}, "
            f"reduction={self.reduction!r})"
        )
