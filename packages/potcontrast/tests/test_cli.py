"""The command line end to end (in a subprocess: torch is never imported) and the file readers."""

from __future__ import annotations

import json
import re
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


@pytest.fixture
def scene(tmp_path):
    """A 3-band uint16 stack and its label image, saved as .npy; the npc arguments for them."""
    img, labels = _scene()
    np.save(tmp_path / "stack.npy", img)
    np.save(tmp_path / "labels.npy", labels)
    args = ["npc", tmp_path / "stack.npy", "--labels", tmp_path / "labels.npy", "--bins", "16"]
    return img, labels, args


RANGE = ("--range", "0,65536")


def _expected(img, labels):
    return potcontrast.npc(img, labels, bins=16, range=(0, 65536))


def test_cli_npc_end_to_end(scene):
    img, labels, args = scene
    done = _cli(*args, *RANGE)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["band", "npc", "pc"]
    assert len(lines) == 1 + 3 + 1 and lines[-1].startswith("best band: 2")
    got = [float(line.split("\t")[1]) for line in lines[1:4]]
    np.testing.assert_allclose(got, _expected(img, labels), atol=1e-6)


def test_json_flag_prints_the_result_dict(scene):
    img, labels, args = scene
    done = _cli(*args, *RANGE, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["npc"] == pytest.approx(
        _expected(img, labels).tolist(), abs=1e-15
    )


def test_output_flag_writes_the_json_result(scene, tmp_path):
    img, labels, args = scene
    out = tmp_path / "res.json"
    done = _cli(*args, *RANGE, "-o", out)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["npc"] == pytest.approx(
        _expected(img, labels).tolist(), abs=1e-15
    )


def test_output_flag_refuses_to_overwrite_without_overwrite(scene, tmp_path):
    _, _, args = scene
    out = tmp_path / "res.json"
    out.write_text("{}")
    done = _cli(*args, "-o", out)
    assert done.returncode == 2 and "--overwrite" in done.stderr
    assert out.read_text() == "{}"


def test_csv_output_carries_the_null_columns(scene, tmp_path):
    _, _, args = scene
    out = tmp_path / "res.csv"
    done = _cli(*args, "-o", out, "--null", "permutation", "--n-perm", "20")
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0].endswith("null_mean,p_value")


def test_measures_add_the_companion_values(scene):
    img, labels, args = scene
    done = _cli(*args, *RANGE, "--measures", "npc,fisher,jm", "--json")
    payload = json.loads(done.stdout)
    assert payload["fisher"] == pytest.approx(
        potcontrast.fisher_ratio(img, labels, bins=16, range=(0, 65536)).tolist(), rel=1e-12
    )
    assert len(payload["jm"]) == 3


def test_unique_bins_give_the_library_value(scene):
    img, labels, args = scene
    done = _cli(*args[:4], "--bins", "unique", "--json")
    with pytest.warns(potcontrast.SparseBinsWarning):  # ~one bin per labelled pixel
        expected = potcontrast.npc(img, labels, bins="unique")
    assert json.loads(done.stdout)["npc"] == pytest.approx(expected.tolist(), abs=1e-15)


def test_class_map_npy_is_the_library_class_map(scene, tmp_path):
    img, labels, args = scene
    cmap = tmp_path / "cmap.npy"
    done = _cli(*args, *RANGE, "--class-map", cmap)
    assert done.returncode == 0, done.stderr
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


def test_missing_image_file_exits_2_naming_it(tmp_path, capsys):
    _, labels = _scene(1)
    np.save(tmp_path / "labels.npy", labels)
    rc = main(["npc", str(tmp_path / "nope.npy"), "--labels", str(tmp_path / "labels.npy")])
    assert rc == 2 and "nope.npy" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["band.png", "band.tif"])
def test_sixteen_bit_files_are_not_saturated(tmp_path, name):
    pil = pytest.importorskip("PIL.Image")
    tifffile = pytest.importorskip("tifffile")
    band = _scene(2)[0][..., 2]
    assert band.max() > 255
    if name.endswith(".png"):
        pil.fromarray(band).save(tmp_path / name)
    else:
        tifffile.imwrite(tmp_path / name, band)
    back = read_image(tmp_path / name)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, band)


