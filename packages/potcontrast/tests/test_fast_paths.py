"""The fast paths of 0.2 against the general computation they replace, on random data and edges.

Each fast path (word-wise selection scan, cached binnings, the (lo, hi) range shortcut, the
integer binning without range checks, W_k by one bincount, the two-pixel class-map table) must
give exactly what the general path gives; each test here fails when its fast path is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

import potcontrast
import potcontrast._classes as classes_module
import potcontrast._kernels as _kernels
import potcontrast._npc as _npc
from potcontrast._binning import _uniform_binning, explicit_ranges, make_binning
from potcontrast._classes import flat_selected
from potcontrast._formula import npc_and_class_of_bin
from potcontrast._reference import reference_class_map, reference_npc
from sciml_core import InputError

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")


# -- the selection scan -------------------------------------------------------------------------
LABEL_DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.int64]


@pytest.mark.parametrize("plain", [4, 64])  # small: every level of the recursion is exercised
@pytest.mark.parametrize("dtype", LABEL_DTYPES)
@pytest.mark.parametrize("density", [0.0, 0.0005, 0.02, 0.5, 1.0])
@pytest.mark.parametrize("n", [0, 5, 1001, 20_003])
def test_scan_selects_what_flatnonzero_selects(monkeypatch, plain, dtype, density, n):
    monkeypatch.setattr(classes_module, "_PLAIN", plain)
    rng = np.random.default_rng(n + int(density * 1e4))
    sel = rng.random(n) < density
    if dtype == np.bool_:
        np.testing.assert_array_equal(flat_selected(sel), np.flatnonzero(sel))
        return
    hi = min(int(np.iinfo(dtype).max), 1000)
    values = np.where(sel, rng.integers(1, hi + 1, n), 0).astype(dtype)
    np.testing.assert_array_equal(flat_selected(values, 0), np.flatnonzero(values))
    # the background in every byte of a word, and one value of the dtype's extremes
    for background in (1, int(np.iinfo(dtype).max), int(np.iinfo(dtype).min)):
        shifted = np.where(sel, values, background).astype(dtype)
        np.testing.assert_array_equal(
            flat_selected(shifted, background), np.flatnonzero(shifted != background)
        )


@pytest.mark.parametrize("dtype", LABEL_DTYPES)
def test_scan_at_image_size_with_the_default_threshold(dtype):
    rng = np.random.default_rng(7)
    n = 520 * 520  # above the default threshold for every dtype: the recursion runs
    sel = rng.random(n) < 0.01
    values = sel if dtype == np.bool_ else (sel * rng.integers(1, 100, n)).astype(dtype)
    background = None if dtype == np.bool_ else 0
    np.testing.assert_array_equal(flat_selected(values, background), np.flatnonzero(values))


@pytest.mark.parametrize("background", [-1, 300, 0.5, np.int64(1 << 40)])
def test_a_background_the_label_dtype_cannot_hold_selects_every_pixel(background):
    labels = np.zeros(100_000, dtype=np.uint8)
    labels[::7] = 3
    np.testing.assert_array_equal(flat_selected(labels, background), np.arange(labels.size))


def test_scan_of_a_non_contiguous_label_image():
    rng = np.random.default_rng(5)
    labels = (rng.random((300, 400)) < 0.01).astype(np.int32) * 2
    view = labels[:, ::2]
    np.testing.assert_array_equal(flat_selected(view.reshape(-1), 0), np.flatnonzero(view))


# -- labels of every integer width on 8-bit and 16-bit data --------------------------------------
def _scene(data_dtype, k, size=(96, 128), seed=0):
    rng = np.random.default_rng(seed)
    top = int(np.iinfo(data_dtype).max)
    img = rng.integers(0, top + 1, (3, *size), dtype=np.int64).astype(data_dtype)
    owner = rng.integers(0, k + 1, size) * (rng.random(size) < 0.05)
    masks = np.stack([owner == c for c in range(1, k + 1)])
    img[:, masks[0]] = top  # the dtype's maximum value: in the last bin
    return img, owner, masks


@pytest.mark.parametrize("data_dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("label_dtype", [np.uint8, np.uint16, np.int32, np.int64])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_labels_of_any_width_equal_masks_and_the_reference(data_dtype, label_dtype, k):
    img, owner, masks = _scene(data_dtype, k, seed=k)
    top = 1 << (8 * np.dtype(data_dtype).itemsize)
    kw = dict(bins=256, range=(0, top), band_axis=0)
    got = potcontrast.analyze(img, owner.astype(label_dtype), **kw)
    want = potcontrast.analyze(img, masks, **kw)
    np.testing.assert_array_equal(got.histograms, want.histograms)
    np.testing.assert_array_equal(got.npc, want.npc)
    ref = [reference_npc(img[b], list(masks), 256, (0, top)).npc for b in range(3)]
    np.testing.assert_allclose(got.npc, ref, rtol=0, atol=1e-12)


def test_a_label_image_of_one_class_is_refused():
    img, _, _ = _scene(np.uint8, 2)
    with pytest.raises(InputError, match="K >= 2"):
        potcontrast.npc(img, np.ones(img.shape[1:], dtype=np.int32), band_axis=0)


def test_every_pixel_labelled_gives_the_masks_answer():
    img, _, _ = _scene(np.uint16, 3, seed=4)
    rng = np.random.default_rng(4)
    owner = rng.integers(1, 4, img.shape[1:]).astype(np.int32)  # no background pixel
    masks = np.stack([owner == c for c in (1, 2, 3)])
    kw = dict(bins=64, range=(0, 65536), band_axis=0)
    np.testing.assert_array_equal(
        potcontrast.npc(img, owner, **kw), potcontrast.npc(img, masks, **kw)
    )


def test_an_empty_mask_is_still_refused():
    img, _, masks = _scene(np.uint8, 3)
    masks[1] = False
    with pytest.raises(InputError, match="no valid sample"):
        potcontrast.npc(img, masks, bins=256, range=(0, 256), band_axis=0)


@pytest.mark.parametrize("data_dtype", [np.uint8, np.uint16])
def test_values_above_a_narrow_range_are_still_refused(data_dtype):
    # the integer binning skips its range check only where the dtype cannot leave the range
    img, owner, _ = _scene(data_dtype, 2)
    with pytest.raises(InputError, match="outside the range"):
        potcontrast.npc(img, owner, bins=16, range=(0, 128), band_axis=0)


@pytest.mark.parametrize(
    ("lo", "hi", "m"), [(0, 256, 256), (0, 255, 255), (0, 256, 64), (0, 512, 128)]
)
def test_uint8_data_bins_as_numpy_histogram_with_255_in_range(lo, hi, m):
    # (0, 256): every uint8 value is inside, no range check; (0, 255): 255 is hi, the last bin
    img, owner, _ = _scene(np.uint8, 2)
    res = potcontrast.analyze(img, owner, bins=m, range=(lo, hi), band_axis=0)
    want = [
        [np.histogram(img[b][owner == c], bins=m, range=(lo, hi))[0] for c in (1, 2)]
        for b in range(3)
    ]
    np.testing.assert_array_equal(res.histograms, want)


# -- W_k by one bincount -------------------------------------------------------------------------
def _npc_by_definition(hist):
    """NPC and the class of each bin straight from the formula, one histogram at a time."""
    hist = np.asarray(hist)
    flat = hist.reshape(-1, *hist.shape[-2:])
    values, classes = [], []
    for h in flat:
        p = h / h.sum(axis=1, keepdims=True)
        values.append((p.max(axis=0).sum() - 1) / (h.shape[0] - 1))
        classes.append(p.argmax(axis=0))
    return np.array(values).reshape(hist.shape[:-2]), np.array(classes).reshape(
        *hist.shape[:-2], hist.shape[-1]
    )


@pytest.mark.parametrize(
    "shape", [(2, 5), (1, 2, 256), (16, 3, 64), (4, 5, 7), (2, 3, 3, 9), (0, 3, 4)]
)
def test_npc_of_integer_counts_matches_the_definition(shape):
    rng = np.random.default_rng(sum(shape))
    hist = rng.integers(0, 6, shape)
    hist[..., 0] += 1  # every class has mass
    hist[..., 1 % shape[-1]] = 0  # an empty bin: ties go to the lowest class
    value, cls = npc_and_class_of_bin(hist)
    want_value, want_cls = _npc_by_definition(hist)
    np.testing.assert_array_equal(cls, want_cls)
    np.testing.assert_allclose(value, want_value, rtol=0, atol=1e-14)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_integer_counts_and_their_probabilities_give_the_same_npc(k):
    # the integer path (bincount of W_k) and the float path (masked sums) agree
    rng = np.random.default_rng(k)
    hist = rng.integers(0, 50, (6, k, 32))
    hist[:, :, 0] += 1
    v_int, c_int = npc_and_class_of_bin(hist)
    v_float, c_float = npc_and_class_of_bin(hist / hist.sum(axis=-1, keepdims=True))
    np.testing.assert_array_equal(c_int, c_float)
    np.testing.assert_allclose(v_int, v_float, rtol=0, atol=1e-14)


def test_one_class_winning_every_bin_gives_zero_and_disjoint_classes_one():
    same = np.array([[3, 1, 4, 1], [3, 1, 4, 1], [6, 2, 8, 2]])
    assert npc_and_class_of_bin(same)[0] == 0.0
    disjoint = np.array([[5, 0, 0], [0, 7, 0], [0, 0, 1]])
    assert npc_and_class_of_bin(disjoint)[0] == 1.0


# -- binnings and ranges ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("from_data", [False, True])
@pytest.mark.parametrize(("lo", "hi", "m"), [(0, 256, 256), (-0.0, 1.0, 10), (3.5, 3.5, 4)])
def test_a_cached_binning_equals_a_fresh_one(dtype, from_data, lo, hi, m):
    first = make_binning(lo, hi, m, np.dtype(dtype), from_data=from_data)
    again = make_binning(lo, hi, m, np.dtype(dtype), from_data=from_data)
    fresh = _uniform_binning(lo, hi, m, np.dtype(dtype), from_data)
    assert again is first
    assert first.edges.dtype == fresh.edges.dtype
    np.testing.assert_array_equal(first.edges, fresh.edges)
    assert (first.lo, first.hi, first.first, first.last) == (
        fresh.lo,
        fresh.hi,
        fresh.first,
        fresh.last,
    )
    assert type(first.first) is type(fresh.first)
    assert not first.edges.flags.writeable  # shared: nobody can change it under another call
    with pytest.raises(ValueError):
        first.edges.flags.writeable = True  # nor make it writeable again
    base = first.edges if first.edges.base is None else first.edges.base
    if isinstance(base, np.ndarray):  # nor through the array it views
        with pytest.raises(ValueError):
            base.flags.writeable = True


def test_a_cached_binning_keeps_the_sign_of_a_zero_end():
    plus = make_binning(0.0, 1.0, 8, np.dtype(np.float64), from_data=False)
    minus = make_binning(-0.0, 1.0, 8, np.dtype(np.float64), from_data=False)
    assert np.signbit(minus.lo) and np.signbit(minus.first)
    assert not (np.signbit(plus.lo) or np.signbit(plus.first))


@pytest.mark.parametrize(
    "rng_arg", [(0, 4096), [0, 256], (0.5, 2.25), (-3, 7.0), (5, 5), (0, 2**53), (-(2**53), 0)]
)
def test_a_python_pair_range_equals_its_array_form(rng_arg):
    fast = explicit_ranges(rng_arg, 3, np.dtype(np.uint16))
    slow = explicit_ranges(np.asarray(rng_arg, dtype=np.float64), 3, np.dtype(np.uint16))
    assert fast.dtype == slow.dtype == np.float64
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize(
    ("rng_arg", "match"),
    [
        ((0, float("inf")), "finite"),
        ((float("nan"), 1), "finite"),
        ((5, 1), "lo <= hi"),
        ((True, 3), None),
        ((0, 10**400), None),
    ],
)
def test_a_python_pair_range_outside_the_shortcut_is_checked_as_before(rng_arg, match):
    try:
        want = explicit_ranges(np.asarray(rng_arg, dtype=object), 2, np.dtype(np.uint8))
    except (InputError, OverflowError) as err:
        with pytest.raises(type(err), match=match):
            explicit_ranges(rng_arg, 2, np.dtype(np.uint8))
    else:
        np.testing.assert_array_equal(explicit_ranges(rng_arg, 2, np.dtype(np.uint8)), want)


# -- the class map's lookups ---------------------------------------------------------------------
@pytest.fixture(params=["numpy", "numba"])
def class_map_path(request, monkeypatch):
    """Run a class-map test through the numpy lookups and through the numba kernel."""
    if request.param == "numba" and not _kernels.available():
        pytest.skip("numba (the [fast] extra) is not installed")
    monkeypatch.setattr(_kernels, "_ENABLED", request.param == "numba")
    return request.param


@pytest.mark.parametrize("data_dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("k", [2, 5])
@pytest.mark.parametrize("shape", [(48, 64), (47, 63)])  # an odd pixel count: no pair lookup
@pytest.mark.parametrize("layout", ["bands first", "bands last"])
def test_class_map_equals_the_reference_map_with_max_value_pixels(
    data_dtype, k, shape, layout, class_map_path
):
    top = 1 << (8 * np.dtype(data_dtype).itemsize)
    rng = np.random.default_rng(k + shape[0])
    img = rng.integers(0, top, (2, *shape), dtype=np.int64).astype(data_dtype)
    owner = rng.integers(1, k + 1, shape) * (rng.random(shape) < 0.3)
    masks = [owner == c for c in range(1, k + 1)]
    img[:, masks[-1]] = top - 1  # the last class owns the top bin
    img[:, 0, :5] = top - 1  # unlabelled pixels at the dtype's maximum
    stack, axis = (img, 0) if layout == "bands first" else (np.moveaxis(img, 0, -1), 2)
    res = potcontrast.analyze(stack, owner, bins=256, range=(0, top), band_axis=axis)
    cmap = np.moveaxis(res.class_map(stack, band_axis=axis), axis, 0)
    for b in range(2):
        ref = reference_npc(img[b], masks, 256, (0, top))
        np.testing.assert_array_equal(cmap[b], reference_class_map(img[b], ref).astype(int))
    assert np.all(cmap[:, 0, :5] == k - 1)


@pytest.mark.parametrize("shape", [(300, 250), (299, 251)])  # 2 chunks of pairs; odd count
@pytest.mark.parametrize(
    "where", ["first chunk", "last chunk", "last pixel above hi", "last pixel on hi", "nowhere"]
)
def test_shifted_class_map_checks_the_range_chunk_by_chunk(shape, where, class_map_path):
    """12-bit data in uint16, bins ``v >> 4``: a chunk holding values on hi (last bin) or above
    it (outside: -1) is mapped by the general path, the other chunks by the shifted lookup;
    every pixel gets the class of its bin, as computed here from the bin edges."""
    lo, hi, m = 0, 4096, 256
    rng = np.random.default_rng(shape[0])
    img = rng.integers(0, hi, shape, dtype=np.int64).astype(np.uint16)
    owner = rng.integers(1, 4, shape) * (rng.random(shape) < 0.2)
    flat = img.reshape(-1)
    assert flat.size // 2 > _npc._SHIFT_CHUNK  # more than one chunk
    spots, values = {
        "first chunk": ([7, 8, 9], [hi, hi + 1, 65535]),
        "last chunk": ([flat.size - 11, flat.size - 10, flat.size - 9], [hi, hi + 1, 65535]),
        "last pixel above hi": ([flat.size - 1], [hi + 1]),  # the odd pixel in (299, 251)
        "last pixel on hi": ([flat.size - 1], [hi]),
        "nowhere": ([], []),
    }[where]
    flat[spots] = values
    owner.reshape(-1)[spots] = 0  # unlabelled: the analysis refuses labelled values above hi
    res = potcontrast.analyze(img, owner, bins=m, range=(lo, hi))
    cmap = res.class_map(img).astype(np.int64)
    v = img.astype(np.int64)
    inside = v <= hi
    bins = np.minimum(v * m // (hi - lo), m - 1)
    want = np.where(inside, res.class_of_bin[0][np.where(inside, bins, 0)], -1)
    np.testing.assert_array_equal(cmap, want)
    assert (cmap == -1).sum() == (v > hi).sum()


def test_kernel_leaves_the_chunks_holding_a_value_at_or_above_hi_to_the_caller():
    pytest.importorskip("numba")
    n = 3 * _kernels._CHUNK + 5  # three whole chunks and a short one
    rng = np.random.default_rng(0)
    src = rng.integers(0, 4096, n).astype(np.uint16)
    src[2 * _kernels._CHUNK + 17] = 4096  # on hi: outside the shifted lookup's reach
    src[-1] = 65535  # in the short last chunk
    table = rng.integers(-1, 3, 256).astype(np.int8)
    dst = np.full(n, 99, dtype=np.int8)
    flagged = _kernels.shifted_classes(src, 4, table, 4096, dst)
    c = _kernels._CHUNK
    assert flagged == [(2 * c, 3 * c), (3 * c, n)]
    done = np.r_[0 : 2 * c]
    np.testing.assert_array_equal(dst[done], table[src[done] >> 4])
    assert (dst[2 * c :] == 99).all()  # left for the caller, untouched
    dst[:] = 99
    assert _kernels.shifted_classes(src[: 2 * c], 4, table, None, dst[: 2 * c]) == []


def test_a_numba_that_does_not_import_falls_back_to_numpy(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "numba":
            raise ImportError("numba built for another numpy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(_kernels, "_ENABLED", True)
    monkeypatch.setattr(_kernels, "_compiled", [])
    monkeypatch.setattr(builtins, "__import__", broken)
    rng = np.random.default_rng(1)
    img = rng.integers(0, 4096, (64, 64)).astype(np.uint16)
    owner = rng.integers(1, 3, img.shape) * (rng.random(img.shape) < 0.3)
    res = potcontrast.analyze(img, owner, bins=256, range=(0, 4096))
    cmap = res.class_map(img)
    np.testing.assert_array_equal(cmap, res.class_of_bin[0][img >> 4])
    assert _kernels.enabled() is False  # switched off for the rest of the process
