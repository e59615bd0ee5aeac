"""DeepInverse interop: our operators as ``deepinv`` linear physics, and ``deepinv`` linear physics
as our :class:`LinearOperator` (``pip install 'invprob-core[deepinv]'``).

DeepInverse (``deepinv``) holds images as ``(B, C, H, W)`` and a linear physics as the pair
``A``/``A_adjoint`` plus a noise model. Our operators act on trailing ``(H, W)`` dimensions and
carry any leading ones, so an image batch passes through unchanged in both directions. The
adjoints stay exact: :func:`to_deepinv` calls our ``forward``/``adjoint`` kernels, and
:func:`from_deepinv` calls the physics' own ``A``/``A_adjoint`` (exact for the physics that have
exact adjoints, e.g. ``Blur`` with circular padding, ``Inpainting``, ``Downsampling``; deepinv's
rotation-based ``Tomography`` has an approximate one, which :func:`adjoint_test` shows).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from sciml_core import InputError, require_extra

from ._operator import LinearOperator, Shape

__all__ = ["from_deepinv", "to_deepinv"]


def _physics_class() -> type:
    """``InvprobPhysics``: deepinv's ``LinearPhysics`` around one of our operators (built lazily,
    so importing invprob_core never imports deepinv)."""
    dinv = require_extra("deepinv", extra="deepinv", package="invprob-core")
    cached = globals().get("_PHYSICS_CLASS")
    if cached is not None:
        return cached

    class InvprobPhysics(dinv.physics.LinearPhysics):  # type: ignore[name-defined]
        """An invprob-core :class:`LinearOperator` as a deepinv ``LinearPhysics``.

        ``A`` and ``A_adjoint`` are the operator's exact forward and adjoint; the noise model is
        deepinv's. The operator is a submodule, so ``.to(device)`` moves it with the physics.
        """

        def __init__(self, operator: LinearOperator, noise_model: Any) -> None:
            super().__init__(noise_model=noise_model)
            self.operator = operator

        def A(self, x: torch.Tensor, **kwargs: Any) -> torch.Tensor:
            """Shapes: ``x`` ``(B, C, *in_shape)`` -> ``(B, C, *out_shape)``."""
            return self.operator(x)

        def A_adjoint(self, y: torch.Tensor, **kwargs: Any) -> torch.Tensor:
            """Shapes: ``y`` ``(B, C, *out_shape)`` -> ``(B, C, *in_shape)``."""
            return self.operator.adjoint(y)

    globals()["_PHYSICS_CLASS"] = InvprobPhysics
    return InvprobPhysics


def to_deepinv(
    operator: LinearOperator, *, sigma: float | None = None, noise_model: Any = None
) -> Any:
    """Our operator as a deepinv ``LinearPhysics`` (exact ``A`` and ``A_adjoint``).

    Every deepinv algorithm that takes a linear physics (its linear solvers, ``A_dagger``,
    ``prox_l2``, the ``optim`` iterations, unrolled networks) then runs on our operators, e.g.
    the exact-adjoint sparse ray transform that deepinv's rotation-based tomography lacks.

    Args:
        operator: a real :class:`LinearOperator` (complex-range operators such as
            ``MaskedFourier`` are refused: deepinv stores k-space as two real channels).
        sigma: Gaussian noise of standard deviation ``sigma`` (deepinv's ``GaussianNoise``).
        noise_model: any deepinv noise model instead (``sigma`` and ``noise_model`` exclude each
            other; neither: no noise).

    Returns:
        A ``deepinv.physics.LinearPhysics``; ``physics(x)`` is ``noise(A x)``.

    Raises:
        InputError: a non-operator, a complex-range operator, a bad ``sigma``, or both noise
            arguments.
        MissingExtraError: deepinv is not installed.
    """
    if not isinstance(operator, LinearOperator):
        raise InputError(f"operator: expected a LinearOperator, got {type(operator).__name__}")
    if operator.complex_range or operator.complex_domain:
        raise InputError(
            f"operator: {type(operator).__name__} has a complex domain or range; deepinv's linear "
            "physics are real (its MRI stores k-space as two real channels)"
        )
    if sigma is not None and noise_model is not None:
        raise InputError("sigma, noise_model: give one of them, not both")
    dinv = require_extra("deepinv", extra="deepinv", package="invprob-core")
    if sigma is not None:
        if (
            isinstance(sigma, bool)
            or not isinstance(sigma, int | float)
            or not (math.isfinite(sigma) and sigma >= 0)
        ):
            raise InputError(f"sigma: expected a finite number >= 0, got {sigma!r}")
        noise_model = dinv.physics.GaussianNoise(sigma=float(sigma))
    if noise_model is None:
        noise_model = dinv.physics.ZeroNoise()
    return _physics_class()(operator, noise_model)


class DeepinvOperator(LinearOperator):
    """A deepinv linear physics as our :class:`LinearOperator` (see :func:`from_deepinv`).

    Shapes:
        ``x`` ``(..., *in_shape)`` -> ``(..., *out_shape)``: the leading dimensions are flattened
        into deepinv's batch dimension and restored.
    """

    def __init__(self, physics: Any, in_shape: Shape, out_shape: Shape) -> None:
        super().__init__(in_shape, out_shape)
        self.physics = physics

    def _min_ndim(self) -> int:
        return len(self.in_shape or ())

    def _call(self, fn: Any, t: torch.Tensor, shape: Shape) -> torch.Tensor:
        lead = t.shape[: t.ndim - len(shape)]
        out = fn(t.reshape(-1, *shape))
        return out.reshape(*lead, *out.shape[1:])

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        assert self.in_shape is not None
        return self._call(self.physics.A, x, self.in_shape)

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        assert self.out_shape is not None
        return self._call(self.physics.A_adjoint, y, self.out_shape)


def from_deepinv(
    physics: Any,
    in_shape: Shape,
    *,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> DeepinvOperator:
    """A deepinv ``LinearPhysics`` as our :class:`LinearOperator` (noise-free: ``A`` and
    ``A_adjoint`` only).

    Our solvers, norm estimates and adjoint test then run on any deepinv operator.

    Args:
        physics: a ``deepinv.physics.LinearPhysics`` (it must have ``A_adjoint``).
        in_shape: one sample's shape as deepinv holds it, ``(C, H, W)``; inputs may carry any
            leading dimensions.
        dtype: dtype of the probe that sets ``out_shape`` (match the physics' own dtype).
        device: device of that probe.

    Returns:
        A :class:`LinearOperator` with ``in_shape`` and the physics' output shape.

    Raises:
        InputError: ``physics`` is not a linear physics, ``in_shape`` is not positive integers,
            or the physics fails on a zero input of that shape (the cause is named).
    """
    if not callable(getattr(physics, "A", None)) or not callable(
        getattr(physics, "A_adjoint", None)
    ):
        raise InputError(
            f"physics: expected a deepinv LinearPhysics (with A and A_adjoint), got "
            f"{type(physics).__name__}"
        )
    try:
        shape = tuple(int(s) for s in in_shape)
    except (TypeError, ValueError):
        raise InputError(
            f"in_shape: expected a tuple of positive integers, got {in_shape!r}"
        ) from None
    if not shape or any(s < 1 for s in shape):
        raise InputError(f"in_shape: expected a tuple of positive integers, got {in_shape!r}")
    try:
        with torch.no_grad():
            probe = physics.A(torch.zeros((1, *shape), dtype=dtype, device=device))
    except Exception as err:  # any failure of the user's physics is reported
        raise InputError(
            f"physics: A fails on an input of shape (1, {', '.join(map(str, shape))}): "
            f"{type(err).__name__}: {err}"
        ) from err
    return DeepinvOperator(physics, shape, tuple(probe.shape[1:]))
