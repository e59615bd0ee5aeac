"""Companion measures: known values, the K = 2 reductions, and KS <= NPC."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def test_ks_equals_npc_when_one_threshold_is_optimal_and_not_otherwise():
    a, b = np.array([0, 0, 1, 1, 2]), np.array([2, 3, 3, 4, 4])  # p_2 - p_1 changes sign once
    img, labels = _row(a, b)
    kw = dict(bins=5, range=(0, 5))
    assert potcontrast.ks_statistic(img, labels, **kw) == pytest.approx(
        potcontrast.npc(img, labels, **kw)
    )
    img2, labels2 = _row(np.array([0, 4, 0, 4]), np.array([2, 2, 2, 2]))  # middle vs both ends
    assert potcontrast.npc(img2, labels2, **kw) == 1.0
    assert potcontrast.ks_statistic(img2, labels2, **kw) == 0.5


def test_gaussian_measures_match_closed_forms():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 200_000), rng.normal(2, 1.5, 200_000)
    img, labels = _row(a, b)
    kw = dict(bins=64, range=(-10, 12))
    mu1, mu2, s1, s2 = a.mean(), b.mean(), a.std(), b.std()
    fisher = (mu1 - mu2) ** 2 / (s1**2 + s2**2)
    assert potcontrast.fisher_ratio(img, labels, **kw) == pytest.approx(fisher, rel=1e-10)
    bd = 0.25 * (mu1 - mu2) ** 2 / (s1**2 + s2**2) + 0.5 * math.log((s1**2 + s2**2) / (2 * s1 * s2))
    got = potcontrast.bhattacharyya(img, labels, model="gaussian", **kw)
    assert got == pytest.approx(bd, rel=1e-10)
    # the histogram model approaches the Gaussian truth (0.25*4/3.25 + 0.5 ln(3.25/3))
    truth = 0.25 * 4 / 3.25 + 0.5 * math.log(3.25 / 3)
    assert potcontrast.bhattacharyya(img, labels, **kw) == pytest.approx(truth, abs=0.01)
    jm = potcontrast.jeffries_matusita(img, labels, model="gaussian", **kw)
    assert jm == pytest.approx(2 * (1 - math.exp(-bd)), rel=1e-10)
    root = potcontrast.jeffries_matusita(img, labels, model="gaussian", form="root", **kw)
    assert root == pytest.approx(math.sqrt(jm), rel=1e-12)
    # AUC of two Gaussians: Phi((mu2 - mu1) / sqrt(s1^2 + s2^2))
    auc_truth = 0.5 * (1 + math.erf((2 / math.sqrt(1 + 2.25)) / math.sqrt(2)))
    assert potcontrast.auc(img, labels, bins=4096, range=(-10, 12)) == pytest.approx(
        auc_truth, abs=0.005
    )


def test_multiclass_fisher_and_pairwise_means():
    rng = np.random.default_rng(1)
    parts = [rng.normal(m, 1, 500) for m in (0, 1, 3)]
    img, labels = _row(*parts)
    kw = dict(bins=16, range=(-6, 9))
    two = potcontrast.fisher_ratio(*_row(parts[0], parts[1]), **kw)
    mu = np.array([p.mean() for p in parts])
    var = np.array([p.var() for p in parts])
    assert potcontrast.fisher_ratio(img, labels, **kw) == pytest.approx(
        2 * np.mean((mu - mu.mean()) ** 2) / var.mean(), rel=1e-12
    )
    assert two == pytest.approx((mu[0] - mu[1]) ** 2 / (var[0] + var[1]), rel=1e-12)
    pair = [
        potcontrast.bhattacharyya(*_row(parts[i], parts[j]), **kw)
        for i, j in ((0, 1), (0, 2), (1, 2))
    ]
    assert potcontrast.bhattacharyya(img, labels, **kw) == pytest.approx(np.mean(pair), rel=1e-12)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        potcontrast.ks_statistic(img, labels, **kw)
    with pytest.raises(ValueError, match="form must be"):
        potcontrast.jeffries_matusita(img, labels, form="sqrt", **kw)
