"""Level sets and pairings: the same sample at both resolutions, disjoint or nested sets."""

import pytest
import torch
from mlmc_ops import MLMCSampler, MultiLevelData, per_sample_gradients

from fno_conserve import restrict
from sciml_core import InputError


def test_restricted_coarse_data_are_block_averages_of_the_fine_data(fine_pool):
    x, y = fine_pool
    data = MultiLevelData.from_fine(x[:40], y[:40], (4, 8, 16), n_samples=(20, 12, 8), seed=0)
    for lev in data.levels[1:]:
        f = 16 // lev.x_coarse.shape[-1]
        assert torch.equal(lev.x_coarse, restrict(x[lev.ids], f, "average"))
        assert torch.equal(lev.y_coarse, restrict(y[lev.ids], f, "average"))


def test_corrections_use_the_same_sample_at_both_resolutions(fine_pool):
    x, y = fine_pool
    data = MultiLevelData.from_fine(x[:40], y[:40], (8, 16), n_samples=(24, 16), seed=0)
    batch = MLMCSampler(data, (8, 4), seed=1).sample()
    lev = batch.levels[1]
    assert torch.equal(lev.x, x[lev.ids])
    assert torch.equal(lev.x_coarse, restrict(x[lev.ids], 2, "average"))


@pytest.mark.parametrize("shared", [True, False])
def test_level_sets_are_disjoint(shared, fine_pool):
    x, y = fine_pool
    sizes = None if shared else (30, 20, 14)
    data = MultiLevelData.from_fine(x[:64], y[:64], (4, 8, 16), n_samples=sizes, seed=0)
    sampler = MLMCSampler(data, (10, 6, 4), pairing="disjoint", seed=2)
    for _ in range(5):
        ids = [set(lev.ids.tolist()) for lev in sampler.sample().levels]
        assert sum(len(s) for s in ids) == len(set().union(*ids))


def test_nested_sets_are_prefixes(shared_data):
    sampler = MLMCSampler(shared_data, (16, 4), pairing="nested", seed=0)
    a, b = sampler.sample().levels
    assert torch.equal(b.ids, a.ids[:4])


@pytest.mark.parametrize(
    ("resolutions", "match"),
    [((8, 12, 16), "divide the finest"), ((16, 8), "strictly increasing"), ((8, 32), "finest")],
)
def test_bad_resolutions_are_refused(resolutions, match, fine_pool):
    x, y = fine_pool
    with pytest.raises(InputError, match=match):
        MultiLevelData.from_fine(x[:8], y[:8], resolutions)


def test_an_empty_level_is_refused(fine_pool):
    x, y = fine_pool
    with pytest.raises(InputError, match="n_samples"):
        MultiLevelData.from_fine(x[:8], y[:8], (8, 16), n_samples=(4, 0))


def test_nested_pairing_needs_a_shared_pool(fine_pool):
    x, y = fine_pool
    data = MultiLevelData.from_fine(x[:8], y[:8], (8, 16), n_samples=(4, 4))
    with pytest.raises(InputError, match="shared pool"):
        MLMCSampler(data, (2, 1), pairing="nested")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("chunk_size", [1, 3, 8])
def test_per_sample_gradients_equal_loop(dtype, chunk_size, make_cnn, fine_pool, loss_fn):
    model = make_cnn().to(dtype)
    x, y = (t[:7].to(dtype) for t in fine_pool)
    g = per_sample_gradients(model, x, y, loss_fn, chunk_size=chunk_size)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    for i in range(7):
        ref = torch.autograd.grad(
            loss_fn(model(x[i : i + 1]), y[i : i + 1]).sum(), list(model.parameters())
        )
        ref = torch.cat([r.reshape(-1) for r in ref])
        assert torch.allclose(g[i], ref, rtol=0, atol=tol * max(1.0, float(ref.abs().max())))
