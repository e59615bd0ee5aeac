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


def test_cli_reconstruct(tmp_path, sinogram, capsys):
    A, y = sinogram
    out = tmp_path / "rec.npy"
    assert main(["reconstruct", str(tmp_path / "sino.npy"), "--method", "fbp", "-o", str(out)]) == 0
    ref = A.fbp(torch.from_numpy(y)[None, None])[0, 0].numpy()
    got = np.load(out)
    assert got.shape == (32, 32)
    assert np.max(np.abs(got - ref)) < 1e-6
    assert (tmp_path / "rec.png").stat().st_size > 0
    # .npz input gives the same result
    np.savez(tmp_path / "sino.npz", data=y)
    out2 = tmp_path / "rec2.npy"
    assert (
        main(["reconstruct", str(tmp_path / "sino.npz"), "--method", "fbp", "-o", str(out2)]) == 0
    )
    assert np.array_equal(np.load(out2), got)
    # TIFF input ([io] extra) as well
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "sino.tif", y)
    out3 = tmp_path / "rec3.npy"
    assert (
        main(["reconstruct", str(tmp_path / "sino.tif"), "--method", "fbp", "-o", str(out3)]) == 0
    )
    assert np.array_equal(np.load(out3), got)
    # no overwrite without --overwrite: exit 2, file untouched
    before = out.read_bytes()
    capsys.readouterr()
    assert (
        main(
            [
                "reconstruct",
                str(tmp_path / "sino.npy"),
                "--method",
                "fbp",
                "--filter",
                "hann",
                "-o",
                str(out),
            ]
        )
        == 2
    )
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before
    # the PNG preview is an output too: a user's file of that name is not replaced silently
    fresh = tmp_path / "fresh.npy"
    (tmp_path / "fresh.png").write_bytes(b"a user's picture")
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--method", "fbp", "-o", str(fresh)]
    assert main(argv) == 2
    assert "fresh.png" in capsys.readouterr().err
    assert (tmp_path / "fresh.png").read_bytes() == b"a user's picture" and not fresh.exists()
    assert main([*argv, "--overwrite"]) == 0
    assert (tmp_path / "fresh.png").read_bytes().startswith(b"\x89PNG")
    # an output that is not .npy would collide with its own preview: refused
    assert main([*argv[:-1], str(tmp_path / "recon.png")]) == 2
    assert "expected a .npy file" in capsys.readouterr().err
    # the Siddon projector through the CLI equals the library's
    out4 = tmp_path / "rec4.npy"
    assert (
        main(
            [
                "reconstruct",
                str(tmp_path / "sino.npy"),
                "--method",
                "fbp",
                "--projector",
                "siddon",
                "-o",
                str(out4),
            ]
        )
        == 0
    )
    sid = ip.RayTransform(32, angles=20, method="siddon").fbp(torch.from_numpy(y)[None, None])
    assert np.max(np.abs(np.load(out4) - sid[0, 0].numpy())) < 1e-6
    # a geometry that does not fit the data: exit 2 naming the flag
    assert (
        main(
            [
                "reconstruct",
                str(tmp_path / "sino.npy"),
                "--method",
                "fbp",
                "--angles",
                "30",
                "-o",
                str(tmp_path / "x.npy"),
            ]
        )
        == 2
    )
    assert "--angles" in capsys.readouterr().err
    # a non-positive iteration count: exit 2, one line naming the flag, nothing written
    args = ["reconstruct", str(tmp_path / "sino.npy"), "--method", "landweber", "--iters", "0"]
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


def test_cli_phantom_keeps_a_users_preview_name_and_wants_npz(tmp_path, capsys):
    (tmp_path / "ph.png").write_bytes(b"mine")
    out = tmp_path / "ph.npz"
    assert main(["phantom", "--n", "16", "-o", str(out)]) == 2
    assert (tmp_path / "ph.png").read_bytes() == b"mine" and not out.exists()
    assert main(["phantom", "--n", "16", "-o", str(tmp_path / "ph.npy")]) == 2
    assert "expected a .npz file" in capsys.readouterr().err


def test_cli_reconstruct_fbp_mask_flag(tmp_path, sinogram):
    A, y = sinogram
    t = torch.from_numpy(y)[None, None]
    for extra, mask in (([], None), (["--no-fbp-mask"], False)):
        out = tmp_path / f"rec{len(extra)}.npy"
        argv = ["reconstruct", str(tmp_path / "sino.npy"), "--method", "fbp", *extra]
        assert main([*argv, "-o", str(out)]) == 0
        ref = A.fbp(t, mask=mask)[0, 0].numpy()
        assert np.max(np.abs(np.load(out) - ref)) < 1e-6
    # circle geometry: the default zeroes the corners, --no-fbp-mask keeps them
    assert np.load(tmp_path / "rec0.npy")[0, 0] == 0.0
    assert np.load(tmp_path / "rec1.npy")[0, 0] != 0.0


def test_cli_bench_refuses_bad_sizes_naming_them(tmp_path, capsys):
    # checked before any matrix is built (and before the bench sets torch's thread count)
    assert main(["bench", "--out", str(tmp_path), "--sizes", "64", "1"]) == 2
    assert "sizes" in capsys.readouterr().err
    assert not (tmp_path / "bench.json").exists()
