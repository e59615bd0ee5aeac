"""Device and dtype resolution for torch code (torch is imported only when these are called)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import InputError, require_extra

if TYPE_CHECKING:
    import torch

__all__ = ["resolve_device", "resolve_dtype"]

_DTYPE_NAMES = {
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
    "float": "float32",
    "single": "float32",
    "float64": "float64",
    "double": "float64",
    "complex64": "complex64",
    "cfloat": "complex64",
    "complex128": "complex128",
    "cdouble": "complex128",
}


def _torch() -> Any:
    return require_extra("torch", extra="torch", package="sciml-core")


def resolve_device(device: Any = "auto") -> torch.device:
    """Turn a device specification into a ``torch.device``.

    ``"auto"`` (or ``None``) picks ``cuda`` when torch sees a CUDA device, else ``cpu``. Any other
    string (case-insensitive) or ``torch.device`` is parsed by torch; asking for CUDA on a machine
    without it is an error rather than a silent fall-back to the CPU.

    Args:
        device: ``"auto"``, ``None``, a device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``) or a
            ``torch.device``.

    Returns:
        The ``torch.device``.

    Raises:
        MissingExtraError: torch is not installed.
        InputError: the string is not a device, or CUDA is asked for and not available.

    Examples:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("gpu")
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: device must be 'auto', 'cpu', 'cuda' or 'cuda:N' (any torch device); got 'gpu'
    """  # noqa: E501
    torch = _torch()
    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device.strip().lower())
        except RuntimeError:
            raise InputError(
                "device must be 'auto', 'cpu', 'cuda' or 'cuda:N' (any torch device); "
                f"got {device!r}"
            ) from None
    else:
        raise InputError(
            f"device must be a string or torch.device; got {type(device).__name__} {device!r}"
        )
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {str(dev)!r} was asked for but CUDA is not available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(
                f"device {str(dev)!r} was asked for but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist"
            )
    return dev


def resolve_dtype(dtype: Any, default: Any = "float32") -> torch.dtype:
    """Turn a dtype specification into a floating or complex ``torch.dtype``.

    Accepts torch dtypes, numpy dtypes and the names ``float16``/``half``, ``bfloat16``,
    ``float32``/``float``/``single``, ``float64``/``double``, ``complex64``/``cfloat`` and
    ``complex128``/``cdouble`` (case-insensitive, optional ``torch.`` prefix).

    Args:
        dtype: The specification; ``None`` means ``default``.
        default: Used when ``dtype`` is ``None``.

    Returns:
        The ``torch.dtype``.

    Raises:
        MissingExtraError: torch is not installed.
        InputError: not a floating or complex dtype.

    Examples:
        >>> resolve_dtype("double")
        torch.float64
        >>> resolve_dtype(None)
        torch.float32
    """
    torch = _torch()
    spec = default if dtype is None else dtype
    if isinstance(spec, torch.dtype):
        if not (spec.is_floating_point or spec.is_complex):
            raise InputError(f"dtype must be a floating or complex dtype; got {spec}")
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower().removeprefix("torch.")
    else:
        try:
            key = np.dtype(spec).name
        except TypeError:
            key = None
    if key not in _DTYPE_NAMES:
        raise InputError(
            f"dtype must be one of {sorted(_DTYPE_NAMES)} or a torch floating dtype; got {spec!r}"
        )
    return getattr(torch, _DTYPE_NAMES[key])
