"""Bin assignment equals np.histogram exactly (spec §1.2), and the range rules (spec §1.6)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import potcontrast
from potcontrast._binning import make_binning
from sciml_core import InputError

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")


def _counts(values, lo, hi, m, *, from_data=False):
    bn = make_binning(lo, hi, m, values.dtype, from_data=from_data)
    idx = bn.indices(values)
    return np.bincount(idx[idx >= 0], minlength=m), bn


@st.composite
def float_case(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    m = draw(st.integers(1, 300))
    lo = float(np.float32(draw(st.floats(-1e3, 1e3))))
    hi = float(np.float32(lo + draw(st.floats(1e-3, 1e3))))
    edges = np.linspace(lo, hi, m + 1).astype(dtype)
    # values on edges, just beside them, at lo/hi, outside, and random inside
    near = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)])
    u = np.array(draw(st.lists(st.floats(0, 1), max_size=50)))
    values = np.concatenate([near, lo - 1 + u * (hi - lo + 2)]).astype(dtype)
    return values, float(lo), hi, m


@given(float_case())
def test_binning_matches_numpy_histogram_float32_and_float64(case):
    values, lo, hi, m = case
    try:
        ref = np.histogram(values, bins=m, range=(lo, hi))[0]
    except ValueError:  # numpy: too many bins for the range in this dtype; so do we
        with pytest.raises(InputError, match="too many"):
            _counts(values, lo, hi, m)
        return
    got, _ = _counts(values, lo, hi, m)
    np.testing.assert_array_equal(got, ref)


@given(float_case())
def test_binning_matches_numpy_histogram_with_data_range(case):
    values, _, _, m = case
    lo, hi = values.min(), values.max()  # numpy scalars of the data's dtype, as range=None
    try:
        ref, ref_edges = np.histogram(values, bins=m, range=(lo, hi))
    except ValueError:  # numpy: too many bins for the range in this dtype; so do we
        with pytest.raises(InputError, match="too many"):
            _counts(values, float(lo), float(hi), m, from_data=True)
        return
    got, bn = _counts(values, float(lo), float(hi), m, from_data=True)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(bn.edges, ref_edges)
    assert bn.edges.dtype == ref_edges.dtype


@given(
    st.sampled_from([np.uint8, np.uint16, np.int16, np.int32]),
    st.sampled_from([(0, 256, 256), (0, 256, 64), (0, 4096, 256), (-512, 512, 16), (0, 255, 16)]),
    st.integers(0, 2**32 - 1),
)
def test_integer_fast_path_matches_general_path_and_numpy(dtype, rng_args, seed):
    lo, hi, m = rng_args
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    values = rng.integers(max(info.min, lo - 3), min(info.max, hi + 3), 500, endpoint=True)
    values = values.astype(dtype)
    bn = make_binning(lo, hi, m, values.dtype, from_data=False)
    fast = bn.indices(values)
    general = bn._uniform_indices(values)
    np.testing.assert_array_equal(fast, general)
    got = np.bincount(fast[fast >= 0], minlength=m)
    np.testing.assert_array_equal(got, np.histogram(values, bins=m, range=(lo, hi))[0])
    if (hi - lo) % m == 0 and ((hi - lo) // m) & ((hi - lo) // m - 1) == 0:
        assert bn.integer_shift(values.dtype) is not None


@given(
    st.lists(st.floats(-10, 10, width=32), min_size=2, max_size=12, unique=True),
    st.sampled_from([np.float32, np.float64, np.int16]),
)
def test_explicit_edges_match_numpy_histogram(edges, dtype):
    edges = np.sort(np.array(edges))
    values = np.concatenate([edges, np.linspace(-11, 11, 97)]).astype(dtype)
    m = edges.size - 1
    bn = make_binning(0, 0, edges, values.dtype, from_data=False)
    idx = bn.indices(values)
    got = np.bincount(idx[idx >= 0], minlength=m)
    np.testing.assert_array_equal(got, np.histogram(values, bins=edges)[0])


def test_range_none_uses_whole_band_not_samples():
    rng = np.random.default_rng(0)
    img = rng.integers(50, 200, (20, 30, 2)).astype(np.uint8)
    img[0, 0, 0], img[-1, -1, 0] = 3, 250  # extremes only at unlabelled pixels
    img[0, 0, 1], img[-1, -1, 1] = 40, 222
    labels = np.zeros((20, 30), int)
    labels[5:10, 5:10], labels[12:16, 20:25] = 1, 2
    res = potcontrast.analyze(img, labels, bins=16)
    np.testing.assert_array_equal(res.range, [[3, 250], [40, 222]])
    samples = [img[labels == 1], img[labels == 2]]
    from_samples = potcontrast.npc_from_samples(samples, bins=16)
    own = np.array([[s[:, b].min() for s in samples] for b in range(2)]).min(axis=1)
    assert not np.all(own == [3, 40])
    for b in range(2):
        lo = min(s[:, b].min() for s in samples)
        hi = max(s[:, b].max() for s in samples)
        assert from_samples[b] == potcontrast.npc_from_samples(
            [s[:, b] for s in samples], bins=16, range=(float(lo), float(hi))
        )


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.uint16, [0, 65536]), (np.uint8, [0, 256]), (np.int8, [-128, 128])],
)
def test_range_dtype_rule(dtype, expected):
    img = np.array([[0, 1], [2, 3]], dtype=dtype)
    masks = np.array([[[1, 1], [0, 0]], [[0, 0], [1, 1]]], bool)
    np.testing.assert_array_equal(
        potcontrast.analyze(img, masks, bins=4, range="dtype").range, [expected]
    )


def test_range_dtype_is_refused_for_float_images():
    img = np.array([[0, 1], [2, 3]], dtype=np.float32)
    masks = np.array([[[1, 1], [0, 0]], [[0, 0], [1, 1]]], bool)
    with pytest.raises(ValueError, match="range"):
        potcontrast.npc(img, masks, range="dtype")


def test_constant_band_gives_zero_npc_and_pc():
    img = np.full((10, 10), 1234, dtype=np.uint16)
    labels = np.repeat([1, 2], 50).reshape(10, 10)
    res = potcontrast.analyze(img, labels, bins=16)
    assert res.npc[0] == 0.0 and res.pc[0] == 0.0


def test_degenerate_range_is_kept_and_its_edges_widened_by_half():
    img = np.full((10, 10), 1234, dtype=np.uint16)
    labels = np.repeat([1, 2], 50).reshape(10, 10)
    res = potcontrast.analyze(img, labels, bins=16)
    np.testing.assert_array_equal(res.range, [[1234, 1234]])
    np.testing.assert_array_equal(res.bin_edges[0, [0, -1]], [1233.5, 1234.5])


def test_explicit_degenerate_range_gives_zero():
    img7 = np.full((10, 10), 7, dtype=np.uint16)
    labels = np.repeat([1, 2], 50).reshape(10, 10)
    assert potcontrast.npc(img7, labels, bins=16, range=(7, 7)) == 0.0


def test_per_band_ranges():
    rng = np.random.default_rng(5)
    img = rng.uniform(0, 1, (10, 12, 3))
    labels = rng.integers(0, 3, (10, 12))
    per_band = np.array([[0, 1], [-1, 2], [0, 4]])
    got = potcontrast.npc(img, labels, bins=8, range=per_band)
    for b in range(3):
        assert got[b] == potcontrast.npc(img[..., b], labels, bins=8, range=tuple(per_band[b]))


def _unique_scene():
    rng = np.random.default_rng(9)
    img = rng.integers(0, 4096, (30, 40, 3)).astype(np.uint16)
    img[..., 2] //= 512  # a band with few distinct values: padded to the common M
    labels = rng.integers(0, 4, (30, 40))
    return img, labels, rng


def test_unique_bins_equal_unit_bins_for_integer_data():
    img, labels, _ = _unique_scene()
    unit = [potcontrast.npc(img[..., b], labels, bins=4096, range=(0, 4096)) for b in range(3)]
    got = potcontrast.npc(img, labels, bins="unique")
    np.testing.assert_allclose(got, unit, rtol=0, atol=1e-15)


def test_unique_bins_are_invariant_to_a_level_permutation():
    img, labels, rng = _unique_scene()
    got = potcontrast.npc(img, labels, bins="unique")
    perm = rng.permutation(4096).astype(np.uint16)
    np.testing.assert_array_equal(potcontrast.npc(perm[img], labels, bins="unique"), got)


def test_unique_bins_count_every_labelled_sample():
    img, labels, _ = _unique_scene()
    res = potcontrast.analyze(img, labels, bins="unique")
    assert res.histograms.sum(axis=(1, 2)).tolist() == [np.count_nonzero(labels)] * 3


@pytest.mark.parametrize("band", range(3))
def test_unique_bins_range_is_the_samples_min_max(band):
    img, labels, _ = _unique_scene()
    res = potcontrast.analyze(img, labels, bins="unique")
    u = np.unique(img[..., band][labels > 0])
    assert res.range[band].tolist() == [u[0], u[-1]]


@pytest.mark.parametrize("band", range(3))
def test_unique_bins_match_numpy_histogram_and_pad_with_empty_bins(band):
    img, labels, _ = _unique_scene()
    res = potcontrast.analyze(img, labels, bins="unique")
    u = np.unique(img[..., band][labels > 0])
    # the reference's own np.histogram on these edges gives the same counts
    edges = np.append(u, u[-1])
    for k in range(3):
        ref = np.histogram(img[..., band][labels == k + 1], bins=edges)[0]
        np.testing.assert_array_equal(res.histograms[band, k, : u.size], ref)
    assert res.histograms[band, :, u.size :].sum() == 0


def test_unique_bins_class_map_uses_each_levels_bin():
    img, labels, _ = _unique_scene()
    res = potcontrast.analyze(img, labels, bins="unique")
    cmap = res.class_map(img)
    inside = labels > 0
    np.testing.assert_array_equal(
        cmap[..., 0][inside],
        res.class_of_bin[0][np.searchsorted(np.unique(img[..., 0][inside]), img[..., 0][inside])],
    )


def test_unique_bins_refuse_an_explicit_range():
    img, labels, _ = _unique_scene()
    with pytest.raises(
        InputError, match='range must be None when bins is an array of edges or "unique"'
    ):
        potcontrast.npc(img, labels, bins="unique", range=(0, 4096))


def test_bins_refuses_an_unknown_string():
    img, labels, _ = _unique_scene()
    with pytest.raises(InputError, match="bins must be"):
        potcontrast.npc(img, labels, bins="auto")
