"""The laws of NPC (paper §2-§3, spec §1.4): each test asserts what a wrong formula would break."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import potcontrast
from potcontrast._reference import reference_npc, reference_pc_original

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")


@st.composite
def unit_bin_samples(draw, k_max=5, m_max=16, n_max=30):
    """K classes of integer samples in [0, M): with range (0, M) and M bins, bin = value."""
    k = draw(st.integers(2, k_max))
    m = draw(st.integers(1, m_max))
    classes = [
        np.array(draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=n_max)), dtype=np.int64)
        for _ in range(k)
    ]
    return classes, m


def _npc(samples, m):
    return potcontrast.npc_from_samples(samples, bins=m, range=(0, m))


def _as_image(samples):
    """One-row image holding every class's samples, and the K masks that pick them out."""
    img = np.concatenate(samples).astype(np.uint8)[None, :]
    owner = np.repeat(np.arange(len(samples)), [s.size for s in samples])
    return img, [(owner == i)[None, :] for i in range(len(samples))]


def _dists(samples, m):
    return np.stack([np.bincount(s, minlength=m) / s.size for s in samples])


@given(unit_bin_samples())
def test_npc_in_unit_interval(case):
    samples, m = case
    value = _npc(samples, m)
    assert np.isfinite(value)
    assert 0.0 <= value <= 1.0


@given(unit_bin_samples(), st.randoms(use_true_random=False))
def test_npc_invariant_to_class_order(case, rnd):
    samples, m = case
    order = list(range(len(samples)))
    rnd.shuffle(order)
    shuffled = [samples[i] for i in order]
    assert abs(_npc(shuffled, m) - _npc(samples, m)) <= 1e-15
    # class_of_bin relabels with the permutation wherever the bin's maximum is unique.
    p = _dists(samples, m)
    img, masks = _as_image(samples)
    res = potcontrast.analyze(img, masks, bins=m, range=(0, m))
    res_perm = potcontrast.analyze(img, [masks[i] for i in order], bins=m, range=(0, m))
    unique_max = (p == p.max(axis=0)).sum(axis=0) == 1
    mapped = np.array(order)[res_perm.class_of_bin[0]]
    np.testing.assert_array_equal(mapped[unique_max], res.class_of_bin[0][unique_max])


@given(unit_bin_samples(), st.randoms(use_true_random=False))
def test_npc_invariant_to_any_permutation_of_the_bins(case, rnd):
    samples, m = case
    perm = list(range(m))
    rnd.shuffle(perm)
    perm = np.array(perm)
    assert _npc([perm[s] for s in samples], m) == _npc(samples, m)


@given(unit_bin_samples(k_max=2))
def test_two_class_npc_equals_total_variation(case):
    samples, m = case
    p = _dists(samples, m)
    tv = 0.5 * np.abs(p[0] - p[1]).sum()
    assert abs(_npc(samples, m) - tv) <= 1e-12


@given(unit_bin_samples(k_max=2, m_max=12))
def test_two_class_npc_equals_pc_original_over_range(case):
    samples, m = case
    img, masks = _as_image(samples)
    npc_ref, pc_ref, bin_class = reference_pc_original(img, masks, m, (0, m))
    res = potcontrast.analyze(img, masks, bins=m, range=(0, m))
    assert abs(res.npc[0] - npc_ref) <= 1e-12
    assert abs(res.pc[0] - pc_ref) <= 1e-12 * m
    np.testing.assert_array_equal(res.class_of_bin[0], bin_class.astype(int))


@given(unit_bin_samples())
def test_npc_equals_chance_corrected_balanced_accuracy(case):
    samples, m = case
    k = len(samples)
    p = _dists(samples, m)
    # An explicit classifier: each sample gets the class whose histogram is highest at its bin
    # (first maximum), and the balanced accuracy is the mean per-class recall.
    predict = np.array([max(range(k), key=lambda j, b=b: p[j][b]) for b in range(m)])
    recall = [np.mean(predict[s] == i) for i, s in enumerate(samples)]
    ba = float(np.mean(recall))
    value = _npc(samples, m)
    assert abs(value - (k * ba - 1) / (k - 1)) <= 1e-12
    assert abs(value - (1 - k / (k - 1) * (1 - ba))) <= 1e-12


@given(unit_bin_samples(k_max=2, m_max=12))
def test_npc_matches_brute_force_over_binary_transforms(case):
    samples, m = case
    best = max(
        np.mean(np.array(t)[samples[1]]) - np.mean(np.array(t)[samples[0]])
        for t in itertools.product((0.0, 1.0), repeat=m)
    )
    assert abs(_npc(samples, m) - best) <= 1e-12


