"""Damaged user files, for every file argument of ``potcontrast npc``: exit 2, one line on stderr
naming the argument and the file, no traceback, and no output file left behind."""

from __future__ import annotations

import io

import numpy as np
import pytest

from potcontrast.cli import main


def _npy_bytes(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _png_bytes():
    pil = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    pil.fromarray(np.arange(40 * 50, dtype=np.uint16).reshape(40, 50)).save(buf, format="PNG")
    return buf.getvalue()


def _tif_bytes():
    tifffile = pytest.importorskip("tifffile")
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.arange(2 * 40 * 50, dtype=np.uint16).reshape(2, 40, 50))
    return buf.getvalue()


DAMAGED = {
    "truncated.npy": lambda: _npy_bytes(np.zeros((40, 50), np.uint16))[:-100],
    "junk.npy": lambda: b"this is not a numpy file at all" * 10,
    "objects.npy": lambda: _npy_bytes(np.array([{"a": 1}, None], dtype=object), allow_pickle=True),
    "junk.npz": lambda: b"PK\x03\x04 not really a zip archive" * 10,
    "truncated.png": lambda: _png_bytes()[:60],
    "junk.png": lambda: b"not an image" * 20,
    "truncated.tif": lambda: _tif_bytes()[:300],
    "empty.tif": lambda: b"",
}


@pytest.fixture
def good(tmp_path):
    """A valid 3-band stack, label image and masks."""
    rng = np.random.default_rng(0)
    labels = np.zeros((40, 50), dtype=np.uint8)
    labels[5:15, 5:20], labels[20:30, 10:40] = 1, 2
    np.save(tmp_path / "stack.npy", rng.integers(0, 1000, (40, 50, 3)).astype(np.uint16))
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "m1.npy", labels == 1)
    np.save(tmp_path / "m2.npy", labels == 2)
    return tmp_path


def _argv(d, argument, bad):
    if argument == "IMAGE":
        return ["npc", bad, "--labels", f"{d}/labels.npy"]
    if argument == "--labels":
        return ["npc", f"{d}/stack.npy", "--labels", bad]
    return ["npc", f"{d}/stack.npy", "--masks", f"{d}/m1.npy", bad]


@pytest.mark.parametrize("name", DAMAGED)
@pytest.mark.parametrize("argument", ["IMAGE", "--labels", "--masks"])
def test_damaged_file_exits_2_with_one_line_naming_argument_and_file(good, capsys, argument, name):
    bad = good / name
    bad.write_bytes(DAMAGED[name]())
    out = good / "res.json"
    rc = main([*_argv(good, argument, str(bad)), "-o", str(out)])
    captured = capsys.readouterr()
    assert rc == 2, captured.err
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"potcontrast: error: {argument}")
    assert name in captured.err
    assert not out.exists()