def test_multipage_tiff_reads_as_a_band_last_stack(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    img, _ = _scene(2)
    tifffile.imwrite(tmp_path / "stack.tif", np.moveaxis(img, 2, 0), photometric="minisblack")
    np.testing.assert_array_equal(read_image(tmp_path / "stack.tif"), img)


def test_label_png_reads_back_exactly(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    _, labels = _scene(2)
    pil.fromarray(labels).save(tmp_path / "labels.png")
    np.testing.assert_array_equal(read_labels(tmp_path / "labels.png"), labels)


def test_sixteen_bit_files_are_not_saturated_through_the_cli(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    img, labels = _scene(2)
    band = img[..., 2]
    pil.fromarray(band).save(tmp_path / "band.png")
    pil.fromarray(labels).save(tmp_path / "labels.png")
    expected = potcontrast.npc(band, labels, bins=16, range=(0, 65536))
    done = _cli(
        "npc", tmp_path / "band.png", "--labels", tmp_path / "labels.png", "--bins", "16", *RANGE
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.splitlines()[1].split("\t")[1]) == pytest.approx(expected, abs=1e-6)


def test_several_image_files_are_the_bands_of_one_stack(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    img, labels = _scene(2)
    pil.fromarray(labels).save(tmp_path / "labels.png")
    for b in range(3):
        pil.fromarray(img[..., b]).save(tmp_path / f"b{b}.png")
    files = [tmp_path / f"b{b}.png" for b in range(3)]
    done = _cli("npc", *files, "--labels", tmp_path / "labels.png", "--bins", "16", "--json")
    assert json.loads(done.stdout)["npc"] == pytest.approx(
        potcontrast.npc(img, labels, bins=16).tolist(), abs=1e-15
    )


@pytest.mark.parametrize("invert", [False, True])
def test_mask_files_select_their_nonzero_or_inverted_pixels(tmp_path, invert):
    pil = pytest.importorskip("PIL.Image")
    _, labels = _scene(3)
    for k in (1, 2):
        selected = labels != k if invert else labels == k
        pil.fromarray(np.where(selected, 255, 0).astype(np.uint8)).save(tmp_path / f"m{k}.png")
    masks = read_masks([tmp_path / "m1.png", tmp_path / "m2.png"], invert=invert)
    np.testing.assert_array_equal(masks, np.stack([labels == 1, labels == 2]))


def test_rgba_file_is_three_bands_with_the_alpha_dropped(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    rgba = np.random.default_rng(4).integers(0, 256, (20, 30, 4)).astype(np.uint8)
    pil.fromarray(rgba).save(tmp_path / "rgba.png")
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        back = read_image(tmp_path / "rgba.png")
    np.testing.assert_array_equal(back, rgba[..., :3])


def test_gray_pil_matches_pillow_luma(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    rgb = np.random.default_rng(4).integers(0, 256, (20, 30, 3)).astype(np.uint8)
    pil.fromarray(rgb).save(tmp_path / "rgb.png")
    gray = read_image(tmp_path / "rgb.png", gray="pil")
    with pil.open(tmp_path / "rgb.png") as im:
        np.testing.assert_array_equal(gray, np.asarray(im.convert("L")))


def test_gray_refuses_an_unknown_mode(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    pil.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="gray must be"):
        read_image(tmp_path / "rgb.png", gray="luma")


def _write_band_and_labels(tmp_path, seed):
    img, labels = _scene(seed)
    band = img[..., 0]
    np.save(tmp_path / "band.npy", band)
    np.save(tmp_path / "labels.npy", labels)
    return band, ["npc", str(tmp_path / "band.npy"), "--labels", str(tmp_path / "labels.npy")]


def test_warnings_print_one_line_each_on_stderr(tmp_path, capsys):
    _, args = _write_band_and_labels(tmp_path, 5)
    assert main([*args, "--bins", "8", "--range", "0,1000", "--out-of-range", "drop"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert any(
        line.startswith("potcontrast: warning: RuntimeWarning: out_of_range='drop'") for line in err
    )
    assert all(line.startswith("potcontrast: warning: ") for line in err)


def test_class_map_png_is_grey_rescaled_with_transparent_out_of_range(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    band, args = _write_band_and_labels(tmp_path, 5)
    out = tmp_path / "map.png"
    opts = ["--bins", "8", "--range", "0,1000", "--out-of-range", "drop", "--class-map", str(out)]
    assert main([*args, *opts]) == 0
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
        (["--class-map", "{d}/map.txt"], r"--class-map '.*map\.txt' must end in \.npy or \.png"),
        (["--class-map", "{d}/map.png"], r"--class-map \.png shows one band"),
        (["--class-map", "{d}/old.npy"], r"--class-map '.*old\.npy' exists; pass --overwrite"),
        (["--class-map", "{d}/nope/map.npy"], r"--class-map '.*map\.npy': its folder .* does not"),
        (["--measures", "npc,snr"], r"--measures: unknown \['snr'\]"),
        (["--null", "permutation", "--n-perm", "0"], r"--n-perm must be >= 1"),
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
    assert captured.err.count("\n") == 1 and re.search(needle, captured.err)
    assert not out.exists()  # nothing half-done: -o was not written
    np.testing.assert_array_equal(np.load(tmp_path / "old.npy"), np.zeros(3))


@pytest.mark.parametrize(
    "argv",
    [
        ["npc", "{d}/stack.npy", "--masks", "{d}/bad.png", "{d}/bad.png"],
        ["npc", "{d}/bad.tif", "--labels", "{d}/labels.npy"],
        ["npc", "{d}/bad.png", "--labels", "{d}/labels.npy"],
    ],
    ids=["mask", "tiff-image", "png-image"],
)
def test_cli_unreadable_files_exit_2_naming_the_file(tmp_path, capsys, argv):
    pytest.importorskip("PIL.Image")
    pytest.importorskip("tifffile")
    img, labels = _scene(7)
    np.save(tmp_path / "stack.npy", img)
    np.save(tmp_path / "labels.npy", labels)
    for name in ("bad.png", "bad.tif"):
        (tmp_path / name).write_text("not an image")
    rc = main([a.format(d=tmp_path) for a in argv])
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
