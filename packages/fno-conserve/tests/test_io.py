"""Loaders read tiny files in each documented layout and return generate's layout."""

import numpy as np
import pytest
import scipy.io
import torch

from fno_conserve import load_fno_mat, load_pdebench
from sciml_core import InputError

h5py = pytest.importorskip("h5py", reason="the [io] extra (h5py) is not installed")

RNG = np.random.default_rng(0)
BURGERS_A, BURGERS_U = RNG.standard_normal((3, 16)), RNG.standard_normal((3, 16))
NS_A, NS_U = RNG.standard_normal((2, 8, 8)), RNG.standard_normal((2, 8, 8, 5))


def _write_burgers(folder, version):
    path = folder / f"b{version}.mat"
    if version == "v5":
        scipy.io.savemat(path, {"a": BURGERS_A, "u": BURGERS_U})
    else:
        with h5py.File(path, "w") as f:  # MATLAB v7.3 stores the transposes
            f["a"], f["u"] = BURGERS_A.T, BURGERS_U.T
    return path


@pytest.mark.parametrize("version", ["v5", "v73"])
def test_fno_mat_burgers_gives_generates_layout(tmp_path, version):
    data = load_fno_mat(_write_burgers(tmp_path, version), pde="burgers", sub=2)
    assert data["x"].shape == (3, 1, 8) and data["y"].shape == (3, 1, 8)
    assert data["x"].dtype == torch.float64


@pytest.mark.parametrize("version", ["v5", "v73"])
def test_fno_mat_burgers_returns_the_stored_arrays_subsampled(tmp_path, version):
    data = load_fno_mat(_write_burgers(tmp_path, version), pde="burgers", sub=2)
    np.testing.assert_array_equal(data["x"][:, 0].numpy(), BURGERS_A[:, ::2])
    np.testing.assert_array_equal(data["y"][:, 0].numpy(), BURGERS_U[:, ::2])


@pytest.fixture
def ns_trajectory(tmp_path):
    with h5py.File(tmp_path / "ns.mat", "w") as f:
        f["a"], f["u"] = NS_A.transpose(), NS_U.transpose()
    return load_fno_mat(tmp_path / "ns.mat", pde="navier-stokes", time_index=None)


def test_fno_mat_navier_stokes_keeps_every_time_on_a_trajectory_axis(ns_trajectory):
    assert ns_trajectory["y"].shape == (2, 5, 1, 8, 8)
    np.testing.assert_array_equal(ns_trajectory["y"][:, 3, 0].numpy(), NS_U[..., 3])


def test_fno_mat_navier_stokes_input_is_the_stored_array(ns_trajectory):
    np.testing.assert_array_equal(ns_trajectory["x"][:, 0].numpy(), NS_A)


def test_fno_mat_darcy_uses_the_trapezoid_rule_of_its_node_grid(tmp_path):
    scipy.io.savemat(tmp_path / "darcy.mat", {"coeff": NS_A, "sol": NS_U[..., 0]})
    darcy = load_fno_mat(tmp_path / "darcy.mat", pde="darcy")
    assert darcy["meta"]["rule"] == "trapezoid" and darcy["y"].shape == (2, 1, 8, 8)


def test_fno_mat_refuses_a_pde_it_has_no_layout_for(tmp_path):
    with pytest.raises(InputError, match="pde"):
        load_fno_mat(_write_burgers(tmp_path, "v5"), pde="heat")


TENSOR = np.random.default_rng(1).standard_normal((4, 6, 16))


@pytest.fixture
def single_array(tmp_path):
    xc = (np.arange(16) + 0.5) / 16 * 2.0
    with h5py.File(tmp_path / "single.h5", "w") as f:
        f["tensor"], f["x-coordinate"], f["t-coordinate"] = TENSOR, xc, np.arange(7) * 0.1
    return tmp_path / "single.h5"


def test_pdebench_single_array_maps_the_first_time_to_the_last(single_array):
    data = load_pdebench(single_array)
    assert data["x"].shape == (4, 1, 16) and data["y"].shape == (4, 1, 16)
    np.testing.assert_array_equal(data["x"][:, 0].numpy(), TENSOR[:, 0])
    np.testing.assert_array_equal(data["y"][:, 0].numpy(), TENSOR[:, -1])


def test_pdebench_box_length_comes_from_the_x_coordinate(single_array):
    assert abs(float(load_pdebench(single_array)["weights"].sum()) - 2.0) < 1e-12  # N dx


def test_pdebench_single_array_trajectory_keeps_every_later_time(single_array):
    assert load_pdebench(single_array, time_index=None)["y"].shape == (4, 5, 1, 16)


def test_pdebench_darcy_maps_nu_to_the_solution(tmp_path):
    rng = np.random.default_rng(2)
    nu, sol = rng.standard_normal((3, 8, 8)), rng.standard_normal((3, 1, 8, 8))
    with h5py.File(tmp_path / "darcy.h5", "w") as f:
        f["nu"], f["tensor"], f["x-coordinate"] = nu, sol, (np.arange(8) + 0.5) / 8
    darcy = load_pdebench(tmp_path / "darcy.h5")
    assert darcy["x"].shape == (3, 1, 8, 8)
    np.testing.assert_array_equal(darcy["y"].numpy(), sol)


def test_pdebench_per_seed_groups_put_channels_after_the_batch_axis(tmp_path):
    seeds = np.random.default_rng(3).standard_normal((2, 5, 8, 8, 3))  # per seed: (T, X, Y, C)
    with h5py.File(tmp_path / "groups.h5", "w") as f:
        for i in range(2):
            g = f.create_group(f"{i:04d}")
            g["data"] = seeds[i]
            g["grid/x"] = (np.arange(8) + 0.5) / 8
            g["grid/t"] = np.arange(5) * 0.1
    groups = load_pdebench(tmp_path / "groups.h5", time_index=2)
    assert groups["x"].shape == (2, 3, 8, 8) and groups["y"].shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(groups["y"][1].numpy(), np.moveaxis(seeds[1, 2], -1, 0))


def test_pdebench_refuses_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="path"):
        load_pdebench(tmp_path / "missing.h5")


@pytest.mark.parametrize("version", ["v5", "v73"])
def test_fno_mat_refuses_a_truncated_file_naming_it(tmp_path, version):
    path = _write_burgers(tmp_path, version)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match=rf"^path: .*{path.name}"):
        load_fno_mat(path, pde="burgers")


def test_fno_mat_refuses_a_file_without_the_fields_naming_them(tmp_path):
    scipy.io.savemat(tmp_path / "other.mat", {"b": BURGERS_A})
    with pytest.raises(InputError, match="no field 'a'"):
        load_fno_mat(tmp_path / "other.mat", pde="burgers")


def test_pdebench_refuses_a_truncated_file_naming_it(single_array):
    single_array.write_bytes(single_array.read_bytes()[:1000])
    with pytest.raises(InputError, match=r"^path: .*single\.h5"):
        load_pdebench(single_array)
