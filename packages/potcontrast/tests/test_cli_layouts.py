"""``potcontrast npc`` reads an image stack in its file's own layout; ``--band-axis`` names the band
axis among the file's axes, and a layout that does not fit is refused with one line."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import potcontrast
from potcontrast.cli import main

tifffile = pytest.importorskip("tifffile")


def _scene(bands=4, seed=0):
    """A 16-bit (B, H, W) stack with values above 255 and its label image (3 classes)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((40, 50), dtype=np.uint8)
    labels[5:15, 5:20], labels[20:30, 10:40], labels[32:38, 2:48] = 1, 2, 3
    stack = rng.integers(0, 1000, (bands, 40, 50)).astype(np.uint16)
    stack[:, labels == 2] += (np.arange(1, bands + 1) * 3000).astype(np.uint16)[:, None]
    return stack, labels


def _npc_json(capsys, argv):
    rc = main(["npc", *map(str, argv), "--bins", "16", "--range", "0,65536", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return json.loads(captured.out)["npc"]


@pytest.mark.parametrize("flag", [[], ["--band-axis", "0"], ["--band-axis", "-3"]])
def test_multipage_tiff_bands_are_its_pages(tmp_path, capsys, flag):
    stack, labels = _scene()
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")  # axes QYX
    np.save(tmp_path / "labels.npy", labels)
    got = _npc_json(capsys, [tmp_path / "stack.tif", "--labels", tmp_path / "labels.npy", *flag])
    expected = potcontrast.npc(stack, labels, bins=16, range=(0, 65536), band_axis=0)
    assert got == pytest.approx(expected.tolist(), abs=1e-15)


@pytest.mark.parametrize("axis", ["2", "-1"])
def test_hwb_tiff_is_read_with_the_band_axis_counted_in_the_file(tmp_path, capsys, axis):
    stack, labels = _scene(bands=5)
    hwb = np.ascontiguousarray(np.moveaxis(stack, 0, -1))
    tifffile.imwrite(tmp_path / "hwb.tif", hwb)  # 5 samples: tifffile stores 40 pages of 50 x 5
    np.save(tmp_path / "labels.npy", labels)
    argv = [tmp_path / "hwb.tif", "--labels", tmp_path / "labels.npy", "--band-axis", axis]
    expected = potcontrast.npc(hwb, labels, bins=16, range=(0, 65536))
    assert _npc_json(capsys, argv) == pytest.approx(expected.tolist(), abs=1e-15)


def test_contiguous_samples_tiff_bands_are_its_samples(tmp_path, capsys):
    stack, labels = _scene(bands=5)
    hwb = np.ascontiguousarray(np.moveaxis(stack, 0, -1))
    tifffile.imwrite(tmp_path / "hwb.tif", hwb, photometric="minisblack", planarconfig="contig")
    np.save(tmp_path / "labels.npy", labels)
    expected = potcontrast.npc(hwb, labels, bins=16, range=(0, 65536))
    got = _npc_json(capsys, [tmp_path / "hwb.tif", "--labels", tmp_path / "labels.npy"])
    assert got == pytest.approx(expected.tolist(), abs=1e-15)


def test_class_map_keeps_the_layout_of_the_file(tmp_path, capsys):
    stack, labels = _scene()
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    np.save(tmp_path / "labels.npy", labels)
    out = tmp_path / "cmap.npy"
    argv = ["npc", tmp_path / "stack.tif", "--labels", tmp_path / "labels.npy", "--bins", "16"]
    assert main([*map(str, argv), "--class-map", str(out)]) == 0, capsys.readouterr().err
    res = potcontrast.analyze(stack, labels, bins=16, band_axis=0)
    np.testing.assert_array_equal(np.load(out), res.class_map(stack, band_axis=0))


def _hwb_file(tmp_path):
    stack, labels = _scene(bands=5)
    tifffile.imwrite(tmp_path / "hwb.tif", np.ascontiguousarray(np.moveaxis(stack, 0, -1)))
    np.save(tmp_path / "labels.npy", labels)
    return tmp_path / "hwb.tif"


def _png_file(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    stack, labels = _scene()
    pil.fromarray(stack[0]).save(tmp_path / "band.png")
    np.save(tmp_path / "labels.npy", labels)
    return tmp_path / "band.png"


@pytest.mark.parametrize(
    ("make", "flag", "pattern"),
    [
        # 40 pages of 50 x 5 read as 40 bands: the labels do not fit, and the line says why
        (
            _hwb_file,
            [],
            r"--labels is 40 x 50 pixels, but IMAGE .*hwb\.tif' \(axes QYX, shape "
            r"\(40, 50, 5\)\) with its bands on axis 0 is 50 x 5; .*--band-axis",
        ),
        (
            _hwb_file,
            ["--band-axis", "1"],
            r"--labels is 40 x 50 pixels, but .* on axis 1 is 40 x 5",
        ),
        (
            _hwb_file,
            ["--band-axis", "3"],
            r"--band-axis 3: IMAGE .*hwb\.tif' has 3 axes \(axes QYX",
        ),
        (_png_file, ["--band-axis", "0"], r"--band-axis 0: IMAGE .*band\.png' is one band"),
    ],
    ids=["hwb-default", "hwb-axis-1", "axis-out-of-range", "axis-for-one-band"],
)
def test_a_layout_that_does_not_fit_is_refused_with_one_line(tmp_path, capsys, make, flag, pattern):
    image = make(tmp_path)
    out = tmp_path / "res.json"
    argv = ["npc", str(image), "--labels", str(tmp_path / "labels.npy"), "-o", str(out), *flag]
    rc = main(argv)
    captured = capsys.readouterr()
    assert rc == 2 and captured.out == ""
    assert captured.err.count("\n") == 1
    assert re.search(pattern, captured.err), captured.err
    assert not out.exists()
