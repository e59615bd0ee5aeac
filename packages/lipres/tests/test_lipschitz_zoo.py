"""One law over every exported layer: no pair of inputs beats its certified bound."""

import copy
import inspect

import lipres
import pytest
import torch
from torch import nn
from zoo import norm_of, pairs, zoo

ZOO = zoo()
TOL = {torch.float32: 1e-5, torch.float64: 1e-12}


def _ratio(module, a, b, entry, bound):
    """``|f(a) - f(b)| / |a - b|`` after removing what rounding in the working dtype can add:
    ``16 eps`` times the sizes of the values involved (spec §4 items 6-7)."""
    eps = torch.finfo(a.dtype).eps
    with torch.no_grad():
        fa, fb = module(a).double(), module(b).double()
    size = (
        norm_of(fa, "l2")
        + norm_of(fb, "l2")
        + bound * (norm_of(a.double(), "l2") + norm_of(b.double(), "l2"))
    )
    num = (norm_of(fa - fb, entry.out_norm) - 16 * eps * size).clamp_min(0.0)
    den = norm_of(a.double() - b.double(), entry.in_norm)
    return num / den


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(ZOO))
def test_random_pairs_never_beat_the_bound(name, dtype):
    entry = ZOO[name]
    module = copy.deepcopy(entry.module).to(dtype)
    bound = module.lipschitz_bound()
    a, b = pairs(entry, dtype, 2000, seed=1)
    ratio = float(_ratio(module, a, b, entry, bound).max())
    assert ratio <= bound * (1 + TOL[dtype]), f"{name}: ratio {ratio} > bound {bound}"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(n for n in ZOO if ZOO[n].constrained))
def test_constrained_layers_are_one_lipschitz(name, dtype):
    module = copy.deepcopy(ZOO[name].module).to(dtype)
    bound = module.lipschitz_bound()
    limit = getattr(module, "lipschitz", 1.0)
    assert bound <= limit, f"{name}: bound {bound!r} > {limit}"


@pytest.mark.parametrize(
    "name", sorted(n for n in ZOO if ZOO[n].in_norm == ZOO[n].out_norm == "l2")
)
def test_pair_ascent_never_beats_the_bound(name):
    entry = ZOO[name]
    module = copy.deepcopy(entry.module).double()
    x = pairs(entry, torch.float64, 64, seed=2)[0]
    found = lipres.empirical_lipschitz(module, x, method="ascent", n_iter=30, seed=0)
    assert found <= module.lipschitz_bound() * (1 + 1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(
    "name", sorted(n for n in ZOO if ZOO[n].in_norm == ZOO[n].out_norm == "l2")
)
def test_jacobian_power_iteration_never_beats_the_bound(name, dtype):
    entry = ZOO[name]
    module = copy.deepcopy(entry.module).to(dtype)
    x = pairs(entry, dtype, 32, seed=3)[0]
    found = lipres.empirical_lipschitz(module, x, method="jacobian", n_iter=30, seed=0)
    assert found <= module.lipschitz_bound() * (1 + TOL[dtype])


@pytest.mark.parametrize("name", sorted(ZOO))
def test_layers_keep_dtype_and_device(name):
    entry = ZOO[name]
    module = copy.deepcopy(entry.module).double()
    x = pairs(entry, torch.float64, 3, seed=4)[0]
    out = module(x)
    assert out.dtype == torch.float64 and out.device == x.device


def test_every_exported_layer_is_in_the_zoo():
    exported = {
        obj
        for name in lipres.__all__
        if inspect.isclass(obj := getattr(lipres, name)) and issubclass(obj, nn.Module)
    }
    covered = {type(entry.module) for entry in ZOO.values()}
    missing = {cls.__name__ for cls in exported - covered - {lipres.MarginLoss}}
    assert not missing, f"layers missing from the zoo: {missing}"
