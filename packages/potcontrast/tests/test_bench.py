"""``potcontrast bench`` end to end on a tiny case: the ratio is printed, the peer is the reference
workflow (same numbers), and the headline claim says which case it measured."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

from potcontrast._experiments import workloads
from potcontrast._reference import reference_class_map, reference_npc
from sciml_core import validate_result

# the module, not the function that potcontrast._experiments re-exports under the same name
bench_module = importlib.import_module("potcontrast._experiments.bench")

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")


def test_peer_is_the_reference_workflow_and_agrees_with_ours():
    case = workloads.BenchCase(48, 3, 3, per_class=60)
    img, masks = workloads.make_stack(case, seed=1)
    peer = workloads.reference_workflow(img, list(masks), 256, with_map=True)
    for b in range(case.bands):
        assert peer[b] == reference_npc(img[b], list(masks), 256, (0, 4096)).npc
    ours = workloads.ours_end_to_end(img, masks, 256)
    np.testing.assert_allclose(ours, peer, rtol=0, atol=1e-12)
    # the class map ours times is the reference's map (no work skipped on our side)
    from potcontrast import analyze

    res = analyze(img, masks, bins=256, range=(0, 4096), band_axis=0)
    cmap = res.class_map(img, band_axis=0)
    for b in range(case.bands):
        ref = reference_npc(img[b], list(masks), 256, (0, 4096))
        np.testing.assert_array_equal(cmap[b], reference_class_map(img[b], ref).astype(int))


@pytest.mark.filterwarnings("error::potcontrast.SparseBinsWarning")
def test_bench_prints_the_ratio_and_names_the_case(tmp_path, monkeypatch, capsys):
    tiny = [(workloads.BenchCase(64, 2, 3, per_class=40, group="quick "), True)]
    monkeypatch.setattr(bench_module, "cases", lambda quick, extended: tiny)
    rows = bench_module.bench(
        tmp_path, quick=True, seed=0
    )  # no bias-floor warning in timing output
    out = capsys.readouterr().out
    assert len(rows) == 5 and all(d <= 1e-12 for _, d in rows)
    assert out.count("speedup = t_reference / t_ours = ") == 5
    data = json.loads((tmp_path / "result.json").read_text())
    assert validate_result(data) == []
    head = data["claims"][0]
    assert "not the issue's 16 x 2000^2 headline" in head["name"]
    assert head["holds"] == (rows[0][0].speedup >= 20)
