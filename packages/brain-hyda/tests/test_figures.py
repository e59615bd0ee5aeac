"""The reproduction's figures are drawn from plain arrays or a saved table."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from brain_hyda._experiments import figures

COLUMNS = ["method", "subjects", "seed", "lr", "steps", "pooled Dice"]


def _png(path):
    return path.read_bytes()[:4] == b"\x89PNG"


def test_dice_figure_is_redrawn_from_a_saved_table(tmp_path):
    rows = [
        [m, n, s, 3e-3, 60, 0.1 * n + 0.01 * s]
        for m in ("probe", "hyda")
        for n in (2, 4, 8)
        for s in (0, 1)
    ]
    rows.append(["oracle", 8, 0, 3e-3, 60, 0.9])  # a control at one size
    result = tmp_path / "result.json"
    result.write_text(
        json.dumps({"tables": [{"id": "segmentation", "columns": COLUMNS, "rows": rows}]})
    )
    (path,) = figures.redraw(result, tmp_path, prefix="full_")
    assert path.name == "full_dice_vs_subjects.png" and _png(path)


def test_case_figure_shows_the_slice_with_the_most_lesion(tmp_path):
    truth = np.zeros((6, 8, 8), dtype=np.int64)
    truth[1, 2:4, 2:4] = 1
    truth[4, 1:6, 1:6] = 1  # the largest lesion cross-section
    flair = np.random.default_rng(0).normal(size=truth.shape)
    k = figures.draw_case(
        flair, truth, {"probe": truth, "hyda": np.zeros_like(truth)}, tmp_path / "c.png"
    )
    assert k == 4 and _png(tmp_path / "c.png")


def test_alpha_and_hypergraph_figures(tmp_path):
    rng = np.random.default_rng(0)
    alpha = rng.dirichlet(np.ones(4), size=10)
    groups = np.array([0, 1] * 5)
    figures.draw_alpha(alpha, groups, ["T1 corrupted", "FLAIR corrupted"], tmp_path / "a.png")
    h = (rng.random((10, 14)) < 0.3).astype(float)
    figures.draw_hypergraph(h, groups, tmp_path / "h.png")
    assert _png(tmp_path / "a.png") and _png(tmp_path / "h.png")


def test_figure_data_of_a_hyda_run():
    import torch
    from brain_hyda._encoders import TinyUNet
    from brain_hyda._experiments.segmentation import MODS, _figure_data
    from brain_hyda._hyda import HyDA
    from brain_hyda._synthetic import synthetic_brains
    from brain_hyda._train import to_subjects

    torch.manual_seed(0)
    train = to_subjects(synthetic_brains(3, size=16, seed=0))
    test = to_subjects(synthetic_brains(5, size=16, seed=0, start=600))
    net = TinyUNet(1, 5)
    model = HyDA(net.encoder, MODS, decoder=net.decoder, num_classes=2)
    with torch.no_grad():
        model.update_bank(model.encode(train.volumes))
    out = _figure_data(model, train, test, case=2)
    assert out["case_pred"].shape == (16, 16, 16)
    assert out["alpha"].shape == (5, 4)  # every test patient, n_basis = 4 (the default)
    np.testing.assert_allclose(out["alpha"].sum(1), 1.0, atol=1e-6)
    # the first test batch (4 patients) then the bank (3 training patients), each with its group
    assert out["hypergraph"].shape[0] == 4 + 3 == out["hypergraph_groups"].shape[0]
    assert out["hypergraph_groups"].tolist() == [*test.groups[:4].tolist(), *train.groups.tolist()]
