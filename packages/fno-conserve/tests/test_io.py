"""Loaders read tiny files in each documented layout and return generate's layout."""

import numpy as np
import pytest
import scipy.io
import torch

from fno_conserve import load_fno_mat, load_pdebench
from sciml_core import InputError

h5py = pytest.importorskip("h5py", reason="the [io] extra (h5py) is not installed")


def test_fno_mat_v5_and_v73_give_the_same_arrays(tmp_path):
    rng = np.random.default_rng(0)
    a, u = rng.standard_normal((3, 16)), rng.standard_normal((3, 16))
    scipy.io.savemat(tmp_path / "b5.mat", {"a": a, "u": u})
    with h5py.File(tmp_path / "b73.mat", "w") as f:  # MATLAB v7.3 stores the transposes
        f["a"], f["u"] = a.T, u.T
    for name in ("b5.mat", "b73.mat"):
        data = load_fno_mat(tmp_path / name, pde="burgers", sub=2)
        assert data["x"].shape == (3, 1, 8) and data["y"].shape == (3, 1, 8)
        assert data["x"].dtype == torch.float64
        np.testing.assert_array_equal(data["x"][:, 0].numpy(), a[:, ::2])
        np.testing.assert_array_equal(data["y"][:, 0].numpy(), u[:, ::2])
    ns_a, ns_u = rng.standard_normal((2, 8, 8)), rng.standard_normal((2, 8, 8, 5))
    with h5py.File(tmp_path / "ns.mat", "w") as f:
        f["a"], f["u"] = ns_a.transpose(), ns_u.transpose()
    ns = load_fno_mat(tmp_path / "ns.mat", pde="navier-stokes", time_index=None)
    assert ns["y"].shape == (2, 5, 1, 8, 8)
    np.testing.assert_array_equal(ns["y"][:, 3, 0].numpy(), ns_u[..., 3])
    np.testing.assert_array_equal(ns["x"][:, 0].numpy(), ns_a)
    scipy.io.savemat(tmp_path / "darcy.mat", {"coeff": ns_a, "sol": ns_u[..., 0]})
    darcy = load_fno_mat(tmp_path / "darcy.mat", pde="darcy")
    assert darcy["meta"]["rule"] == "trapezoid" and darcy["y"].shape == (2, 1, 8, 8)
    with pytest.raises(InputError, match="pde"):
        load_fno_mat(tmp_path / "b5.mat", pde="heat")


def test_pdebench_single_array_darcy_and_per_seed_layouts(tmp_path):
    rng = np.random.default_rng(1)
    tensor = rng.standard_normal((4, 6, 16))
    xc = (np.arange(16) + 0.5) / 16 * 2.0
    with h5py.File(tmp_path / "single.h5", "w") as f:
        f["tensor"], f["x-coordinate"], f["t-coordinate"] = tensor, xc, np.arange(7) * 0.1
    data = load_pdebench(tmp_path / "single.h5")
    assert data["x"].shape == (4, 1, 16) and data["y"].shape == (4, 1, 16)
    np.testing.assert_array_equal(data["x"][:, 0].numpy(), tensor[:, 0])
    np.testing.assert_array_equal(data["y"][:, 0].numpy(), tensor[:, -1])
    assert abs(float(data["weights"].sum()) - 2.0) < 1e-12  # box length N dx from x-coordinate
    traj = load_pdebench(tmp_path / "single.h5", time_index=None)
    assert traj["y"].shape == (4, 5, 1, 16)
    nu, sol = rng.standard_normal((3, 8, 8)), rng.standard_normal((3, 1, 8, 8))
    with h5py.File(tmp_path / "darcy.h5", "w") as f:
        f["nu"], f["tensor"], f["x-coordinate"] = nu, sol, (np.arange(8) + 0.5) / 8
    darcy = load_pdebench(tmp_path / "darcy.h5")
    assert darcy["x"].shape == (3, 1, 8, 8)
    np.testing.assert_array_equal(darcy["y"].numpy(), sol)
    seeds = rng.standard_normal((2, 5, 8, 8, 3))  # per seed: (T, X, Y, C)
    with h5py.File(tmp_path / "groups.h5", "w") as f:
        for i in range(2):
            g = f.create_group(f"{i:04d}")
            g["data"] = seeds[i]
            g["grid/x"] = (np.arange(8) + 0.5) / 8
            g["grid/t"] = np.arange(5) * 0.1
    groups = load_pdebench(tmp_path / "groups.h5", time_index=2)
    assert groups["x"].shape == (2, 3, 8, 8) and groups["y"].shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(groups["y"][1].numpy(), np.moveaxis(seeds[1, 2], -1, 0))
    with pytest.raises(InputError, match="path"):
        load_pdebench(tmp_path / "missing.h5")
