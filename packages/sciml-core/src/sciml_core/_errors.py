"""The two exception types of the sciml packages, and the checks that raise them."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from ._backend import is_tensor

__all__ = ["InputError", "MissingExtraError", "check_finite", "require_extra"]

T = TypeVar("T")


class InputError(ValueError):
    """Bad user input: the message names the argument, what was expected and what came.

    A ``ValueError``, so callers that already catch ``ValueError`` keep working. The command line
    prints it as one line and exits with status 2 (see :class:`sciml_core.cli.App`).

    Examples:
        >>> try:
        ...     raise InputError("data_range must be > 0; got 0.0")
        ... except ValueError as err:
        ...     print(err)
        data_range must be > 0; got 0.0
    """


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message says which extra installs it.

    Examples:
        >>> issubclass(MissingExtraError, ImportError)
        True
    """


def require_extra(module: str, *, extra: str, package: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that installs it.

    Args:
        module: Importable module name, e.g. ``"torch"`` or ``"matplotlib"``.
        extra: The extra of ``package`` that provides it, e.g. ``"torch"``.
        package: Distribution name to install, e.g. ``"sciml-core"``.

    Returns:
        The imported module.

    Raises:
        MissingExtraError: ``module`` cannot be imported; the message contains
            ``pip install '<package>[<extra>]'``.

    Examples:
        >>> require_extra("json", extra="none", package="sciml-core").__name__
        'json'
        >>> require_extra("no_such_module_xyz", extra="demo", package="sciml-core")
        Traceback (most recent call last):
        ...
        sciml_core._errors.MissingExtraError: no_such_module_xyz is needed here; install it with: pip install 'sciml-core[demo]'
    """  # noqa: E501
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtraError(
            f"{module} is needed here; install it with: pip install '{package}[{extra}]'",
            name=module,
        ) from err


def check_finite(x: T, name: str) -> T:
    """Return ``x`` unchanged if every entry is finite, else raise :class:`InputError`.

    Works on numpy arrays, array-likes and torch tensors (no copy to the host for tensors except the
    two counts in the error message).

    Args:
        x: Array, tensor, scalar or nested sequence of numbers.
        name: Argument name used in the error message.

    Returns:
        ``x`` itself.

    Raises:
        InputError: ``x`` holds NaN or infinite values (the message gives how many of each).

    Examples:
        >>> check_finite([1.0, 2.0], "x")
        [1.0, 2.0]
        >>> check_finite(np.array([1.0, np.nan, np.inf]), "image")
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: image must be finite; got 1 NaN and 1 infinite value(s) among 3 entries
    """  # noqa: E501
    arr: Any
    if is_tensor(x):
        t: Any = x
        if t.is_floating_point() or t.is_complex():
            bad = ~t.isfinite()
            if bool(bad.any()):
                n_nan = int(t.isnan().sum())
                raise InputError(
                    f"{name} must be finite; got {n_nan} NaN and {int(bad.sum()) - n_nan} "
                    f"infinite value(s) among {t.numel()} entries"
                )
        return x
    arr = np.asarray(x)
    if arr.dtype.kind in "fc":
        bad = ~np.isfinite(arr)
        if bad.any():
            n_nan = int(np.isnan(arr).sum())
            raise InputError(
                f"{name} must be finite; got {n_nan} NaN and {int(bad.sum()) - n_nan} "
                f"infinite value(s) among {arr.size} entries"
            )
    elif arr.dtype.kind not in "biu":
        raise InputError(f"{name} must be numeric; got an array of dtype {arr.dtype}")
    return x
