"""Model checkpoints: weights plus JSON config, saved atomically, refused across versions."""

from __future__ import annotations

import json
import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ._errors import InputError, require_extra
from ._io import _atomic_path
from ._readers import _refused_global, read_torch_file

__all__ = ["CHECKPOINT_FORMAT", "Checkpoint", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = 1
"""Version of the checkpoint layout written by :func:`save_checkpoint`."""

_KEYS = {"format", "package", "version", "config_json", "state_dict"}


class Checkpoint(NamedTuple):
    """A loaded checkpoint.

    Attributes:
        state_dict: The weights (tensors on ``map_location``).
        config: The JSON config saved with them (decoded).
        package: Package that wrote the checkpoint.
        version: That package's version at writing time.
    """

    state_dict: dict[str, Any]
    config: Any
    package: str
    version: str


def _torch() -> Any:
    return require_extra("torch", extra="torch", package="sciml-core")


def _major_minor(version: str) -> tuple[int, int] | None:
    m = re.match(r"^\s*v?(\d+)\.(\d+)", str(version))
    return None if m is None else (int(m.group(1)), int(m.group(2)))


def _own_major_minor(version: str) -> tuple[int, int]:
    """The calling package's ``__version__``: a malformed one is its own bug (ValueError)."""
    parsed = _major_minor(version)
    if parsed is None:
        raise ValueError(f"version must be a version like '0.1.0'; got {version!r}")
    return parsed


def save_checkpoint(
    path: str | os.PathLike[str],
    state_dict: Mapping[str, Any],
    *,
    config: Any,
    package: str,
    version: str,
    overwrite: bool = False,
) -> Path:
    """Save weights and their config to ``path`` atomically with ``torch.save``.

    The file holds ``{"format": 1, "package", "version", "config_json", "state_dict"}``; the
    config is stored as a JSON string, so loading needs no pickled Python objects
    (``weights_only=True``).

    Args:
        path: Destination file (its folder must exist).
        state_dict: ``model.state_dict()`` (a mapping of names to tensors).
        config: JSON-serialisable description of the model (sizes, options).
        package: Distribution name of the writing package.
        version: Its version (``__version__``).
        overwrite: Replace an existing file.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        MissingExtraError: torch is not installed.
        InputError: ``path`` (the user's choice) exists and ``overwrite`` is False.
        TypeError: ``state_dict`` is not a mapping (pass ``model.state_dict()``, not the model),
            it holds objects that ``torch.load(weights_only=True)`` refuses (numpy arrays, say),
            or ``config`` holds a value JSON cannot store.
        ValueError: ``config`` holds NaN or infinity, or ``version`` is not like ``"0.1.0"``.
            These are mistakes of the calling package, so they keep their traceback; nothing is
            written then.

    Examples:
        >>> import tempfile, torch
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = save_checkpoint(Path(d) / "m.pt", {"w": torch.ones(2)}, config={"width": 2},
        ...                         package="demo", version="0.1.0")
        ...     ckpt = load_checkpoint(p, package="demo", version="0.1.3")
        >>> ckpt.config, ckpt.state_dict["w"].tolist()
        ({'width': 2}, [1.0, 1.0])
    """
    torch = _torch()
    dest = Path(path)
    if dest.exists() and not overwrite:
        raise InputError(f"checkpoint {str(dest)!r} exists; pass overwrite=True to replace it")
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            "state_dict must be a mapping of names to tensors (model.state_dict()); "
            f"got {type(state_dict).__name__}"
        )
    _own_major_minor(version)
    try:
        config_json = json.dumps(config, sort_keys=True, allow_nan=False)
    except TypeError as err:
        raise TypeError(f"config must be JSON-serialisable; {err}") from None
    except ValueError as err:
        raise ValueError(f"config must be JSON-serialisable; {err}") from None
    payload = {
        "format": CHECKPOINT_FORMAT,
        "package": str(package),
        "version": str(version),
        "config_json": config_json,
        "state_dict": dict(state_dict),
    }
    with _atomic_path(dest, overwrite=overwrite) as tmp:
        torch.save(payload, tmp)
        # What load_checkpoint cannot read must not be written: weights_only=True refuses numpy
        # arrays and other pickled objects, so try it now (on the meta device: no data copied).
        try:
            torch.load(tmp, map_location="meta", weights_only=True)
        except pickle.UnpicklingError as err:
            raise TypeError(
                "state_dict must hold only tensors, numbers, strings, None and lists/dicts of "
                "them (what torch.load(weights_only=True) reads); got an object it refuses"
                f"{_refused_global(err)}"
            ) from None
    return dest


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    package: str,
    version: str,
    map_location: Any = "cpu",
    argument: str = "path",
) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`, refusing a mismatched one.

    Read with :func:`~sciml_core.read_torch_file` (``torch.load(..., weights_only=True)``: no
    arbitrary code runs; a missing, empty, truncated or foreign file is one ``InputError``). The
    checkpoint is accepted only if it was written by ``package`` with the same major.minor version
    as ``version`` (patch releases are compatible).

    Args:
        path: The checkpoint file.
        package: Distribution name expected.
        version: Version of the loading package (``__version__``).
        map_location: Where to put the tensors, as for ``torch.load``.
        argument: How the user named the file, for the messages (e.g. ``"--checkpoint"``).

    Returns:
        A :class:`Checkpoint`.

    Raises:
        MissingExtraError: torch is not installed.
        InputError: the file is missing, unreadable or not a checkpoint of this format, or
            package or major.minor differ (the message names both versions).
        ValueError: ``version`` (the caller's own) is not like ``"0.1.0"``.
    """
    own = _own_major_minor(version)
    src = Path(path)
    payload = read_torch_file(
        src, argument=argument, map_location=map_location, what="a checkpoint"
    )
    where = f"{argument}: {str(src)!r}"
    if not isinstance(payload, dict) or not set(payload) >= _KEYS:
        raise InputError(f"{where} is not a sciml checkpoint (keys {sorted(_KEYS)} expected)")
    if payload["format"] != CHECKPOINT_FORMAT:
        raise InputError(
            f"{where} has checkpoint format {payload['format']!r}; "
            f"this sciml-core reads format {CHECKPOINT_FORMAT}"
        )
    saved_pkg, saved_ver = str(payload["package"]), str(payload["version"])
    if saved_pkg != package:
        raise InputError(
            f"{argument}: checkpoint {str(src)!r} was written by {saved_pkg} {saved_ver}; "
            f"it cannot be loaded by {package} {version}"
        )
    saved = _major_minor(saved_ver)
    if saved is None:
        raise InputError(
            f"{where} is not a sciml checkpoint: its version {saved_ver!r} is not like '0.1.0'"
        )
    if saved != own:
        raise InputError(
            f"{argument}: checkpoint {str(src)!r} was written by {saved_pkg} {saved_ver}, this "
            f"is {package} {version}: major.minor versions must match"
        )
    try:
        config = json.loads(payload["config_json"])
    except (TypeError, ValueError):
        raise InputError(f"{where} is not a sciml checkpoint: its config is not JSON") from None
    if not isinstance(payload["state_dict"], Mapping):
        raise InputError(f"{where} is not a sciml checkpoint: its state_dict is not a mapping")
    return Checkpoint(
        state_dict=dict(payload["state_dict"]),
        config=config,
        package=saved_pkg,
        version=saved_ver,
    )
