"""The command line end to end (in a subprocess: torch is never imported) and the file readers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import potcontrast
from potcontrast import read_image, read_labels, read_masks
from potcontrast.cli import main

RUN = (
    "import sys\n"
    "from potcontrast.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "assert 'torch' not in sys.modules, 'torch was imported'\n"
    "sys.exit(rc)\n"
)


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", RUN, *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def _scene(seed=0):
    rng = np.random.default_rng(seed)
    labels = np.zeros((40, 50), dtype=np.uint8)
    labels[5:15, 5:20], labels[20:30, 10:40], labels[32:38, 2:48] = 1, 2, 3
    img = rng.integers(0, 1000, (40, 50, 3)).astype(np.uint16)
    img[labels == 2] += np.array([300, 2000, 20000], dtype=np.uint16)
    return img, labels


def test_cli_npc_end_to_end(tmp_path):
    img, labels = _scene()
    np.save(tmp_path / "stack.npy", img)
    np.save(tmp_path / "labels.npy", labels)
    expected = potcontrast.npc(img, labels, bins=16, range=(0, 65536))
    base = ["npc", tmp_path / "stack.npy", "--labels", tmp_path / "labels.npy", "--bins", "16"]
    done = _cli(*base, "--range", "0,65536")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["band", "npc", "pc"]
    assert len(lines) == 1 + 3 + 1 and lines[-1].startswith("best band: 2")
    got = [float(line.split("\t")[1]) for line in lines[1:4]]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    js = _cli(*base, "--range", "0,65536", "--json")
    assert json.loads(js.stdout)["npc"] == pytest.approx(expected.tolist(), abs=1e-15)
    out = tmp_path / "res.json"
    assert _cli(*base, "--range", "0,65536", "-o", out).returncode == 0
    assert json.loads(out.read_text())["npc"] == pytest.approx(expected.tolist(), abs=1e-15)
    again = _cli(*base, "-o", out)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    csv_out = tmp_path / "res.csv"
    assert _cli(*base, "-o", csv_out, "--null", "permutation", "--n-perm", "20").returncode == 0
    assert csv_out.read_text().splitlines()[0].endswith("null_mean,p_value")
    meas = _cli(*base, "--range", "0,65536", "--measures", "npc,fisher,jm", "--json")
    payload = json.loads(meas.stdout)
    assert payload["fisher"] == pytest.approx(
        potcontrast.fisher_ratio(img, labels, bins=16, range=(0, 65536)).tolist(), rel=1e-12
    )
    assert len(payload["jm"]) == 3
    uniq = _cli(
        "npc",
        tmp_path / "stack.npy",
        "--labels",
        tmp_path / "labels.npy",
        "--bins",
        "unique",
        "--json",
    )
    with pytest.warns(potcontrast.SparseBinsWarning):  # ~one bin per labelled pixel
        expected_unique = potcontrast.npc(img, labels, bins="unique")
    assert json.loads(uniq.stdout)["npc"] == pytest.approx(expected_unique.tolist(), abs=1e-15)
    cmap = tmp_path / "cmap.npy"
    assert _cli(*base, "--range", "0,65536", "--class-map", cmap).returncode == 0
    res = potcontrast.analyze(img, labels, bins=16, range=(0, 65536))
    np.testing.assert_array_equal(np.load(cmap), res.class_map(img))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--range", "0,10"], "outside the range"),
        (["--range", "a,b"], "--range must be"),
        (["--bins", "x"], "--bins must be"),
        (["--bins", "0"], "bins must be >= 1"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, args, needle):
    img, labels = _scene(1)
    np.save(tmp_path / "stack.npy", img)
    np.save(tmp_path / "labels.npy", labels)
    rc = main(["npc", str(tmp_path / "stack.npy"), "--labels", str(tmp_path / "labels.npy"), *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    rc = main(["npc", str(tmp_path / "nope.npy"), "--labels", str(tmp_path / "labels.npy")])
    assert rc == 2 and "nope.npy" in capsys.readouterr().err


def test_sixteen_bit_files_are_not_saturated(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    tifffile = pytest.importorskip("tifffile")
    img, labels = _scene(2)
    band = img[..., 2]
    assert band.max() > 255
    pil.fromarray(band).save(tmp_path / "band.png")
    tifffile.imwrite(tmp_path / "band.tif", band)
    tifffile.imwrite(tmp_path / "stack.tif", np.moveaxis(img, 2, 0), photometric="minisblack")
    pil.fromarray(labels).save(tmp_path / "labels.png")
    for name in ("band.png", "band.tif"):
        back = read_image(tmp_path / name)
        assert back.dtype == np.uint16
        np.testing.assert_array_equal(back, band)
    np.testing.assert_array_equal(read_image(tmp_path / "stack.tif"), img)
    np.testing.assert_array_equal(read_labels(tmp_path / "labels.png"), labels)
    expected = potcontrast.npc(band, labels, bins=16, range=(0, 65536))
    done = _cli(
        "npc",
        tmp_path / "band.png",
        "--labels",
        tmp_path / "labels.png",
        "--bins",
        "16",
        "--range",
        "0,65536",
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.splitlines()[1].split("\t")[1]) == pytest.approx(expected, abs=1e-6)
    # three single-band files are the bands of one stack
    for b in range(3):
        pil.fromarray(img[..., b]).save(tmp_path / f"b{b}.png")
    files = [tmp_path / f"b{b}.png" for b in range(3)]
    done = _cli("npc", *files, "--labels", tmp_path / "labels.png", "--bins", "16", "--json")
    assert json.loads(done.stdout)["npc"] == pytest.approx(
        potcontrast.npc(img, labels, bins=16).tolist(), abs=1e-15
    )


def test_mask_files_and_inversion(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    _, labels = _scene(3)
    for k in (1, 2):
        pil.fromarray(np.where(labels == k, 255, 0).astype(np.uint8)).save(tmp_path / f"m{k}.png")
        pil.fromarray(np.where(labels == k, 0, 255).astype(np.uint8)).save(tmp_path / f"i{k}.png")
    masks = read_masks([tmp_path / "m1.png", tmp_path / "m2.png"])
    np.testing.assert_array_equal(masks, np.stack([labels == 1, labels == 2]))
    inverted = read_masks([tmp_path / "i1.png", tmp_path / "i2.png"], invert=True)
    np.testing.assert_array_equal(inverted, masks)


def test_rgb_files_are_three_bands_and_gray_pil_matches_pillow(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(4)
    rgba = rng.integers(0, 256, (20, 30, 4)).astype(np.uint8)
    pil.fromarray(rgba).save(tmp_path / "rgba.png")
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        back = read_image(tmp_path / "rgba.png")
    np.testing.assert_array_equal(back, rgba[..., :3])
    pil.fromarray(rgba[..., :3]).save(tmp_path / "rgb.png")
    gray = read_image(tmp_path / "rgb.png", gray="pil")
    with pil.open(tmp_path / "rgb.png") as im:
        np.testing.assert_array_equal(gray, np.asarray(im.convert("L")))
    with pytest.raises(ValueError, match="gray must be"):
        read_image(tmp_path / "rgb.png", gray="luma")


def test_class_map_png_is_grey_rescaled_with_transparent_out_of_range(tmp_path, capsys):
    pil = pytest.importorskip("PIL.Image")
    img, labels = _scene(5)
    band = img[..., 0]
    np.save(tmp_path / "band.npy", band)
    np.save(tmp_path / "labels.npy", labels)
    out = tmp_path / "map.png"
    args = ["npc", str(tmp_path / "band.npy"), "--labels", str(tmp_path / "labels.npy")]
    opts = ["--bins", "8", "--range", "0,1000", "--out-of-range", "drop", "--class-map", str(out)]
    assert main([*args, *opts]) == 0
    # the drop is reported on stderr, one line per warning
    err = capsys.readouterr().err.strip().splitlines()
    assert any(
        line.startswith("potcontrast: warning: RuntimeWarning: out_of_range='drop'") for line in err
    )
    assert all(line.startswith("potcontrast: warning: ") for line in err)
    with pil.open(out) as im:
        assert im.mode == "LA"
        grey, alpha = np.asarray(im)[..., 0], np.asarray(im)[..., 1]
    inside = band <= 1000
    assert not inside.all()
    np.testing.assert_array_equal(alpha, np.where(inside, 255, 0))
    assert set(np.unique(grey[inside]).tolist()) <= {0, 128, 255}  # 3 classes: 0, 127.5, 255


@pytest.mark.parametrize(
    ("opts", "needle"),
    [
        (["--class-map", "{d}/map.txt"], "--class-map must end in .npy or .png"),
        (["--class-map", "{d}/map.png"], "--class-map .png shows one band"),
        (["--class-map", "{d}/old.npy"], "exists; pass --overwrite"),
        (["--class-map", "{d}/nope/map.npy"], "does not exist"),
        (["--measures", "npc,snr"], "--measures: unknown ['snr']"),
        (["--null", "permutation", "--n-perm", "0"], "--n-perm must be >= 1"),
    ],
)
def test_cli_refuses_bad_flags_before_writing_anything(tmp_path, capsys, opts, needle):
    img, labels = _scene(6)
    np.save(tmp_path / "stack.npy", img)
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "old.npy", np.zeros(3))
    out = tmp_path / "res.json"
    args = ["npc", str(tmp_path / "stack.npy"), "--labels", str(tmp_path / "labels.npy")]
    opts = [o.format(d=tmp_path) for o in opts]
    rc = main([*args, "--bins", "8", "--range", "0,65536", "-o", str(out), *opts])
    captured = capsys.readouterr()
    assert rc == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and needle in captured.err
    assert not out.exists()  # nothing half-done: -o was not written
    np.testing.assert_array_equal(np.load(tmp_path / "old.npy"), np.zeros(3))


def test_cli_unreadable_files_exit_2_naming_the_file(tmp_path, capsys):
    pytest.importorskip("PIL.Image")
    pytest.importorskip("tifffile")
    img, labels = _scene(7)
    np.save(tmp_path / "stack.npy", img)
    np.save(tmp_path / "labels.npy", labels)
    for name in ("bad.png", "bad.tif"):
        (tmp_path / name).write_text("not an image")
    bad = tmp_path / "bad.png"
    cases = [
        ["npc", str(tmp_path / "stack.npy"), "--masks", str(bad), str(bad)],
        ["npc", str(tmp_path / "bad.tif"), "--labels", str(tmp_path / "labels.npy")],
        ["npc", str(bad), "--labels", str(tmp_path / "labels.npy")],
    ]
    for argv in cases:
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2, err
        assert err.count("\n") == 1 and "bad." in err and "Traceback" not in err


def test_cli_band_axis_with_several_files_is_refused(tmp_path, capsys):
    img, labels = _scene(8)
    for b in range(3):
        np.save(tmp_path / f"b{b}.npy", img[..., b])
    np.save(tmp_path / "labels.npy", labels)
    files = [str(tmp_path / f"b{b}.npy") for b in range(3)]
    rc = main(["npc", *files, "--labels", str(tmp_path / "labels.npy"), "--band-axis", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--band-axis 0 applies to one stack file" in err
