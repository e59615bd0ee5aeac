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


def _class_inputs(img, labels, kw):
    """The labelled pixels of ``labels`` in every class input form, each as NPC of ``img``."""
    values = np.unique(labels[labels != 0])
    masks = np.stack([labels == v for v in values])
    coords = [np.argwhere(m) for m in masks]
    return {
        "mask stack": lambda: potcontrast.npc(img, masks, **kw),
        "list of masks": lambda: potcontrast.npc(img, list(masks), **kw),
        "coordinates": lambda: potcontrast.npc(img, coords, **kw),
        "samples": lambda: potcontrast.npc_from_samples([img[m] for m in masks], **kw),
        "mixed list": lambda: potcontrast.npc(img, [masks[0], coords[1], masks[2]], **kw),
        # background other than 0: relabel so that 99 is the background
        "background 99": lambda: potcontrast.npc(
            img, np.where(labels == 0, 99, labels), background=99, **kw
        ),
    }


FORMS = ["mask stack", "list of masks", "coordinates", "samples", "mixed list", "background 99"]


@pytest.mark.parametrize("form", FORMS)
def test_every_class_input_form_agrees(form):
    img, labels = _scene()
    kw = dict(bins=64, range=(0, 4096))
    ref = potcontrast.npc(img, labels, **kw)
    np.testing.assert_array_equal(_class_inputs(img, labels, kw)[form](), ref)


def test_overlapping_masks_count_a_pixel_for_each_class():
    img, labels = _scene(1)
    a = labels > 0
    b = labels == 20
    samples = [img[a], img[b]]
    np.testing.assert_array_equal(
        potcontrast.npc(img, [a, b], bins=32, range=(0, 4096)),
        potcontrast.npc_from_samples(samples, bins=32, range=(0, 4096)),
    )


LAYOUTS = {
    "bands first, band_axis=0": lambda img: (np.ascontiguousarray(np.moveaxis(img, 2, 0)), 0),
    "bands in the middle, band_axis=1": lambda img: (np.moveaxis(img, 2, 1), 1),
}


@pytest.mark.parametrize("rng_arg", [None, (0, 4096), "dtype"])
def test_stack_equals_loop_over_bands(rng_arg):
    img, labels = _scene(2, bands=4)
    got = potcontrast.npc(img, labels, bins=64, range=rng_arg)
    loop = [potcontrast.npc(img[..., b], labels, bins=64, range=rng_arg) for b in range(4)]
    np.testing.assert_array_equal(got, loop)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("rng_arg", [None, (0, 4096), "dtype"])
def test_band_axis_names_the_band_axis_of_any_layout(rng_arg, layout):
    img, labels = _scene(2, bands=4)
    moved, axis = LAYOUTS[layout](img)
    np.testing.assert_array_equal(
        potcontrast.npc(moved, labels, bins=64, range=rng_arg, band_axis=axis),
        potcontrast.npc(img, labels, bins=64, range=rng_arg),
    )


def _class_map_scene():
    img, labels = _scene(3, bands=2)
    res = potcontrast.analyze(img, labels, bins=16, range=(0, 4096))
    band = np.arange(2)[None, None, :]
    return img, labels, res.class_of_bin[band, img // 256]


def test_class_map_is_the_class_of_each_pixels_bin():
    img, labels, expected = _class_map_scene()
    cmap = potcontrast.analyze(img, labels, bins=16, range=(0, 4096)).class_map(img)
    assert cmap.shape == img.shape
    np.testing.assert_array_equal(cmap, expected)


def test_class_map_of_float_data_matches_integer_data():
    img, labels, expected = _class_map_scene()
    float_img = img.astype(np.float64) / 4096
    res_f = potcontrast.analyze(float_img, labels, bins=16, range=(0, 1))
    np.testing.assert_array_equal(res_f.class_map(float_img), expected)


def test_class_map_marks_values_below_the_range_minus_one():
    # the reference wraps them to the last bin's class
    img, labels, _ = _class_map_scene()
    float_img = img.astype(np.float64) / 4096
    res_f = potcontrast.analyze(float_img, labels, bins=16, range=(0, 1))
    shifted = float_img - 0.25
    cm = res_f.class_map(shifted)
    inside = shifted >= 0
    band = np.arange(2)[None, None, :]
    assert np.all(cm[~inside] == -1)
    np.testing.assert_array_equal(
        cm[inside], res_f.class_of_bin[band, (shifted * 16).astype(int)][inside]
    )


def test_class_map_marks_values_above_the_range_minus_one():
    img, labels, _ = _class_map_scene()
    narrow = potcontrast.analyze(img, labels, bins=16, range=(0, 4096))
    np.testing.assert_array_equal(narrow.class_map(img + np.uint16(4096))[...], -1)


# The selection scan reads masks eight pixels at a time and labels chunk by chunk; it must give
# np.flatnonzero's answer at every density, at chunk edges and with a ragged tail.
@pytest.mark.parametrize(
    "n", [0, 1, 7, 8, 9, 100, (1 << 16) - 3, (1 << 16) + 5, 3 * (1 << 16) + 13]
)
@pytest.mark.parametrize("density", [0.0, 0.003, 0.3, 1.0])
def test_selected_pixels_are_those_of_flatnonzero(n, density):
    from potcontrast._classes import flat_selected

    rng = np.random.default_rng(n)
    mask = rng.random(n) < density
    np.testing.assert_array_equal(flat_selected(mask), np.flatnonzero(mask))
    labels = (mask * rng.integers(1, 4, n)).astype(np.int16)
    np.testing.assert_array_equal(flat_selected(labels, 0), np.flatnonzero(labels))
    np.testing.assert_array_equal(flat_selected(labels, 2), np.flatnonzero(labels != 2))


@pytest.mark.parametrize("values", [[3, 7, 7, 100_000], [-2, 5, 5, 9], [1, 2, 2, 3]])
def test_label_values_give_classes_in_sorted_order(values):
    # small non-negative labels are counted, others sorted: both give the sorted label values
    labels = np.zeros((4, 5), dtype=np.int64)
    labels.ravel()[[1, 6, 11, 19]] = values
    img = np.arange(20, dtype=np.uint8).reshape(4, 5)
    res = potcontrast.analyze(img, labels, bins=20, range=(0, 20), out_of_range="raise")
    assert res.class_labels.tolist() == sorted(set(values))
    assert res.n_samples[0].tolist() == [values.count(v) for v in sorted(set(values))]
