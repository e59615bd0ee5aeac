"""Conformance with our re-derivation of the authors' per-band scripts (potcontrast._reference) on
cases we generate: 8/12/16-bit and float data, K = 2, 3, 5, stacks, range=None and explicit ranges,
degenerate images, and the reference's silent drop/omit behaviour."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import potcontrast
from potcontrast._reference import reference_class_map, reference_npc

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")

FORMATS = {
    "u8": (np.uint8, 256, (0, 256)),
    "u12": (np.uint16, 4096, (0, 4096)),
    "u16": (np.uint16, 65536, (0, 65536)),
    "f32": (np.float32, None, (-1.0, 3.0)),
    "f64": (np.float64, None, (0.0, 1.0)),
}


def _case(fmt, k, bands, seed):
    dtype, levels, (lo, hi) = FORMATS[fmt]
    rng = np.random.default_rng(seed)
    shape = (37, 41)
    owner = rng.integers(0, k + 2, shape)  # classes 0..K-1, the rest unlabelled
    centre = rng.uniform(0.2, 0.8, (k + 2, bands))
    u = np.clip(centre[owner] + rng.normal(0, 0.15, (*shape, bands)), 0, 1)
    if levels is None:
        img = (lo + u * (hi - lo)).astype(dtype)
    else:
        img = np.minimum(np.floor(u * levels), levels - 1).astype(dtype)
    masks = [(owner == c) & (rng.random(shape) < 0.6) for c in range(k)]
    return img, masks, (lo, hi)


CASES = [
    (fmt, k, bands, rng_kind, m)
    for fmt in FORMATS
    for k, bands, rng_kind, m in [
        (2, 1, "explicit", 256),
        (3, 3, "none", 64),
        (5, 2, "explicit", 16),
    ]
]


@pytest.mark.parametrize(("fmt", "k", "bands", "rng_kind", "m"), CASES)
def test_matches_reference_workflow(fmt, k, bands, rng_kind, m):
    img, masks, (lo, hi) = _case(fmt, k, bands, seed=CASES.index((fmt, k, bands, rng_kind, m)))
    rng_arg = (lo, hi) if rng_kind == "explicit" else None
    stack = img if bands > 1 else img[..., 0]
    res = potcontrast.analyze(stack, masks, bins=m, range=rng_arg)
    cmap = res.class_map(stack)
    cmap = cmap if bands > 1 else cmap[..., None]
    for b in range(bands):
        band = np.ascontiguousarray(img[..., b])
        ref = reference_npc(band, masks, m, rng_arg)
        assert abs(res.npc[b] - ref.npc) <= 1e-12
        assert abs(res.pc[b] - ref.pc) <= 1e-12 * max(
            1.0, float(ref.data_range[1] - ref.data_range[0])
        )
        assert res.range[b].tolist() == [float(ref.data_range[0]), float(ref.data_range[1])]
        np.testing.assert_array_equal(res.histograms[b], np.stack(ref.counts))
        p = res.histograms[b] / res.histograms[b].sum(-1, keepdims=True)
        np.testing.assert_allclose(p, np.stack(ref.distributions), rtol=0, atol=1e-12)
        ref_map = reference_class_map(band, ref)
        np.testing.assert_array_equal(cmap[..., b], ref_map.astype(int))


def test_matches_reference_on_a_16_band_stack_with_labels():
    img, masks, (lo, hi) = _case("u12", 3, 16, seed=7)
    labels = np.zeros(img.shape[:2], int)
    for c, mk in enumerate(masks):
        labels[mk] = c + 1
    got = potcontrast.npc(img, labels, bins=256, range=(lo, hi))
    ref = [
        reference_npc(
            np.ascontiguousarray(img[..., b]), [labels == c + 1 for c in range(3)], 256, (lo, hi)
        ).npc
        for b in range(16)
    ]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_drop_and_omit_reproduce_the_reference_silent_behaviour():
    img, masks, _ = _case("f64", 3, 1, seed=11)
    img = img[..., 0].copy()
    img[masks[0] & (np.arange(img.shape[1])[None, :] < 5)] = 1.7  # above hi = 1.0
    img[masks[1] & (np.arange(img.shape[1])[None, :] < 3)] = np.nan
    ref = reference_npc(img, masks, 64, (0.0, 1.0))
    with pytest.warns(RuntimeWarning, match="left out"):
        res = potcontrast.analyze(
            img, masks, bins=64, range=(0, 1), out_of_range="drop", nan_policy="omit"
        )
    assert abs(res.npc[0] - ref.npc) <= 1e-12
    assert res.n_dropped[0, 0] > 0 and res.n_dropped[0, 1] > 0 and res.n_dropped[0, 2] == 0
    np.testing.assert_array_equal(res.histograms[0], np.stack(ref.counts))


def test_clip_counts_clamped_samples_at_the_ends():
    img, masks, _ = _case("f64", 2, 1, seed=12)
    img = img[..., 0].copy()
    img[masks[0] & (np.arange(img.shape[1])[None, :] < 4)] = 5.0
    with pytest.warns(RuntimeWarning, match="clamped"):
        res = potcontrast.analyze(img, masks, bins=8, range=(0, 1), out_of_range="clip")
    clamped = np.clip(img, 0, 1)
    ref = reference_npc(clamped, masks, 8, (0.0, 1.0))
    np.testing.assert_array_equal(res.histograms[0], np.stack(ref.counts))


def test_reference_answer_depends_on_where_an_empty_class_sits():
    img, masks, _ = _case("u8", 3, 1, seed=13)
    img = img[..., 0]
    empty = np.zeros_like(masks[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_first = reference_npc(img, [empty, masks[1], masks[2]], 16, (0, 256)).npc
        ref_last = reference_npc(img, [masks[1], masks[2], empty], 16, (0, 256)).npc
    # the reference's answer depends on where the empty class sits: NaN first, a number last
    assert np.isnan(ref_first) and np.isfinite(ref_last)


@pytest.mark.parametrize("where", ["first", "last"])
def test_an_empty_class_is_a_clear_error_wherever_it_sits(where):
    img, masks, _ = _case("u8", 3, 1, seed=13)
    img = img[..., 0]
    empty = np.zeros_like(masks[0])
    order = [empty, masks[1], masks[2]] if where == "first" else [masks[1], masks[2], empty]
    with pytest.raises(ValueError, match=r"classes: class .* has no valid sample in band 0"):
        potcontrast.npc(img, order, bins=16, range=(0, 256))


def test_one_class_is_an_assertion_in_the_reference_and_a_clear_error_here():
    img, masks, _ = _case("u8", 3, 1, seed=13)
    img = img[..., 0]
    with pytest.raises(AssertionError):
        reference_npc(img, [masks[0]], 16, (0, 256))
    with pytest.raises(ValueError, match="K >= 2"):
        potcontrast.npc(img, [masks[0]], bins=16, range=(0, 256))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_degenerate_bands_match_reference(dtype):
    img, masks, _ = _case("u8", 3, 3, seed=14)
    img = img.astype(dtype)
    img[..., 1] = 77  # a constant band: range (77, 77) widened by numpy to (76.5, 77.5)
    res = potcontrast.analyze(img, masks, bins=16)
    for b in range(3):
        band = np.ascontiguousarray(img[..., b])
        ref = reference_npc(band, masks, 16, None)
        assert abs(res.npc[b] - ref.npc) <= 1e-12
        np.testing.assert_array_equal(res.histograms[b], np.stack(ref.counts))
        assert res.range[b].tolist() == [float(ref.data_range[0]), float(ref.data_range[1])]
    assert res.npc[1] == 0.0 and res.pc[1] == 0.0


# Class maps of (B, H, W) stacks take the fast lookups: uint8 two pixels at a time, uint16 with
# bins v >> s through 8-bit bins; a value on hi, a range not starting at 0, more than 256 bins or
# an odd pixel count take the general path. Every path gives the reference's map.
@pytest.mark.parametrize(
    ("fmt", "m", "shape", "on_hi", "lo"),
    [
        ("u8", 256, (36, 40), False, 0),
        ("u8", 64, (37, 41), False, 0),
        ("u12", 256, (36, 40), False, 0),
        ("u12", 256, (36, 40), True, 0),
        ("u12", 512, (36, 40), False, 0),
        ("u12", 64, (36, 40), False, 256),
        ("u16", 256, (37, 41), False, 0),
        ("u16", 16, (36, 40), False, 0),
    ],
)
def test_class_map_of_a_contiguous_stack_matches_reference(fmt, m, shape, on_hi, lo):
    dtype, _, (_, hi) = FORMATS[fmt]
    rng = np.random.default_rng(m + shape[0] + on_hi)
    img = rng.integers(lo, hi, (3, *shape)).astype(dtype)
    masks = [rng.random(shape) < 0.2 for _ in range(3)]
    for k, mk in enumerate(masks):
        img[:, mk] = (lo + (img[:, mk].astype(np.int64) - lo) // 2 + k * (hi - lo) // 6).astype(
            dtype
        )
    if on_hi:  # on hi: in the last bin (closed), not outside; class 2 owns that bin
        img[1, masks[2]] = np.where(np.arange(masks[2].sum()) % 2, hi, img[1, masks[2]])
    res = potcontrast.analyze(img, masks, bins=m, range=(lo, hi), band_axis=0)
    cmap = res.class_map(img, band_axis=0)
    for b in range(3):
        ref = reference_npc(img[b], masks, m, (lo, hi))
        np.testing.assert_array_equal(cmap[b], reference_class_map(img[b], ref).astype(int))
