"""``brain-hyda bench``'s propagation rows time the same operator as dhg's, and the memory rows
measure one step's own peak in a fresh interpreter."""

from __future__ import annotations

import sys

import pytest
import torch
from brain_hyda._experiments import bench as bench_module
from brain_hyda._hypergraph import hgnn_propagate, knn_incidence


def test_merged_keeps_each_hyperedge_once():
    # two vertices with the same two nearest neighbours make duplicate kNN hyperedges
    z = torch.tensor([[0.0], [0.1], [5.0], [5.1], [5.2]])
    h = knn_incidence(z, 2)
    merged = bench_module._merged(h)
    cols = {tuple(c.tolist()) for c in h.T}
    assert merged.shape[1] == len(cols) < h.shape[1]
    assert {tuple(c.tolist()) for c in merged.T} == cols


def test_dhg_rows_time_ours_against_dhg_on_the_same_hyperedges():
    pytest.importorskip("dhg", reason="dhg not installed")
    rows = bench_module._dhg_rows(quick=True, repeats=1)
    sizes = [r.label.split(", ")[1] for r in rows]
    ways = [r.label.split(", ")[-1] for r in rows]
    assert sizes == ["16 vertices"] * 2 + ["256 vertices"] * 2
    assert ways == ["new graph per call", "dhg's operator cached"] * 2
    assert all(r.t_ours > 0 and r.t_peer > 0 for r in rows)


def test_dhg_rows_refuse_to_time_a_different_operator(monkeypatch):
    pytest.importorskip("dhg", reason="dhg not installed")

    def off(x, h, *, norm):
        return hgnn_propagate(x, h, norm=norm) + 1e-3

    monkeypatch.setattr(bench_module, "hgnn_propagate", off)
    with pytest.raises(RuntimeError, match="differs from dhg"):
        bench_module._dhg_rows(quick=True, repeats=1)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_cell_is_one_steps_growth_in_a_fresh_interpreter():
    from brain_hyda._experiments.memory import step_growth_mib

    cell = step_growth_mib("tinyunet", "finetune")
    assert cell["hwm_reset"] is True
    assert cell["growth_mib"] == cell["peak_mib"] - cell["before_mib"] > 0
