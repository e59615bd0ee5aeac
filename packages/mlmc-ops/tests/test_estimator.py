"""The MLMC loss: telescoping identity, unbiasedness, variance, weighting, refusals."""

import pytest
import torch
from mlmc_ops import (
    MLMCSampler,
    MLMCTrainer,
    MultiLevelData,
    SingleLevelTrainer,
    geometric_schedule,
    mlmc_loss,
)
from scipy.stats import chi2

from sciml_core import InputError


def _flat_grad(model, value):
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(value, list(model.parameters()))])


def _fno():
    from fno_conserve import FNO2d

    torch.manual_seed(0)
    return FNO2d(1, 1, 3, width=4, n_layers=2, grid="cells", padding=0.125).double()


@pytest.mark.parametrize("which", ["cnn", "fno"])
def test_telescoping_identity_equal_sets_give_the_fine_gradient(
    which, make_cnn, fine_pool, loss_fn
):
    x, y = fine_pool
    data = MultiLevelData.from_fine(x[:64], y[:64], (4, 8, 16))
    model = make_cnn() if which == "cnn" else _fno()
    batch = MLMCSampler(data, (16, 16, 16), pairing="nested", seed=1).sample()
    fine = batch.levels[-1]
    g_mlmc = _flat_grad(model, mlmc_loss(model, batch, loss_fn).value)
    g_fine = _flat_grad(model, loss_fn(model(fine.x), fine.y).mean())
    assert torch.allclose(g_mlmc, g_fine, rtol=0, atol=1e-12 * float(g_fine.abs().max()))


def test_geometric_k1_equals_single_level_training(make_cnn, fine_pool, loss_fn):
    x, y = fine_pool
    data = MultiLevelData.from_fine(x[:128], y[:128], (8, 16))
    a, b = make_cnn(), make_cnn()
    ta = MLMCTrainer(
        a,
        data,
        loss_fn,
        torch.optim.SGD(a.parameters(), 0.1),
        batch_sizes=geometric_schedule(2, 1, 8),
        pairing="nested",
        seed=3,
    )
    tb = SingleLevelTrainer(
        b, x[:128], y[:128], loss_fn, torch.optim.SGD(b.parameters(), 0.1), batch_size=8, seed=3
    )
    ta.fit(steps=3)
    tb.fit(steps=3)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa, pb, rtol=0, atol=1e-12)


def _population(model, data, loss_fn):
    """Population gradient of the fine risk and per-sample level-term gradients."""
    from mlmc_ops import per_sample_gradients

    lev0, lev1 = data.levels
    g0 = per_sample_gradients(model, lev0.x, lev0.y, loss_fn, chunk_size=512)
    g1 = per_sample_gradients(model, lev1.x, lev1.y, loss_fn, chunk_size=512)
    g1c = per_sample_gradients(model, lev1.x_coarse, lev1.y_coarse, loss_fn, chunk_size=512)
    return g1.mean(0), [g0, g1 - g1c]


def _draws(model, data, loss_fn, sizes, pairing, n_draws, *, coarse_only=False, seed=0):
    sampler = MLMCSampler(data, sizes, pairing=pairing, seed=seed)
    out, terms = [], []
    for _ in range(n_draws):
        batch = sampler.sample()
        if coarse_only:
            lev = batch.levels[0]
            out.append(_flat_grad(model, loss_fn(model(lev.x), lev.y).mean()))
            continue
        est = mlmc_loss(model, batch, loss_fn)
        out.append(_flat_grad(model, est.value))
        lev0 = batch.levels[0]
        t0 = _flat_grad(model, loss_fn(model(lev0.x), lev0.y).mean())
        terms.append(torch.stack([t0, out[-1] - t0]))
    return torch.stack(out), (torch.stack(terms) if terms else None)


def _passes_unbiasedness(draws, g, predicted_var):
    n = draws.shape[0]
    mean = draws.mean(0)
    se = draws.std(0) / n**0.5
    per_coordinate = bool(((mean - g).abs() <= 4 * se).all())
    norm_ok = float((mean - g).norm()) <= 4 * (predicted_var / n) ** 0.5
    return per_coordinate and norm_ok


