import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from smoothprune import (
    GapCNN,
    LowRankConv2d,
    LowRankLinear,
    SmallCNN,
    SpatialLowRankConv2d,
    allocate_global,
    compress_model,
    count_parameters,
    load_compressed,
    save_compressed,
)
from smoothprune._layers import layer_matrix
from smoothprune._ranks import stored_cost
from torch import nn

from sciml_core import InputError

CONVS = [
    dict(in_channels=3, out_channels=5, kernel_size=3, padding=1),
    dict(
        in_channels=4, out_channels=6, kernel_size=(3, 2), stride=2, padding=(1, 2), dilation=(1, 2)
    ),
    dict(in_channels=2, out_channels=7, kernel_size=(2, 3), stride=(1, 2), bias=False),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding="same", dilation=2),
]
MODES = ["zeros", "reflect", "replicate", "circular"]


def _conv(kwargs, mode, dtype):
    torch.manual_seed(0)
    return nn.Conv2d(**kwargs, padding_mode=mode).to(dtype)


@pytest.mark.parametrize("kwargs", CONVS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", [LowRankConv2d, SpatialLowRankConv2d])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_factorisation_is_exact_at_full_rank(kwargs, mode, cls, dtype):
    dense = _conv(kwargs, mode, dtype)
    m = layer_matrix(dense, "spatial" if cls is SpatialLowRankConv2d else "channel")
    low = cls.from_dense(dense, min(m.shape))
    x = torch.randn(2, dense.in_channels, 9, 8, dtype=dtype)
    y = dense(x)
    tol = 1e-10 if dtype == torch.float64 else 1e-5 * y.abs().max().item()
    assert (low(x) - y).abs().max().item() <= tol


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("split", ["balanced", "left", "right"])
def test_linear_factorisation_is_exact_at_full_rank_and_to_dense_returns_the_weight(bias, split):
    dense = nn.Linear(7, 5, bias=bias).double()
    low = LowRankLinear.from_dense(dense, 5, split)
    x = torch.randn(4, 7, dtype=torch.float64)
    assert (low(x) - dense(x)).abs().max().item() <= 1e-10
    assert torch.allclose(low.to_dense().weight, dense.weight, atol=1e-12)


def test_conv_to_dense_returns_the_original_weight():
    dense = _conv(CONVS[1], "zeros", torch.float64)
    low = LowRankConv2d.from_dense(dense, 6)
    assert torch.allclose(low.to_dense().weight, dense.weight, atol=1e-12)
    spatial = SpatialLowRankConv2d.from_dense(dense, min(layer_matrix(dense, "spatial").shape))
    assert torch.allclose(spatial.to_dense_weight(), dense.weight, atol=1e-12)


@given(
    o=st.integers(2, 9),
    i=st.integers(1, 4),
    k=st.integers(1, 3),
    r_frac=st.floats(0.0, 1.0),
    scheme=st.sampled_from(["channel", "spatial"]),
)
def test_truncation_error_equals_discarded_singular_values(o, i, k, r_frac, scheme):
    torch.manual_seed(o * 100 + i * 10 + k)
    net = nn.Sequential(nn.Conv2d(i, o, k).double())
    max_rank = min(layer_matrix(net[0], scheme).shape)
    rank = max(1, round(r_frac * max_rank))
    cls = SpatialLowRankConv2d if scheme == "spatial" else LowRankConv2d
    low = cls.from_dense(net[0], rank)
    dense_w = low.to_dense().weight if scheme == "channel" else low.to_dense_weight()
    s = torch.linalg.svdvals(layer_matrix(net[0], scheme))
    diff = net[0].weight.detach() - dense_w.detach()
    proxy = nn.Conv2d(i, o, k).double()
    with torch.no_grad():
        proxy.weight.copy_(diff)
    d = layer_matrix(proxy, scheme)
    tail = s[rank:]
    assert torch.linalg.matrix_norm(d).item() ** 2 == pytest.approx(
        tail.square().sum().item(), rel=1e-10, abs=1e-24
    )
    spec = tail[0].item() if len(tail) else 0.0
    assert torch.linalg.matrix_norm(d, ord=2).item() == pytest.approx(spec, rel=1e-10, abs=1e-12)


def test_layer_report_carries_the_discarded_singular_values():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(8, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3)).double()
    rep = compress_model(net, keep=0.3, exclude="none")
    for r, name in zip(rep.layers, ["0", "2"], strict=True):
        s = torch.linalg.svdvals(net.get_submodule(name).weight.detach().reshape(16, -1))
        assert r.frobenius_error == pytest.approx(
            s[r.rank :].square().sum().sqrt().item(), rel=1e-10
        )
        assert r.spectral_error == pytest.approx(s[r.rank].item(), rel=1e-10)
        w_r = rep.model.get_submodule(name).to_dense().weight
        err = (net.get_submodule(name).weight - w_r).reshape(16, -1)
        assert torch.linalg.matrix_norm(err).item() == pytest.approx(r.frobenius_error, rel=1e-9)