@given(unit_bin_samples(k_max=3, m_max=7, n_max=12))
def test_npc_matches_brute_force_over_class_maps(case):
    samples, m = case
    k = len(samples)
    best = max(
        np.mean([np.mean(np.array(t)[s] == i) for i, s in enumerate(samples)])
        for t in itertools.product(range(k), repeat=m)
    )
    assert abs(_npc(samples, m) - (k * best - 1) / (k - 1)) <= 1e-12


def test_identical_classes_give_zero():
    a = np.array([0, 1, 1, 2, 3])
    assert _npc([a, a.copy(), a[::-1].copy()], 4) == 0.0


def test_bin_disjoint_classes_give_one():
    assert _npc([np.array([0, 0, 1]), np.array([2, 3]), np.array([5])], 6) == 1.0


@pytest.mark.parametrize("bins_hit", [[0, 0, 0, 0], [0, 0, 1, 1], [0, 1, 2, 2], [0, 1, 2, 3]])
def test_single_pixel_classes_in_d_bins_give_d_minus_one_over_k_minus_one(bins_hit):
    d = len(set(bins_hit))
    assert _npc([np.array([b]) for b in bins_hit], 4) == pytest.approx((d - 1) / 3, abs=1e-15)


def test_multiclass_npc_is_not_the_mean_of_pairwise_values():
    # A = B, C disjoint: NPC_3 = 0.5, while the pairwise values are 0, 1, 1 (not their mean).
    img = np.array([[0, 1, 0, 1, 5, 6]], dtype=np.uint8)
    masks = np.zeros((3, 1, 6), bool)
    masks[0, 0, :2] = masks[1, 0, 2:4] = masks[2, 0, 4:] = True
    res = potcontrast.analyze(img, masks, bins=8, range=(0, 8))
    assert res.npc[0] == 0.5
    np.testing.assert_array_equal(res.pairwise[0], [[0, 0, 1], [0, 0, 1], [1, 1, 0]])


@given(unit_bin_samples(), st.integers(1, 4))
def test_invariant_to_replicating_every_class(case, reps):
    samples, m = case
    assert abs(_npc([np.tile(s, reps) for s in samples], m) - _npc(samples, m)) <= 1e-15


@given(unit_bin_samples(), st.integers(1, 4))
def test_invariant_to_unequal_class_sizes_by_replication(case, reps):
    samples, m = case
    assert abs(_npc([np.tile(samples[0], reps), *samples[1:]], m) - _npc(samples, m)) <= 1e-15


def test_inversion_of_8_bit_data_with_unit_bins_leaves_npc_unchanged():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    labels = rng.integers(0, 4, (30, 40))
    base = potcontrast.npc(img, labels, bins=256, range=(0, 256))
    assert potcontrast.npc(255 - img, labels, bins=256, range=(0, 256)) == base


def _permuted_12_bit():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, (30, 40))
    img12 = rng.integers(0, 4096, (30, 40)).astype(np.uint16)
    perm = rng.permutation(4096).astype(np.uint16)
    return img12, perm, labels


def test_level_permutation_with_unit_bins_leaves_npc_unchanged():
    img12, perm, labels = _permuted_12_bit()
    base12 = potcontrast.npc(img12, labels, bins=4096, range=(0, 4096))
    assert potcontrast.npc(perm[img12], labels, bins=4096, range=(0, 4096)) == base12


def test_level_permutation_that_does_not_map_bins_onto_bins_can_change_npc():
    img12, perm, labels = _permuted_12_bit()
    assert potcontrast.npc(perm[img12], labels, bins=16, range=(0, 4096)) != potcontrast.npc(
        img12, labels, bins=16, range=(0, 4096)
    )


@given(unit_bin_samples(m_max=12))
def test_refinement_never_decreases_npc(case):
    samples, m = case
    rng = np.random.default_rng(m)
    # split every unit bin in two: value v -> 2v or 2v + 1, bins of width 1 on (0, 2M)
    fine = [2 * s + rng.integers(0, 2, s.size) for s in samples]
    coarse = potcontrast.npc_from_samples(fine, bins=m, range=(0, 2 * m))
    assert coarse == pytest.approx(_npc(samples, m), abs=1e-15)
    assert potcontrast.npc_from_samples(fine, bins=2 * m, range=(0, 2 * m)) >= coarse - 1e-15


def test_density_bug_regression():
    # bin-disjoint classes, bin width 16: counts-normalised NPC is exactly 1. A density-normalised
    # histogram sums to 1/16 and would give (2/16 - 1) < 0.
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2048, 500).astype(np.uint16)
    b = rng.integers(2048, 4096, 400).astype(np.uint16)
    assert potcontrast.npc_from_samples([a, b], bins=256, range=(0, 4096)) == 1.0
    dens = [np.histogram(x, bins=256, range=(0, 4096), density=True)[0] for x in (a, b)]
    assert np.maximum(*dens).sum() - 1 == pytest.approx(2 / 16 - 1)


