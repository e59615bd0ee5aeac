"""``bench --memory``: each cell in a fresh interpreter that starts small, not the parent's peak."""

import sys

import numpy as np
import pytest

from chebnet_stable._experiments.memory import bench_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _own_peak_mib() -> float:
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def cells_under_an_inflated_parent():
    """Plain and lean at K = 64 (small N), measured while this process holds an extra 512 MiB."""
    ballast = np.ones(512 * 2**20 // 8)  # touched: the parent's peak RSS is now inflated
    table = bench_memory(nodes=[5000], features=[32], Ks=[64], variants=["plain", "lean"])
    parent_peak = _own_peak_mib()
    del ballast
    return {c["variant"]: c for c in table.cells}, parent_peak


def test_memory_cells_start_far_below_the_parents_peak(cells_under_an_inflated_parent):
    cells, parent_peak = cells_under_an_inflated_parent
    for cell in cells.values():
        assert cell["peak_mib"] < parent_peak - 400, (cell, parent_peak)


def test_plain_autograd_grows_by_the_k_terms_the_lean_backward_does_not_keep(
    cells_under_an_inflated_parent,
):
    # plain keeps K·N·F·4 B = 64·5000·32·4 B ≈ 39 MiB of T_k x; lean keeps O(N·F) ≈ 0.6 MiB
    cells, _ = cells_under_an_inflated_parent
    assert cells["plain"]["growth_mib"] > cells["lean"]["growth_mib"] + 20, cells


def test_pyg_cells_are_skipped_with_a_note_without_pyg(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch_geometric" else real(name, *a),
    )
    table = bench_memory(nodes=[50], features=[4], Ks=[2], variants=["pyg"])
    assert table.cells == [] and any("pip install 'chebnet-stable[pyg]'" in n for n in table.notes)
