"""Permutation null, bootstrap coverage, and the sparse-bins warning (spec §3.7, §4.2)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import potcontrast


def _row(*classes):
    """A one-row image of the concatenated samples and its label image (labels 1..K)."""
    img = np.concatenate(classes)[None, :]
    labels = np.repeat(np.arange(1, len(classes) + 1), [c.size for c in classes])[None, :]
    return img, labels


def test_bootstrap_coverage_on_gaussian_closed_form():
    truth = potcontrast.npc_gaussian(0.0, 1.0, 1.0)  # 2 Phi(1/2) - 1 = 0.3829
    covered = 0
    widths = []
    for rep in range(200):
        rng = np.random.default_rng([2024, rep])
        img, labels = _row(rng.normal(0, 1, 1000), rng.normal(1, 1, 1000))
        lo, hi = potcontrast.bootstrap_ci(
            img, labels, bins=16, range=(-5, 6), n_boot=1000, level=0.95, seed=rep
        )[0]
        covered += lo <= truth <= hi
        widths.append(hi - lo)
    assert 0.90 <= covered / 200 <= 0.99
    # the interval is about 2 * 1.96 standard errors of the estimator (sd ~ 0.02 at n = 1000)
    assert 0.05 < np.mean(widths) < 0.12


def _three_classes():
    rng = np.random.default_rng(1)
    return _row(rng.normal(0, 1, 500), rng.normal(0.5, 1, 400), rng.normal(2, 1, 300))


def test_bootstrap_is_seeded():
    img, labels = _three_classes()
    a = potcontrast.bootstrap_ci(img, labels, bins=8, range=(-5, 7), n_boot=300, seed=3)
    b = potcontrast.bootstrap_ci(img, labels, bins=8, range=(-5, 7), n_boot=300, seed=3)
    np.testing.assert_array_equal(a, b)


def test_bootstrap_interval_is_ordered_around_the_estimate():
    img, labels = _three_classes()
    a = potcontrast.bootstrap_ci(img, labels, bins=8, range=(-5, 7), n_boot=300, seed=3)
    value = potcontrast.npc(img, labels, bins=8, range=(-5, 7))
    assert a.shape == (1, 2) and a[0, 0] < value < a[0, 1]


def _null_of_identical_classes():
    rng = np.random.default_rng(5)
    img, labels = _row(rng.normal(0, 1, 1000), rng.normal(0, 1, 1000))
    return potcontrast.permutation_null(img, labels, bins=64, range=(-5, 5), n_perm=200, seed=0)


def test_permutation_null_under_the_null_has_no_excess():
    res = _null_of_identical_classes()
    assert abs(res.excess_over_null[0]) <= 3 * res.null_std[0]
    assert res.p_value[0] > 0.01


def test_permutation_null_mean_matches_the_spec_null_table():
    res = _null_of_identical_classes()
    # spec §3.7 null table: K = 2, n = 1000, 64 bins -> 0.097, a 40-replicate mean (standard
    # error null_std / sqrt(40)). Ours averages 200 permutations of one data set; over 30 data
    # sets its spread was 0.0015, about null_std / sqrt(100), so it counts as 100 draws here.
    se = res.null_std[0] * np.sqrt(1 / 40 + 1 / 100)
    assert abs(res.null_mean[0] - 0.097) <= 3 * se


def test_permutation_null_keeps_every_permutation():
    res = _null_of_identical_classes()
    assert res.null.shape == (200, 1) and res.n_perm == 200


def _null_of_separable_classes():
    rng = np.random.default_rng(6)
    img, labels = _row(rng.uniform(0, 1, 300), rng.uniform(2, 3, 200), rng.uniform(4, 5, 250))
    return potcontrast.permutation_null(img, labels, bins=10, range=(0, 5), n_perm=99, seed=1)


def test_permutation_null_of_separable_classes_gives_the_smallest_p_value():
    res = _null_of_separable_classes()
    assert res.observed[0] == 1.0
    assert res.p_value[0] == 1 / 100
    assert res.null.max() < 0.5


def test_excess_over_null_is_observed_minus_null_mean():
    res = _null_of_separable_classes()
    np.testing.assert_allclose(res.excess_over_null, res.observed - res.null.mean(axis=0))


@pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")
def test_permutation_null_keeps_class_sizes_and_pooled_values():
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 8, 40), rng.integers(4, 12, 25)
    img, labels = _row(a, b)
    res = potcontrast.permutation_null(img, labels, bins=12, range=(0, 12), n_perm=500, seed=2)
    # brute force the same null by explicit permutations of the pooled samples
    pooled = np.concatenate([a, b])
    ref = []
    gen = np.random.default_rng(9)
    for _ in range(4000):
        p = gen.permutation(pooled)
        ref.append(potcontrast.npc_from_samples([p[:40], p[40:]], bins=12, range=(0, 12)))
    # two independent Monte-Carlo means (500 and 4000 permutations): 3 standard errors
    se = np.std(ref) * np.sqrt(1 / 500 + 1 / 4000)
    assert abs(res.null_mean[0] - np.mean(ref)) <= 3 * se


@pytest.mark.parametrize(
    ("k", "n", "m", "warns"),
    [(2, 100, 256, True), (2, 10_000, 16, False), (3, 3000, 256, False), (3, 300, 256, True)],
)
def test_sparse_bins_warning(k, n, m, warns):
    rng = np.random.default_rng(8)
    samples = [rng.normal(0, 1, n) for _ in range(k)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        potcontrast.npc_from_samples(samples, bins=m, range=(-5, 5))
    hits = [w for w in seen if issubclass(w.category, potcontrast.SparseBinsWarning)]
    assert bool(hits) == warns
    if warns:
        assert "permutation_null" in str(hits[0].message)


def _stack():
    rng = np.random.default_rng(10)
    labels = np.repeat(np.arange(1, 4), 200).reshape(20, 30)
    stack = np.stack([rng.normal(labels * s, 1.0) for s in (0.1, 0.5, 1.0)], axis=-1)
    return stack, labels


KW = dict(bins=16, range=(-6, 9))


@pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")
@pytest.mark.parametrize("b", range(3))
def test_stack_permutation_null_equals_band_by_band_calls(b):
    # one vectorised call over a stack gives each band what that band alone would get
    stack, labels = _stack()
    null = potcontrast.permutation_null(stack, labels, n_perm=40, seed=3, **KW)
    alone = potcontrast.permutation_null(stack[..., b], labels, n_perm=40, seed=3, **KW)
    np.testing.assert_array_equal(null.null[:, b], alone.null[:, 0])


@pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")
@pytest.mark.parametrize("b", range(3))
def test_stack_bootstrap_equals_band_by_band_calls(b):
    stack, labels = _stack()
    ci = potcontrast.bootstrap_ci(stack, labels, n_boot=60, seed=3, **KW)
    np.testing.assert_array_equal(
        ci[b], potcontrast.bootstrap_ci(stack[..., b], labels, n_boot=60, seed=3, **KW)[0]
    )


@pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")
def test_generator_seed_gives_every_band_the_same_stream():
    # a generator as seed: one draw makes the root, whatever the number of bands
    stack, labels = _stack()
    a = potcontrast.permutation_null(stack, labels, n_perm=10, seed=np.random.default_rng(1), **KW)
    b = potcontrast.permutation_null(
        stack[..., 2], labels, n_perm=10, seed=np.random.default_rng(1), **KW
    )
    np.testing.assert_array_equal(a.null[:, 2], b.null[:, 0])


def test_null_values_report_their_progress():
    from potcontrast._samples import bin_image
    from potcontrast._stats import null_values

    stack, labels = _stack()
    binned = bin_image(stack, labels, **KW)
    done: list[int] = []
    null = null_values(binned, 40, 3, on_progress=done.append)
    assert sum(done) == 40 * 3 == null.size
