"""Companion measures: known values, the K = 2 reductions, and KS <= NPC."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

import potcontrast

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")


def _row(*classes):
    img = np.concatenate(classes)[None, :]
    labels = np.repeat(np.arange(1, len(classes) + 1), [c.size for c in classes])[None, :]
    return img, labels


@given(
    st.lists(st.integers(0, 9), min_size=1, max_size=30),
    st.lists(st.integers(0, 9), min_size=1, max_size=30),
)
def test_ks_never_exceeds_npc_and_auc_in_unit_interval(a, b):
    img, labels = _row(np.array(a, np.uint8), np.array(b, np.uint8))
    kw = dict(bins=10, range=(0, 10))
    assert potcontrast.ks_statistic(img, labels, **kw) <= potcontrast.npc(img, labels, **kw) + 1e-15
    assert 0.0 <= potcontrast.auc(img, labels, **kw) <= 1.0


def test_ks_equals_npc_when_one_threshold_is_optimal():
    a, b = np.array([0, 0, 1, 1, 2]), np.array([2, 3, 3, 4, 4])  # p_2 - p_1 changes sign once
    img, labels = _row(a, b)
    kw = dict(bins=5, range=(0, 5))
    assert potcontrast.ks_statistic(img, labels, **kw) == pytest.approx(
        potcontrast.npc(img, labels, **kw)
    )


def test_ks_is_below_npc_when_no_single_threshold_is_optimal():
    img, labels = _row(np.array([0, 4, 0, 4]), np.array([2, 2, 2, 2]))  # middle vs both ends
    kw = dict(bins=5, range=(0, 5))
    assert potcontrast.npc(img, labels, **kw) == 1.0
    assert potcontrast.ks_statistic(img, labels, **kw) == 0.5


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 200_000), rng.normal(2, 1.5, 200_000)
    img, labels = _row(a, b)
    mu1, mu2, s1, s2 = a.mean(), b.mean(), a.std(), b.std()
    bd = 0.25 * (mu1 - mu2) ** 2 / (s1**2 + s2**2) + 0.5 * math.log((s1**2 + s2**2) / (2 * s1 * s2))
    fisher = (mu1 - mu2) ** 2 / (s1**2 + s2**2)
    return img, labels, fisher, bd


KW = dict(bins=64, range=(-10, 12))


def test_fisher_ratio_matches_its_formula(gaussians):
    img, labels, fisher, _ = gaussians
    assert potcontrast.fisher_ratio(img, labels, **KW) == pytest.approx(fisher, rel=1e-10)


def test_gaussian_bhattacharyya_matches_its_formula(gaussians):
    img, labels, _, bd = gaussians
    got = potcontrast.bhattacharyya(img, labels, model="gaussian", **KW)
    assert got == pytest.approx(bd, rel=1e-10)


def test_histogram_bhattacharyya_approaches_the_gaussian_truth(gaussians):
    img, labels, _, _ = gaussians
    truth = 0.25 * 4 / 3.25 + 0.5 * math.log(3.25 / 3)
    assert potcontrast.bhattacharyya(img, labels, **KW) == pytest.approx(truth, abs=0.01)


def test_jeffries_matusita_squared_form(gaussians):
    img, labels, _, bd = gaussians
    jm = potcontrast.jeffries_matusita(img, labels, model="gaussian", **KW)
    assert jm == pytest.approx(2 * (1 - math.exp(-bd)), rel=1e-10)


def test_jeffries_matusita_root_form_is_the_square_root(gaussians):
    img, labels, _, _ = gaussians
    jm = potcontrast.jeffries_matusita(img, labels, model="gaussian", **KW)
    root = potcontrast.jeffries_matusita(img, labels, model="gaussian", form="root", **KW)
    assert root == pytest.approx(math.sqrt(jm), rel=1e-12)


def test_auc_of_two_gaussians_matches_the_closed_form(gaussians):
    # AUC of two Gaussians: Phi((mu2 - mu1) / sqrt(s1^2 + s2^2))
    img, labels, _, _ = gaussians
    auc_truth = 0.5 * (1 + math.erf((2 / math.sqrt(1 + 2.25)) / math.sqrt(2)))
    assert potcontrast.auc(img, labels, bins=4096, range=(-10, 12)) == pytest.approx(
        auc_truth, abs=0.005
    )


# AUC counts a tie (equal bins) as half a win: counting it fully passes every test above
# (the Gaussian case has almost no ties) and fails these two.
@pytest.mark.parametrize("values", [[3], [0, 1, 2, 3], [5, 5, 7, 7, 7, 9], list(range(10)) * 3])
def test_auc_of_two_identical_classes_is_one_half(values):
    a = np.array(values, dtype=np.uint8)
    img, labels = _row(a, a.copy())
    assert potcontrast.auc(img, labels, bins=10, range=(0, 10)) == 0.5


@pytest.mark.parametrize(
    ("n1", "n2", "levels", "seed"), [(50, 80, 4, 0), (200, 150, 3, 1), (31, 400, 8, 2)]
)
def test_auc_equals_mann_whitney_u_over_n1_n2_with_many_ties(n1, n2, levels, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, levels, n1).astype(np.uint8)  # a handful of levels: ties everywhere
    b = rng.integers(1, levels + 1, n2).astype(np.uint8)
    img, labels = _row(a, b)
    # unit bins, so binning changes nothing; U of class 2 over class 1 counts ties by half
    u = mannwhitneyu(b, a, alternative="two-sided", method="asymptotic").statistic
    got = potcontrast.auc(img, labels, bins=levels + 1, range=(0, levels + 1))
    assert got == pytest.approx(u / (n1 * n2), rel=1e-12)


def _three_gaussians():
    rng = np.random.default_rng(1)
    return [rng.normal(m, 1, 500) for m in (0, 1, 3)]


KW3 = dict(bins=16, range=(-6, 9))


def test_multiclass_fisher_is_the_equal_weight_scatter_ratio():
    parts = _three_gaussians()
    mu = np.array([p.mean() for p in parts])
    var = np.array([p.var() for p in parts])
    assert potcontrast.fisher_ratio(*_row(*parts), **KW3) == pytest.approx(
        2 * np.mean((mu - mu.mean()) ** 2) / var.mean(), rel=1e-12
    )


def test_two_class_fisher_is_the_classic_ratio():
    parts = _three_gaussians()
    mu = np.array([p.mean() for p in parts])
    var = np.array([p.var() for p in parts])
    two = potcontrast.fisher_ratio(*_row(parts[0], parts[1]), **KW3)
    assert two == pytest.approx((mu[0] - mu[1]) ** 2 / (var[0] + var[1]), rel=1e-12)


def test_multiclass_bhattacharyya_is_the_mean_over_pairs():
    parts = _three_gaussians()
    pair = [
        potcontrast.bhattacharyya(*_row(parts[i], parts[j]), **KW3)
        for i, j in ((0, 1), (0, 2), (1, 2))
    ]
    assert potcontrast.bhattacharyya(*_row(*parts), **KW3) == pytest.approx(
        np.mean(pair), rel=1e-12
    )


def test_ks_refuses_more_than_two_classes():
    with pytest.raises(ValueError, match="exactly 2 classes"):
        potcontrast.ks_statistic(*_row(*_three_gaussians()), **KW3)


def test_jeffries_matusita_refuses_an_unknown_form():
    with pytest.raises(ValueError, match="form must be"):
        potcontrast.jeffries_matusita(*_row(*_three_gaussians()), form="sqrt", **KW3)