@pytest.mark.parametrize("pairing", ["disjoint", "nested"])
def test_estimator_is_unbiased_for_fine_gradient(pairing, shared_data, make_linear, loss_fn):
    model = make_linear()
    g, per_sample = _population(model, shared_data, loss_fn)
    sizes = (32, 8)
    V = [float(t.var(0).sum()) for t in per_sample]
    draws, _ = _draws(model, shared_data, loss_fn, sizes, pairing, 400, seed=11)
    # nested adds cross-level covariances: bound the predicted variance by the independent
    # one plus twice the Cauchy-Schwarz cross term
    predicted = sum(v / b for v, b in zip(V, sizes, strict=True))
    if pairing == "nested":
        predicted += 2 * (V[0] / sizes[0] * V[1] / sizes[1]) ** 0.5
    assert _passes_unbiasedness(draws, g, predicted)


def test_coarse_only_fails_the_unbiasedness_test(shared_data, make_linear, loss_fn):
    model = make_linear()
    g, per_sample = _population(model, shared_data, loss_fn)
    draws, _ = _draws(model, shared_data, loss_fn, (32, 8), "disjoint", 400, coarse_only=True)
    assert not _passes_unbiasedness(draws, g, float(per_sample[0].var(0).sum()) / 32)


def test_variance_of_each_level_term_and_of_the_estimate_matches_the_allocation(
    shared_data, make_linear, loss_fn
):
    model = make_linear()
    _, per_sample = _population(model, shared_data, loss_fn)
    sizes, n_pop, n_draws = (32, 8), 4096, 400
    # sampling without replacement from the finite pool: finite-population factor
    fpc = [(n_pop - b) / (n_pop - 1) for b in sizes]
    V = [float(t.var(0).sum()) for t in per_sample]
    predicted = [v / b * f for v, b, f in zip(V, sizes, fpc, strict=True)]
    draws, terms = _draws(model, shared_data, loss_fn, sizes, "disjoint", n_draws, seed=5)
    # the trace of a sample covariance is a weighted sum of chi-squares; the one-dimensional
    # chi-square(n-1) interval is the widest such (conservative)
    lo, hi = chi2.ppf([0.005, 0.995], n_draws - 1) / (n_draws - 1)
    for j in range(2):
        ratio = float(terms[:, j].var(0).sum()) / predicted[j]
        assert lo <= ratio <= hi, (j, ratio)
    ratio = float(draws.var(0).sum()) / sum(predicted)
    assert lo <= ratio <= hi


def test_sum_weighting_matches_derivation(shared_data, make_linear, loss_fn):
    """Nested sets: L_sum = sum_{S_0 minus S_1} l_0 + sum_{S_1} l_1 per draw, hence
    E L_sum = (b_0 - b_1) E l_0 + b_1 E l_1."""
    model = make_linear()
    sampler = MLMCSampler(shared_data, (12, 4), pairing="nested", seed=2)
    lev0, lev1 = shared_data.levels
    with torch.no_grad():
        l0, l1 = loss_fn(model(lev0.x), lev0.y), loss_fn(model(lev1.x), lev1.y)
        values = []
        for _ in range(300):
            rows0, rows1 = sampler.indices()
            v = mlmc_loss(model, sampler.batch([rows0, rows1]), loss_fn, weighting="sum").value
            rest = rows0[len(rows1) :]
            assert abs(float(v) - float(l0[rest].sum() + l1[rows1].sum())) < 1e-12 * float(v)
            values.append(float(v))
    values_t = torch.tensor(values, dtype=torch.float64)
    expected = 8 * float(l0.mean()) + 4 * float(l1.mean())
    assert abs(float(values_t.mean()) - expected) <= 4 * float(values_t.std()) / 300**0.5


def test_sum_reduced_loss_is_rejected(shared_data, make_linear):
    batch = MLMCSampler(shared_data, (4, 2), seed=0).sample()
    with pytest.raises(InputError, match="per-sample losses"):
        mlmc_loss(make_linear(), batch, lambda p, t: ((p - t) ** 2).mean())


@pytest.mark.parametrize("layer", [torch.nn.Dropout(0.1), torch.nn.BatchNorm2d(1)])
def test_stochastic_modules_are_rejected(layer, shared_data, make_linear, loss_fn):
    model = torch.nn.Sequential(make_linear(), layer).double()
    batch = MLMCSampler(shared_data, (4, 2), seed=0).sample()
    with pytest.raises(InputError, match="stochastic"):
        mlmc_loss(model, batch, loss_fn)
    mlmc_loss(model, batch, loss_fn, allow_stochastic=True)
