"""Every input form gives the same numbers; stacks equal a loop over bands."""

from __future__ import annotations

import numpy as np
import pytest

import potcontrast

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")


def _scene(seed=0, shape=(24, 32), bands=3, k=3):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 4096, (*shape, bands)).astype(np.uint16)
    labels = np.zeros(shape, dtype=np.int32)
    for c in range(1, k + 1):
        idx = rng.choice(shape[0] * shape[1], 60, replace=False)
        labels.reshape(-1)[idx] = 10 * c  # later classes overwrite: labels are disjoint
    return img, labels


def test_every_class_input_form_agrees():
    img, labels = _scene()
    kw = dict(bins=64, range=(0, 4096))
    ref = potcontrast.npc(img, labels, **kw)
    values = np.unique(labels[labels != 0])
    masks = np.stack([labels == v for v in values])
    coords = [np.argwhere(m) for m in masks]
    samples = [img[m] for m in masks]
    np.testing.assert_array_equal(potcontrast.npc(img, masks, **kw), ref)
    np.testing.assert_array_equal(potcontrast.npc(img, list(masks), **kw), ref)
    np.testing.assert_array_equal(potcontrast.npc(img, coords, **kw), ref)
    np.testing.assert_array_equal(potcontrast.npc_from_samples(samples, **kw), ref)
    np.testing.assert_array_equal(potcontrast.npc(img, [masks[0], coords[1], masks[2]], **kw), ref)
    # background other than 0: relabel so that 10 is the background
    shifted = np.where(labels == 0, 99, labels)
    np.testing.assert_array_equal(potcontrast.npc(img, shifted, background=99, **kw), ref)


def test_overlapping_masks_count_a_pixel_for_each_class():
    img, labels = _scene(1)
    a = labels > 0
    b = labels == 20
    samples = [img[a], img[b]]
    np.testing.assert_array_equal(
        potcontrast.npc(img, [a, b], bins=32, range=(0, 4096)),
        potcontrast.npc_from_samples(samples, bins=32, range=(0, 4096)),
    )


@pytest.mark.parametrize("rng_arg", [None, (0, 4096), "dtype"])
def test_stack_equals_loop_over_bands(rng_arg):
    img, labels = _scene(2, bands=4)
    got = potcontrast.npc(img, labels, bins=64, range=rng_arg)
    loop = [potcontrast.npc(img[..., b], labels, bins=64, range=rng_arg) for b in range(4)]
    np.testing.assert_array_equal(got, loop)
    band_first = np.ascontiguousarray(np.moveaxis(img, 2, 0))
    np.testing.assert_array_equal(
        potcontrast.npc(band_first, labels, bins=64, range=rng_arg, band_axis=0), got
    )
    np.testing.assert_array_equal(
        potcontrast.npc(np.moveaxis(img, 2, 1), labels, bins=64, range=rng_arg, band_axis=1), got
    )


def test_class_map_matches_bin_classes_and_marks_out_of_range():
    img, labels = _scene(3, bands=2)
    res = potcontrast.analyze(img, labels, bins=16, range=(0, 4096))
    cmap = res.class_map(img)
    assert cmap.shape == img.shape
    band = np.arange(2)[None, None, :]
    expected = res.class_of_bin[band, img // 256]
    np.testing.assert_array_equal(cmap, expected)
    float_img = img.astype(np.float64) / 4096
    res_f = potcontrast.analyze(float_img, labels, bins=16, range=(0, 1))
    np.testing.assert_array_equal(res_f.class_map(float_img), expected)
    # values below lo get -1 (the reference wraps them to the last bin's class), above hi too
    shifted = float_img - 0.25
    cm = res_f.class_map(shifted)
    inside = shifted >= 0
    assert np.all(cm[~inside] == -1)
    np.testing.assert_array_equal(
        cm[inside], res_f.class_of_bin[band, (shifted * 16).astype(int)][inside]
    )
    narrow = potcontrast.analyze(img, labels, bins=16, range=(0, 4096))
    np.testing.assert_array_equal(narrow.class_map(img + np.uint16(4096))[...], -1)
