import numpy as np
import pytest
import torch

import invprob_core as ip
from invprob_core.cli import main


@pytest.fixture()
def sinogram(tmp_path):
    A = ip.RayTransform(32, angles=20)
    y = ip.ellipse_sinogram(ip.shepp_logan_ellipses(), A, dtype=torch.float64).numpy()
    np.save(tmp_path / "sino.npy", y)
    return A, y


def _fbp(tmp_path, out, *extra, source="sino.npy"):
    argv = ["reconstruct", str(tmp_path / source), "--method", "fbp", "--angles", "20", *extra]
    return main([*argv, "-o", str(out)])


def test_cli_reconstruct_fbp_equals_the_library(tmp_path, sinogram):
    A, y = sinogram
    out = tmp_path / "rec.npy"
    assert _fbp(tmp_path, out) == 0
    ref = A.fbp(torch.from_numpy(y)[None, None])[0, 0].numpy()
    got = np.load(out)
    assert got.shape == (32, 32)
    assert np.max(np.abs(got - ref)) < 1e-6


def test_cli_reconstruct_writes_a_png_preview(tmp_path, sinogram):
    assert _fbp(tmp_path, tmp_path / "rec.npy") == 0
    assert (tmp_path / "rec.png").stat().st_size > 0


def _write_npz(path, y):
    np.savez(path, data=y)


def _write_tif(path, y):
    tifffile = pytest.importorskip("tifffile")  # the [io] extra
    tifffile.imwrite(path, y)


@pytest.mark.parametrize(("suffix", "write"), [(".npz", _write_npz), (".tif", _write_tif)])
def test_cli_reconstruct_reads_npz_and_tiff_like_npy(tmp_path, sinogram, suffix, write):
    _, y = sinogram
    write(tmp_path / f"sino{suffix}", y)
    assert _fbp(tmp_path, tmp_path / "rec.npy") == 0
    assert _fbp(tmp_path, tmp_path / "other.npy", source=f"sino{suffix}") == 0
    assert np.array_equal(np.load(tmp_path / "other.npy"), np.load(tmp_path / "rec.npy"))


def test_cli_reconstruct_refuses_to_overwrite_without_the_flag(tmp_path, sinogram, capsys):
    out = tmp_path / "rec.npy"
    assert _fbp(tmp_path, out) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert _fbp(tmp_path, out, "--filter", "hann") == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_cli_reconstruct_keeps_a_users_file_at_the_preview_name(tmp_path, sinogram, capsys):
    # the PNG preview is an output too: a user's file of that name is not replaced silently
    fresh = tmp_path / "fresh.npy"
    (tmp_path / "fresh.png").write_bytes(b"a user's picture")
    assert _fbp(tmp_path, fresh) == 2
    assert "fresh.png" in capsys.readouterr().err
    assert (tmp_path / "fresh.png").read_bytes() == b"a user's picture" and not fresh.exists()


def test_cli_reconstruct_overwrite_replaces_the_preview(tmp_path, sinogram):
    (tmp_path / "fresh.png").write_bytes(b"a user's picture")
    assert _fbp(tmp_path, tmp_path / "fresh.npy", "--overwrite") == 0
    assert (tmp_path / "fresh.png").read_bytes().startswith(b"\x89PNG")


def test_cli_reconstruct_output_must_be_npy(tmp_path, sinogram, capsys):
    # an output that is not .npy would collide with its own preview: refused
    assert _fbp(tmp_path, tmp_path / "recon.png") == 2
    err = capsys.readouterr().err
    assert "-o/--output" in err and "must end in .npy" in err


def test_cli_reconstruct_siddon_projector_equals_the_library(tmp_path, sinogram):
    _, y = sinogram
    out = tmp_path / "rec.npy"
    assert _fbp(tmp_path, out, "--projector", "siddon") == 0
    sid = ip.RayTransform(32, angles=20, method="siddon").fbp(torch.from_numpy(y)[None, None])
    assert np.max(np.abs(np.load(out) - sid[0, 0].numpy())) < 1e-6


