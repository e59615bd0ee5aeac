"""The compression peers of reproduce: Tucker-2 at a budget, Torch-Pruning at a parameter target,
their rows in the digits study, and the study's figures."""

import dataclasses
import sys

import pytest
import torch
from smoothprune import (
    GapCNN,
    SmallCNN,
    channel_ratio_for,
    compressible_layers,
    count_parameters,
    prune_channels,
    tucker2,
    tucker2_ranks,
)
from smoothprune._experiments import digits, figures
from smoothprune._experiments.config import FULL
from smoothprune._experiments.context import Context
from smoothprune._tucker import _cost, _dims, _layer_ranks
from torch import nn

from sciml_core import InputError, MissingExtraError, Result, validate_result


def _gen():
    return torch.Generator().manual_seed(0)


def _model_of(layer):
    return nn.Sequential(layer)


@pytest.mark.parametrize(
    ("layer", "ranks", "shape"),
    [
        (nn.Linear(5, 6), (5, 5), (3, 5)),
        (nn.Linear(7, 4, bias=False), (4, 4), (2, 7)),
        (nn.Conv2d(4, 6, 3, padding=1), (6, 4), (2, 4, 7, 7)),
        (nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), bias=False), (6, 4), (2, 4, 9, 8)),
        (nn.Conv2d(3, 5, 3, dilation=2, padding=2, padding_mode="reflect"), (5, 3), (2, 3, 9, 9)),
        (nn.Conv2d(3, 5, 3, padding=1, padding_mode="circular"), (5, 3), (2, 3, 6, 6)),
        (nn.Conv2d(3, 5, 3, padding=1, padding_mode="replicate"), (5, 3), (2, 3, 6, 6)),
    ],
)
def test_tucker2_at_full_rank_equals_the_dense_layer(layer, ranks, shape):
    pytest.importorskip("tensorly")
    torch.manual_seed(0)
    model = _model_of(layer.double())
    rep = tucker2(model, ranks={"0": ranks}, exclude="none")
    x = torch.randn(*shape, generator=_gen(), dtype=torch.float64)
    assert rep.ranks == {"0": ranks}
    assert (rep.model(x) - model(x)).abs().max().item() <= 1e-10


@pytest.mark.parametrize("factory", [SmallCNN, GapCNN])
@pytest.mark.parametrize("params", [0.5, 0.1, 0.05])
def test_tucker2_budget_is_met_and_maximal(factory, params):
    model = factory()
    alpha, ranks, before, after = tucker2_ranks(model, params)
    assert after <= params * before
    # the next rank fraction that changes any layer's ranks exceeds the budget
    layers = dict(compressible_layers(model))
    dims = {n: _dims(m) for n, m in layers.items()}
    bigger = min(
        j / n
        for o, i, _ in dims.values()
        for n in (o, i)
        for j in range(1, n + 1)
        if j / n > alpha
        and any(_layer_ranks(*d, j / n) != _layer_ranks(*d, alpha) for d in dims.values())
    )
    total = sum(
        min(o * i * k, _cost(o, i, k, _layer_ranks(o, i, k, bigger))) for o, i, k in dims.values()
    )
    assert total > params * before
    assert set(ranks) <= set(layers)


@pytest.mark.parametrize("params", [0.3, 0.1])
def test_tucker2_parameter_count_is_the_stored_count(params):
    pytest.importorskip("tensorly")
    torch.manual_seed(0)
    model = GapCNN()
    rep = tucker2(model, params)
    compressible = sum(m.weight.numel() for _, m in compressible_layers(model))
    fixed = count_parameters(model) - compressible
    assert count_parameters(rep.model) == fixed + rep.params_after
    assert rep.params_after <= params * compressible
    x = torch.randn(2, 1, 20, 20, generator=_gen())
    assert rep.model(x).shape == (2, 10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"params": 1.5}, "params"),
        ({"params": 1e-6}, "smallest reachable"),
        ({"ranks": {"c2": (0, 3)}}, r"ranks\['c2'\]"),
        ({"ranks": {"c2": (64, 2)}}, r"ranks\['c2'\]"),
        ({"ranks": {"nope": (1, 1)}}, "nope"),
        ({"params": 0.5, "ranks": {"c2": (1, 1)}}, "exactly one"),
        ({}, "exactly one"),
    ],
)
def test_tucker2_bad_input_names_the_argument(kwargs, match):
    pytest.importorskip("tensorly")
    with pytest.raises(InputError, match=match):
        tucker2(GapCNN(), **kwargs)


def test_tucker2_without_tensorly_names_the_bench_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorly", None)
    with pytest.raises(MissingExtraError, match=r"\[bench\]"):
        tucker2(GapCNN(), 0.5)