def test_result_is_clipped_only_for_roundoff(monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.normal(size=997)
    lo, hi = rng.uniform(0, 1, 333), rng.uniform(2, 3, 777)
    disjoint = {
        k: [lo, hi, *(rng.uniform(4 + j, 4.9 + j, 101) for j in range(k - 2))] for k in (2, 3, 5)
    }
    # The reference's bin-by-bin float sum drifts past 1 on these cases ...
    drift = []
    for parts in disjoint.values():
        img, masks = _as_image_float(parts)
        drift.append(reference_npc(img, masks, 64, (0, 10)).npc - 1.0)
    assert max(drift) > 0.0
    # ... while ours is exact *without* the final clip (disabled here), so the clip only ever
    # guards round-off: identical classes give exactly 0.0, bin-disjoint ones exactly 1.0.
    monkeypatch.setattr(np, "clip", lambda v, a, b: v)
    for k in (2, 3, 5):
        same = [rng.permutation(x) for _ in range(k)] + [np.tile(x, 3)]
        assert potcontrast.npc_from_samples(same, bins=37) == 0.0
        assert potcontrast.npc_from_samples(disjoint[k], bins=64, range=(0, 10)) == 1.0


def _as_image_float(samples):
    img = np.concatenate(samples)[None, :]
    owner = np.repeat(np.arange(len(samples)), [s.size for s in samples])
    return img, [(owner == i)[None, :] for i in range(len(samples))]


@given(unit_bin_samples())
def test_histogram_entry_point_agrees_on_counts(case):
    samples, m = case
    counts = np.stack([np.bincount(s, minlength=m) for s in samples])
    assert potcontrast.npc_from_histograms(counts) == _npc(samples, m)


@given(unit_bin_samples())
def test_histogram_entry_point_agrees_on_unnormalised_probabilities(case):
    samples, m = case
    counts = np.stack([np.bincount(s, minlength=m) for s in samples])
    assert abs(potcontrast.npc_from_histograms(counts / 7.0) - _npc(samples, m)) <= 1e-15


@given(unit_bin_samples())
def test_histogram_entry_point_takes_its_axes_from_the_caller(case):
    samples, m = case
    counts = np.stack([np.bincount(s, minlength=m) for s in samples])
    assert potcontrast.npc_from_histograms(counts.T, class_axis=-1, bin_axis=0) == _npc(samples, m)


def test_gaussian_closed_form_value():
    assert potcontrast.npc_gaussian(0.0, 1.0, 1.0) == pytest.approx(0.38292492, abs=1e-8)


def test_binned_estimate_approaches_gaussian_closed_form():
    rng = np.random.default_rng(3)
    a = rng.normal(0.0, 1.0, 100_000)
    b = rng.normal(1.0, 1.0, 100_000)
    truth = potcontrast.npc_gaussian(0.0, 1.0, 1.0)
    assert abs(potcontrast.npc_from_samples([a, b], bins=64, range=(-5, 6)) - truth) < 0.01


def test_densities_on_a_grid_give_the_gaussian_closed_form():
    truth = potcontrast.npc_gaussian(0.0, 1.0, 1.0)
    grid = np.linspace(-8, 9, 17001)
    pdfs = np.exp(-0.5 * (grid[None] - np.array([[0.0], [1.0]])) ** 2) / np.sqrt(2 * np.pi)
    assert potcontrast.npc_from_densities(pdfs, grid[1] - grid[0]) == pytest.approx(truth, abs=1e-6)


def _fields_scene():
    rng = np.random.default_rng(4)
    img = rng.integers(0, 64, (40, 50), dtype=np.uint8)
    labels = rng.integers(0, 4, (40, 50))
    return img, labels, potcontrast.analyze(img, labels, bins=16, range=(0, 64))


@pytest.mark.parametrize(("i", "j"), list(itertools.combinations(range(3), 2)))
def test_pairwise_field_is_the_two_class_npc(i, j):
    img, labels, res = _fields_scene()
    two = potcontrast.npc(img, [labels == i + 1, labels == j + 1], bins=16, range=(0, 64))
    assert res.pairwise[0, i, j] == res.pairwise[0, j, i] == pytest.approx(two, abs=1e-15)


def test_balanced_accuracy_field_is_one_plus_k_minus_one_npc_over_k():
    _, _, res = _fields_scene()
    assert res.balanced_accuracy[0] == pytest.approx((1 + 2 * res.npc[0]) / 3, abs=1e-15)


def test_class_labels_field_lists_the_sorted_labels():
    _, _, res = _fields_scene()
    np.testing.assert_array_equal(res.class_labels, [1, 2, 3])