@given(
    sizes=st.lists(st.tuples(st.integers(2, 12), st.integers(2, 12)), min_size=1, max_size=4),
    fixed=st.integers(0, 50),
    frac=st.floats(0.05, 1.0),
    seed=st.integers(0, 10),
    score=st.sampled_from(["energy", "sigma", "energy_per_param"]),
)
def test_global_budget_meets_target_and_is_minimal(sizes, fixed, frac, seed, score):
    g = torch.Generator().manual_seed(seed)
    spectra = [
        torch.linalg.svdvals(torch.randn(o, i, generator=g, dtype=torch.float64)) for o, i in sizes
    ]
    costs = [o + i for o, i in sizes]
    dense = [o * i for o, i in sizes]
    total = fixed + sum(dense)
    smallest = fixed + sum(stored_cost(1, c, d) for c, d in zip(costs, dense, strict=True))
    target = frac * total
    if target < smallest:
        with pytest.raises(InputError, match=str(smallest)):
            allocate_global(spectra, costs, dense, fixed=fixed, target=target, score=score)
        return
    a = allocate_global(spectra, costs, dense, fixed=fixed, target=target, score=score)
    cost = fixed + sum(stored_cost(r, c, d) for r, c, d in zip(a.ranks, costs, dense, strict=True))
    assert cost == a.total <= target
    if a.last_drop is not None:
        layer, _ = a.last_drop
        undone = list(a.ranks)
        undone[layer] += 1
        cost_undone = fixed + sum(
            stored_cost(r, c, d) for r, c, d in zip(undone, costs, dense, strict=True)
        )
        assert cost_undone > target
    else:
        assert total <= target


def test_compress_model_meets_the_global_budget_and_keeps_dense_layers_at_break_even():
    torch.manual_seed(0)
    model = GapCNN()
    rep = compress_model(model, params=0.3)
    assert rep.params_after <= 0.3 * rep.params_before
    assert rep.params_after == count_parameters(rep.model)
    for layer in rep.layers:
        assert layer.factorised == (layer.rank < layer.break_even)


def test_unreachable_budget_names_the_smallest_reachable_fraction():
    with pytest.raises(InputError, match=r"smallest reachable fraction is 0\.0"):
        compress_model(SmallCNN(), params=0.001, count="compressible")


@pytest.mark.parametrize("scheme", ["channel", "spatial"])
def test_parameter_counts_match_formulas(scheme):
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 10, (3, 2))
    cls = LowRankConv2d if scheme == "channel" else SpatialLowRankConv2d
    low = cls.from_dense(conv, 4)
    per_rank = 6 * 3 * 2 + 10 if scheme == "channel" else 6 * 3 + 10 * 2
    assert count_parameters(low) == 4 * per_rank + 10
    assert count_parameters(LowRankLinear.from_dense(nn.Linear(9, 5), 3)) == 3 * (9 + 5) + 5


@pytest.mark.parametrize(
    ("factory", "expected"),
    [(SmallCNN, 914_698), (GapCNN, 241_546)],
)
def test_model_parameter_counts(factory, expected):
    assert count_parameters(factory()) == expected


