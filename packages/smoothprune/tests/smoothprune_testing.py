"""Test helpers: fake CIFAR-10 python batches in the real pickle format (Python 2 strings as
keys), and the modules a fresh interpreter holds after ``import smoothprune, smoothprune.cli``."""

import functools
import json
import pickle
import subprocess
import sys
from typing import ClassVar

import numpy as np


class _Py2Str(bytes):
    """Pickled like a Python 2 ``str``: ``bytes`` under encoding='bytes', ``str`` under latin1."""


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def _save_py2(self, obj):
        self.write(pickle.BINSTRING + len(obj).to_bytes(4, "little") + bytes(obj))

    dispatch[_Py2Str] = _save_py2


def _write_batch(path, n, seed, extra=None):
    rng = np.random.default_rng(seed)
    entry = {
        _Py2Str(b"data"): rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        _Py2Str(b"labels"): [int(v) for v in rng.integers(0, 10, n)],
    }
    if extra is not None:
        entry[_Py2Str(b"evil")] = extra
    with open(path, "wb") as f:
        _Py2Pickler(f, protocol=2).dump(entry)


def _fake_cifar(root, n=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        _write_batch(folder / name, n, i)
    with open(folder / "batches.meta", "wb") as f:
        _Py2Pickler(f, protocol=2).dump(
            {_Py2Str(b"label_names"): [_Py2Str(b"c%d" % i) for i in range(10)]}
        )
    return folder


@functools.cache
def modules_after_import() -> frozenset[str]:
    """``sys.modules`` of a fresh interpreter after ``import smoothprune, smoothprune.cli``.

    One subprocess per test session (starting torch is the cost), shared by the tests that check
    what importing the package loads.
    """
    code = "import json, sys, smoothprune, smoothprune.cli; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return frozenset(json.loads(out.stdout))