def test_cli_reconstruct_refuses_a_geometry_that_does_not_fit(tmp_path, sinogram, capsys):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--method", "fbp", "--angles", "30"]
    assert main([*argv, "-o", str(tmp_path / "x.npy")]) == 2
    assert "--angles" in capsys.readouterr().err


def test_cli_reconstruct_refuses_a_non_positive_iteration_count(tmp_path, sinogram, capsys):
    # exit 2, one line naming the flag, nothing written
    args = ["reconstruct", str(tmp_path / "sino.npy"), "--method", "landweber", "--iters", "0"]
    args += ["--angles", "20"]
    assert main([*args, "-o", str(tmp_path / "it.npy")]) == 2
    err = capsys.readouterr().err
    assert "--iters: expected an integer >= 1, got 0" in err and err.count("\n") == 1
    assert not (tmp_path / "it.npy").exists()


def test_cli_reconstruct_tikhonov_by_discrepancy_matches_library(tmp_path, sinogram):
    A, y = sinogram
    yd, d = ip.add_noise(torch.from_numpy(y)[None, None], 0.02, seed=0)
    np.save(tmp_path / "noisy.npy", yd[0, 0].numpy())
    out = tmp_path / "tik.npy"
    args = [
        "reconstruct",
        str(tmp_path / "noisy.npy"),
        "--method",
        "tikhonov",
        "--angles",
        "20",
        "--delta",
        str(float(d[0])),
        "-o",
        str(out),
    ]
    assert main(args) == 0
    _, ref = ip.discrepancy_alpha(A, yd, float(d[0]))
    assert np.max(np.abs(np.load(out) - ref.x[0, 0].numpy())) < 1e-8


def test_cli_adjoint_test_passes(capsys):
    assert main(["adjoint-test", "--size", "16", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "ray" in out and "FAIL" not in out


def test_cli_phantom_writes_seeded_phantoms(tmp_path):
    out = tmp_path / "ph.npz"
    assert main(["phantom", "--n", "16", "--count", "3", "--seed", "4", "-o", str(out)]) == 0
    with np.load(out) as z:
        imgs = z["images"]
    ref, _ = ip.random_ellipses(16, 3, seed=4)
    assert np.array_equal(imgs, ref[:, 0].numpy())
    assert (tmp_path / "ph.png").exists()


def test_cli_phantom_keeps_a_users_preview_name(tmp_path):
    (tmp_path / "ph.png").write_bytes(b"mine")
    out = tmp_path / "ph.npz"
    assert main(["phantom", "--n", "16", "-o", str(out)]) == 2
    assert (tmp_path / "ph.png").read_bytes() == b"mine" and not out.exists()


def test_cli_phantom_output_must_be_npz(tmp_path, capsys):
    assert main(["phantom", "--n", "16", "-o", str(tmp_path / "ph.npy")]) == 2
    assert "must end in .npz" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "mask", "corner_is_zero"),
    [
        pytest.param([], None, True, id="default-masks-outside-the-disc"),
        pytest.param(["--no-fbp-mask"], False, False, id="no-fbp-mask-keeps-the-corners"),
    ],
)
def test_cli_reconstruct_fbp_mask_flag(tmp_path, sinogram, extra, mask, corner_is_zero):
    A, y = sinogram
    out = tmp_path / "rec.npy"
    assert _fbp(tmp_path, out, *extra) == 0
    ref = A.fbp(torch.from_numpy(y)[None, None], mask=mask)[0, 0].numpy()
    got = np.load(out)
    assert np.max(np.abs(got - ref)) < 1e-6
    # circle geometry: the default zeroes the corners, --no-fbp-mask keeps them
    assert bool(got[0, 0] == 0.0) is corner_is_zero


def test_cli_bench_refuses_bad_sizes_naming_them(tmp_path, capsys):
    # checked before any matrix is built (and before the bench sets torch's thread count)
    assert main(["bench", "--out", str(tmp_path), "--sizes", "64", "1"]) == 2
    assert "sizes" in capsys.readouterr().err
    assert not (tmp_path / "bench.json").exists()