@pytest.mark.slow
def test_resnet18_parameter_counts():
    pytest.importorskip("torchvision")
    from smoothprune import cifar_resnet18
    from torchvision.models import resnet18

    assert count_parameters(resnet18(weights=None, num_classes=10)) == 11_181_642
    assert count_parameters(cifar_resnet18()) == 11_173_962
    assert count_parameters(cifar_resnet18(stem="imagenet")) == 11_181_642


def test_smallcnn_keep_point_three_has_the_formula_count():
    assert compress_model(SmallCNN(), keep=0.3).params_after == 275_818


@pytest.mark.slow
def test_compressed_resnet18_runs():
    pytest.importorskip("torchvision")
    from smoothprune import cifar_resnet18

    torch.manual_seed(0)
    model = cifar_resnet18().eval()
    rep = compress_model(model, params=0.3)
    assert rep.params_after <= 0.3 * rep.params_before
    x = torch.randn(2, 3, 32, 32)
    assert rep.model.eval()(x).shape == (2, 10)
    full = compress_model(model, energy=1.0).model.eval()
    y = model(x)
    assert (full(x) - y).abs().max().item() <= 1e-4 * y.abs().max().item()


def test_compressed_checkpoint_roundtrip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = SmallCNN().eval()
    rep = compress_model(model, keep=0.3)
    path = save_compressed(rep, tmp_path / "c.pt")
    loaded = load_compressed(path, SmallCNN()).eval()
    x = torch.randn(3, 1, 20, 20)
    assert torch.equal(loaded(x), rep.model.eval()(x))


def test_compressed_checkpoint_is_really_smaller_and_masked_one_bigger(tmp_path):
    torch.manual_seed(0)
    model = SmallCNN()
    dense = tmp_path / "dense.pt"
    torch.save(model.state_dict(), dense)
    small = save_compressed(compress_model(model, keep=0.3), tmp_path / "small.pt")
    assert small.stat().st_size <= 0.35 * dense.stat().st_size
    from torch.nn.utils import prune

    masked = SmallCNN()
    for m in (masked.c2, masked.c3, masked.f1):
        prune.l1_unstructured(m, "weight", amount=0.9)
    path = tmp_path / "masked.pt"
    torch.save(masked.state_dict(), path)
    assert path.stat().st_size >= 1.9 * dense.stat().st_size


def test_compressed_checkpoint_of_another_version_is_refused(tmp_path, monkeypatch):
    import smoothprune._compress as c

    monkeypatch.setattr(c, "__version__", "0.9.0")
    path = save_compressed(compress_model(SmallCNN(), keep=0.3), tmp_path / "c.pt")
    monkeypatch.undo()
    with pytest.raises(InputError, match=r"0\.9"):
        load_compressed(path, SmallCNN())


def test_compressed_checkpoint_of_another_architecture_is_refused(tmp_path):
    path = save_compressed(compress_model(GapCNN(), keep=0.3), tmp_path / "c.pt")
    with pytest.raises(InputError, match="GapCNN"):
        load_compressed(path, SmallCNN())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"params": 0.3, "keep": 0.3}, "exactly one"),
        ({}, "exactly one"),
        ({"params": 1.5}, r"\(0, 1\]"),
        ({"params": 0.0}, r"\(0, 1\]"),
        ({"keep": 0.3, "exclude": ["nope"]}, "nope"),
        ({"keep": 0.3, "scheme": "tucker"}, "scheme"),
    ],
)
def test_bad_compression_arguments_are_input_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        compress_model(SmallCNN(), **kwargs)


def test_nan_weights_are_refused():
    model = SmallCNN()
    with torch.no_grad():
        model.c2.weight[0, 0, 0, 0] = math.nan
    with pytest.raises(InputError, match="c2"):
        compress_model(model, keep=0.3)


def test_grouped_convolution_and_too_high_rank_are_refused():
    with pytest.raises(InputError, match="groups"):
        LowRankConv2d.from_dense(nn.Conv2d(4, 4, 3, groups=2), 2)
    with pytest.raises(InputError, match="rank"):
        LowRankConv2d.from_dense(nn.Conv2d(2, 4, 1), 3)


def test_input_model_is_not_modified():
    model = SmallCNN()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    compress_model(model, params=0.3)
    assert isinstance(model.f1, nn.Linear)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
