"""CIFAR-10 from the python batches a user already has on disk; nothing is ever downloaded.

``root/cifar-10-batches-py/`` (as unpacked from the official ``cifar-10-python.tar.gz``) holds
``data_batch_1`` ... ``data_batch_5`` and ``test_batch``: pickles of a dict with ``data``
(``N x 3072`` uint8, channel-major) and ``labels``. They are read with an allow-list unpickler
that resolves only the numpy array constructors such files reference (a pickle that names any
other global, ``os.system`` say, is refused), and by default each file's MD5 is checked against
the official digests (those torchvision's ``CIFAR10`` checks). ``backend="torchvision"`` calls
``torchvision.datasets.CIFAR10(root, train, download=False)`` instead.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pickle
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sciml_core import InputError, read_user_file, require_extra

__all__ = ["CIFAR_BACKENDS", "CIFAR_MD5", "CifarBackend", "load_cifar10"]

CifarBackend = Literal["native", "torchvision"]
CIFAR_BACKENDS: tuple[CifarBackend, ...] = typing.get_args(CifarBackend)

CIFAR_MD5: dict[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
"""The official MD5 of each batch file (as published with the data set)."""

_FOLDER = "cifar-10-batches-py"
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(
                f"refused global {module}.{name} (a CIFAR-10 batch holds numpy arrays only)"
            )
        if module.startswith("numpy.core"):  # numpy >= 2 names it numpy._core
            try:
                return getattr(importlib.import_module("numpy._core.multiarray"), name)
            except ImportError:  # pragma: no cover - numpy 1.x
                pass
        if module == "numpy._core.multiarray" and not hasattr(np, "_core"):  # pragma: no cover
            module = "numpy.core.multiarray"
        return getattr(importlib.import_module(module), name)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _decode_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open("rb") as f:
        entry = _AllowListUnpickler(f, encoding="bytes").load()
    if not isinstance(entry, dict):
        raise ValueError(f"expected a dict, found {type(entry).__name__}")
    entry = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}
    labels_key = "labels" if "labels" in entry else "fine_labels"
    if "data" not in entry or labels_key not in entry:
        raise ValueError(f"expected keys 'data' and 'labels', found {sorted(entry)}")
    data = np.asarray(entry["data"])
    labels = np.asarray(entry[labels_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"data must be uint8 of shape (N, 3072); got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or (
        labels.size and not 0 <= labels.min() <= labels.max() <= 9
    ):
        raise ValueError(f"labels must be {data.shape[0]} integers in [0, 9]")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def _folder(root: Path) -> Path:
    if (root / _FOLDER).is_dir():
        return root / _FOLDER
    if (root / "test_batch").exists():
        return root
    raise InputError(
        f"cifar10: no '{_FOLDER}' folder under '{root}' (unpack the official "
        "cifar-10-python.tar.gz there; nothing is downloaded)"
    )


def load_cifar10(
    root: str | os.PathLike[str],
    *,
    train: bool = True,
    verify: bool = True,
    backend: CifarBackend = "native",
) -> tuple[np.ndarray, np.ndarray]:
    """The CIFAR-10 training (or test) split from a folder on disk.

    Args:
        root: The folder holding ``cifar-10-batches-py/`` (or that folder itself).
        train: The five training batches (50 000 images) or the test batch (10 000).
        verify: Check each file's MD5 against :data:`CIFAR_MD5` (``"native"`` only;
            torchvision always checks).
        backend: ``"native"`` or ``"torchvision"`` (``[vision]`` extra).

    Returns:
        Images ``(N, 32, 32, 3)`` uint8 and labels ``(N,)`` int64.

    Raises:
        InputError: the folder or a file is missing, a file fails the MD5 check or cannot be
            read (a pickle naming a global other than numpy's array constructors is refused).
    """
    if backend not in CIFAR_BACKENDS:
        raise InputError(f"backend must be one of {CIFAR_BACKENDS}; got {backend!r}")
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"cifar10: '{base}' is not a folder")
    if backend == "torchvision":
        datasets = require_extra("torchvision.datasets", extra="vision", package="smoothprune")
        try:
            ds = datasets.CIFAR10(str(base), train=train, download=False)
        except RuntimeError as err:
            raise InputError(
                f"cifar10: torchvision's CIFAR10 refused '{base}' ({err}); it needs every batch "
                "file with its official MD5 (the MD5 check failed or a file is missing)"
            ) from None
        return np.asarray(ds.data, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64)
    folder = _folder(base)
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    images, labels = [], []
    for name in names:
        path = folder / name
        if verify and path.is_file():
            got = _md5(path)
            if got != CIFAR_MD5[name]:
                raise InputError(
                    f"cifar10: '{path}' fails the MD5 check (MD5 {got}, the official file has "
                    f"{CIFAR_MD5[name]}): a damaged or different file; pass verify=False "
                    "(--no-verify) to read it anyway"
                )
        x, y = read_user_file(
            path, argument="cifar10", decode=_decode_batch, what="a CIFAR-10 batch"
        )
        images.append(x)
        labels.append(y)
    return np.concatenate(images), np.concatenate(labels)
