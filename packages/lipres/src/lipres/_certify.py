r"""End-to-end Lipschitz bounds and certified ℓ2 radii (spec §2.4-2.5).

**Network bound.** A network is a chain of maps :math:`f = g_n \circ \dots \circ g_1` between
normed spaces; :math:`\mathrm{Lip}(f) \le \prod_i \mathrm{Lip}(g_i)` when every :math:`g_i` is
measured between the norms its neighbours use. :func:`chain_bound` multiplies the proven bounds of
the maps in order, checks that the norms match, and raises :class:`NotCertifiedError` naming the
first map without a proven bound (an ``nn.Linear`` lifting, say: the gap of the official code).

**Certified radius.** For logits :math:`f_j`, if the margin :math:`f_y - f_j` is
:math:`M_{yj}`-Lipschitz then no :math:`\|\delta\|_2 < r(x)`,

.. math::
    r(x) = \min_{j \ne y} \frac{f_y(x) - f_j(x)}{M_{yj}},

changes the prediction. For :math:`f = Vz + \beta` with :math:`z` :math:`L_z`-Lipschitz into the
hidden norm, :math:`M_{yj} = L_z\|v_y - v_j\|_{\text{dual}}`. Without that structure the generic
:math:`M_{yj} = \sqrt 2\,L` for an :math:`L`-Lipschitz (ℓ2 → ℓ2) logit map gives Tsuzuku, Sato,
Sugiyama (2018)'s radius :math:`(f_y - \max_{j\ne y} f_j)/(\sqrt 2 L)`, never larger, because
:math:`|(e_y - e_j)^T(f(x) - f(x'))| \le \sqrt 2\,\|f(x) - f(x')\|_2`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from sciml_core import InputError, check_finite

from ._common import check_label_range

__all__ = [
    "NotCertifiedError",
    "certified_accuracy",
    "certified_radius",
    "chain_bound",
    "lipschitz_bound",
]

_PARAMETER_FREE = (nn.ReLU, nn.Identity, nn.Tanh, nn.Flatten)


class NotCertifiedError(InputError):
    """A model, or one of its maps, has no proven Lipschitz bound (the message names it)."""


def _norms(module: nn.Module) -> tuple[str, str]:
    return getattr(module, "in_norm", "any"), getattr(module, "out_norm", "any")


def chain_bound(maps: Iterable[tuple[str, nn.Module]], *, owner: str = "model") -> float:
    """Product of the proven bounds of ``maps`` (``(name, module)`` pairs, in order).

    Raises:
        NotCertifiedError: a map has no ``lipschitz_bound()`` (and is not a parameter-free
            1-Lipschitz activation), or two neighbouring maps use different norms.
    """
    total = 1.0
    current = "l2"
    for name, module in maps:
        where = f"{owner}.{name}" if name else owner
        bound_fn = getattr(module, "lipschitz_bound", None)
        if callable(bound_fn):
            bound = float(bound_fn())
        elif isinstance(module, _PARAMETER_FREE):
            bound = 1.0
        else:
            raise NotCertifiedError(
                f"{where} ({type(module).__name__}) has no proven Lipschitz bound: use a "
                "lipres layer (Lifting, GradientStep, MixedNormAffine, ScalarHead, ...) there"
            )
        if not math.isfinite(bound):
            raise NotCertifiedError(f"{where}: its Lipschitz bound is not finite ({bound})")
        in_norm, out_norm = _norms(module)
        if in_norm not in ("any", current):
            raise NotCertifiedError(
                f"{where} ({type(module).__name__}) expects the {in_norm!r} norm on its input "
                f"but the previous map produces the {current!r} norm"
            )
        current = current if out_norm == "any" else out_norm
        total *= bound
    return total


def lipschitz_bound(model: nn.Module) -> float:
    """The proven ℓ2 Lipschitz bound of ``model`` (product of exact per-map bounds).

    ``model`` is a lipres network or layer (anything with ``lipschitz_bound()``), or an
    ``nn.Sequential`` of them.

    Raises:
        NotCertifiedError: ``model`` or one of its maps has no proven bound (named).

    Examples:
        >>> from lipres import GradientStep, Lifting
        >>> bound = lipschitz_bound(nn.Sequential(Lifting(2, 4), GradientStep(4)))
        >>> 0.99999 < bound <= 1.0  # the lifting is stored at norm 1 - 1e-6 (float32)
        True
        >>> lipschitz_bound(nn.Sequential(nn.Linear(2, 4), GradientStep(4)))
        Traceback (most recent call last):
        ...
        lipres._certify.NotCertifiedError: model.0 (Linear) has no proven Lipschitz bound: ...
    """
    fn = getattr(model, "lipschitz_bound", None)
    if callable(fn):
        return float(fn())
    if isinstance(model, nn.Sequential):
        return chain_bound(model.named_children())
    raise NotCertifiedError(
        f"model ({type(model).__name__}) has no proven Lipschitz bound (no lipschitz_bound())"
    )


def _check_labels(model_out: Tensor, y: Tensor) -> Tensor:
    if model_out.dim() != 2 or model_out.shape[1] < 2:
        raise InputError(f"model output: expected logits [B, K >= 2], got {tuple(model_out.shape)}")
    y = torch.as_tensor(y, device=model_out.device)
    if y.dim() != 1 or y.shape[0] != model_out.shape[0]:
        raise InputError(f"y: expected shape [{model_out.shape[0]}], got {tuple(y.shape)}")
    if y.is_floating_point() or y.is_complex():
        raise InputError(f"y: expected integer labels, got {y.dtype}")
    check_label_range(y, model_out.shape[1])
    return y.long()


def _margin_lipschitz(model: nn.Module, k: int, lipschitz: float | None) -> Tensor:
    if lipschitz is not None:
        value = float(lipschitz)
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"lipschitz: expected a finite number > 0, got {lipschitz!r}")
        warnings.warn(
            f"certified_radius: using the caller's unverified lipschitz={value}; the radii are "
            "only as good as that number",
            UserWarning,
            stacklevel=3,
        )
        return torch.full((k, k), math.sqrt(2.0) * value, dtype=torch.float64)
    table_fn = getattr(model, "margin_lipschitz", None)
    if callable(table_fn):
        return table_fn().double().cpu()
    return torch.full((k, k), math.sqrt(2.0) * lipschitz_bound(model), dtype=torch.float64)


def certified_radius(
    model: nn.Module, x: Tensor, y: Tensor, *, lipschitz: float | None = None
) -> Tensor:
    r"""Certified ℓ2 radius of every input: no perturbation smaller than it changes the class.

    Uses the model's margin table (``margin_lipschitz()``, the exact dual norms of the head's row
    differences times the backbone bound) when it has one, else Tsuzuku's
    :math:`\text{margin}/(\sqrt2 L)` with ``L = lipschitz_bound(model)``. Misclassified points get
    radius 0. A model without a proven bound is refused unless ``lipschitz`` is passed (then a
    ``UserWarning`` says the radii rest on an unverified number).

    Args:
        model: Logits ``[B, K]`` from ``[B, d]``.
        x: ``[B, d]`` inputs.
        y: ``[B]`` integer labels.
        lipschitz: An ℓ2 Lipschitz constant of the logit map supplied by the caller (unverified).

    Returns:
        ``[B]`` radii, float64, on ``x``'s device.

    Raises:
        NotCertifiedError: no proven bound and no ``lipschitz``.
        InputError: NaN inputs, labels out of range or of the wrong shape.

    Examples:
        >>> lin = nn.Linear(2, 2)
        >>> with torch.no_grad():
        ...     _ = lin.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]])); _ = lin.bias.zero_()
        >>> import warnings; warnings.simplefilter("ignore")
        >>> certified_radius(lin, torch.tensor([[0.5, 3.0]]), torch.tensor([0]), lipschitz=1.0)
        tensor([0.7071], dtype=torch.float64)
    """
    check_finite(x, "x")
    with torch.no_grad():
        logits = model(x)
    y = _check_labels(logits, y)
    k = logits.shape[1]
    table = _margin_lipschitz(model, k, lipschitz).to(logits.device)
    f = logits.double()
    fy = f.gather(1, y[:, None])
    margin = fy - f  # [B, K]
    lip = table[y]
    # A margin with Lipschitz constant 0 never changes: infinite radius if positive, else 0.
    ratios = torch.where(
        lip > 0, margin / lip.clamp_min(1e-300), torch.where(margin > 0, math.inf, 0.0)
    )
    ratios = ratios.scatter(1, y[:, None], math.inf)
    return ratios.amin(dim=1).clamp_min(0.0)


def certified_accuracy(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    eps: float | Sequence[float],
    *,
    lipschitz: float | None = None,
) -> float | list[float]:
    """Fraction of points classified correctly with certified radius > ``eps`` (one per eps).

    Raises:
        InputError: an ``eps`` <= 0 or not finite (and as :func:`certified_radius`).
    """
    many = not isinstance(eps, int | float)
    values = [float(e) for e in eps] if not isinstance(eps, int | float) else [float(eps)]
    for e in values:
        if not (math.isfinite(e) and e > 0):
            raise InputError(f"eps: expected finite numbers > 0, got {e!r}")
    r = certified_radius(model, x, y, lipschitz=lipschitz)
    with torch.no_grad():
        correct = model(x).argmax(dim=1) == torch.as_tensor(y, device=r.device)
    out = [float(((r > e) & correct).double().mean()) for e in values]
    return out if many else out[0]