@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.05])
def test_torch_pruning_point_meets_the_target_within_one_channel_step(fraction):
    pytest.importorskip("torch_pruning")
    torch.manual_seed(0)
    model = GapCNN()
    x = torch.randn(1, 1, 20, 20, generator=_gen())
    target = fraction * count_parameters(model)
    ratio, count, previous = channel_ratio_for(model, target, example_inputs=x)
    pruned = prune_channels(model, ratio, backend="torch-pruning", example_inputs=x)
    assert count_parameters(pruned) == count <= target
    # one candidate less pruning (the method's granularity) would exceed the target
    assert previous is not None and previous > target


def test_torch_pruning_unreachable_target_names_the_smallest_count():
    pytest.importorskip("torch_pruning")
    x = torch.randn(1, 1, 20, 20, generator=_gen())
    with pytest.raises(InputError, match="smallest count"):
        channel_ratio_for(GapCNN(), 10, example_inputs=x)


def _ctx(tmp_path, **changes):
    cfg = dataclasses.replace(FULL, peer_params=(0.1,), **changes)
    result = Result("smoothprune", "0", seed=0, device="cpu", quick=False)
    return Context(result, tmp_path, cfg, 0, "cpu")


def test_peer_rows_have_the_target_count_and_an_accuracy(tmp_path):
    pytest.importorskip("torch_pruning")
    pytest.importorskip("tensorly")
    torch.manual_seed(0)
    model = GapCNN().eval()
    x, y = torch.randn(16, 1, 20, 20, generator=_gen()), torch.arange(16) % 10
    rows = digits._peers(model, "gapcnn", _ctx(tmp_path), x, y, {})
    assert [r[1] for r in rows] == ["torch-pruning", "tucker2"]
    for budget, _, target, count, acc, _ in rows:
        assert budget == 0.1 and count is not None and count <= target
        assert acc is not None and 0.0 <= acc <= 1.0


def test_missing_peers_are_rows_saying_not_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(digits, "_installed", lambda module: False)
    model = GapCNN().eval()
    x, y = torch.randn(4, 1, 20, 20, generator=_gen()), torch.arange(4)
    rows = digits._peers(model, "gapcnn", _ctx(tmp_path), x, y, {})
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [
        ("torch-pruning", None, None, "not installed"),
        ("tucker2", None, None, "not installed"),
    ]


def _figure_inputs():
    torch.manual_seed(0)
    points = {}
    for run in ("plain", "smooth-out2"):
        for seed in (0, 1):
            for method, size in (("full", 1000), ("params0.1", 100), ("keep0.1", 100)):
                points["smallcnn", run, seed, method] = (0.5 + 0.1 * seed, size)
            points["smallcnn", run, seed, "tucker20.1"] = (0.4, 90)
    model = SmallCNN()
    from smoothprune import spectrum
    from smoothprune._layers import layer_matrix

    spectra = {"smallcnn": {"plain": spectrum(model), "smooth-out2": spectrum(model)}}
    mats = {"smallcnn": {r: layer_matrix(model.c3) for r in ("plain", "smooth-out2")}}
    return points, {"smallcnn": 1000}, spectra, mats


def test_figures_are_written_next_to_the_result_and_registered(tmp_path):
    pytest.importorskip("matplotlib")
    ctx = _ctx(tmp_path, models=("smallcnn",))
    figures.write(ctx, *_figure_inputs())
    data = ctx.result.to_dict()
    files = [f["file"] for f in data["figures"]]
    assert files == [
        "digits_accuracy_vs_params.png",
        "digits_spectra_smallcnn.png",
        "digits_c3_matrix.png",
    ]
    for name in files:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    ctx.result.save(tmp_path)
    assert validate_result(data) == []


def test_without_matplotlib_the_figures_table_says_so(tmp_path, monkeypatch):
    def missing(package):
        raise MissingExtraError(f"matplotlib is missing: pip install '{package}[plot]'")

    monkeypatch.setattr(figures, "get_pyplot", missing)
    ctx = _ctx(tmp_path, models=("smallcnn",))
    figures.write(ctx, *_figure_inputs())
    data = ctx.result.to_dict()
    assert data["figures"] == []
    (table,) = [t for t in data["tables"] if t["id"] == "digits_figures"]
    assert all("matplotlib is not installed" in row[1] for row in table["rows"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("cell", "wins"),
    [
        ({"params": 0.8, "torch-pruning": 0.3, "tucker2": 0.7}, True),
        ({"params": 0.8, "torch-pruning": 0.3, "tucker2": 0.9}, False),
        ({"params": 0.8, "torch-pruning": "not installed", "tucker2": 0.7}, True),
        ({"params": 0.8, "torch-pruning": "not installed", "tucker2": "not run"}, False),
        ({"params": "not run", "torch-pruning": 0.3, "tucker2": 0.2}, False),
    ],
    ids=["beats-both", "loses-one", "one-missing", "none-measured", "no-svd"],
)
def test_svd_beats_peers_only_against_measured_peers(cell, wins):
    assert digits.svd_at_least_every_peer(cell) is wins
