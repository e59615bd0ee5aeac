"""The authors' reference scripts at b7f6c34, run on 18 cases (tests/fixtures/README.md): we match
NPC, PC, the resolved and histogram ranges, counts, distributions and class of each bin."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import potcontrast

from .conftest import FIXTURES

META = json.loads((FIXTURES / "expected.json").read_text())
CASES = sorted(META["cases"])
ATOL = META["tolerance"]["atol"]


def _load(name):
    case = META["cases"][name]
    with np.load(FIXTURES / case["file"]) as d:
        image, masks = d["image"], d["masks"]
    rng = None if case["data_range_arg"] is None else tuple(case["data_range_arg"])
    return case, image, masks, rng


def _per_band(case, key):
    value = case[key]
    return value if case["band_axis"] is not None else [value]


def test_fixture_set_is_complete():
    assert len(CASES) == 18
    assert META["reference"]["commit"].startswith("b7f6c34")


@pytest.mark.parametrize("name", CASES)
def test_fixture_matches_reference(name):
    case, image, masks, rng = _load(name)
    kw = dict(bins=case["num_bins"], range=rng, band_axis=case["band_axis"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", potcontrast.SparseBinsWarning)
        got = potcontrast.npc(image, list(masks), **kw)
        res = potcontrast.analyze(image, masks, **kw)
        got_pc = potcontrast.pc(image, masks, **kw)
    np.testing.assert_allclose(got, case["npc"], rtol=0, atol=ATOL)
    # PC = NPC (hi - lo): the reference's own NPC round-off (~1e-15) is scaled by hi - lo (up to
    # 65536), so PC is compared at 1e-12 relative to the scale, i.e. NPC to 1e-12.
    scale = res.range[:, 1] - res.range[:, 0]
    np.testing.assert_allclose(
        np.atleast_1d(got_pc) / np.maximum(scale, 1),
        np.atleast_1d(case["pc"]) / np.maximum(scale, 1),
        rtol=0,
        atol=ATOL,
    )
    np.testing.assert_array_equal(res.range, np.array(_per_band(case, "data_range")))
    hist_range = np.array(_per_band(case, "histogram_range"))
    np.testing.assert_array_equal(res.bin_edges[:, [0, -1]], hist_range)
    np.testing.assert_array_equal(res.histograms, np.array(_per_band(case, "counts")))
    np.testing.assert_array_equal(res.class_of_bin, np.array(_per_band(case, "bin_class")))
    if "pc_original" in case:
        np.testing.assert_allclose(got, case["pc_original"]["npc"], rtol=0, atol=ATOL)
        np.testing.assert_array_equal(
            res.class_of_bin,
            np.array(
                _per_band(case["pc_original"] | {"band_axis": case["band_axis"]}, "bin_class")
            ),
        )
    if "distributions" in case:
        p = res.histograms / res.histograms.sum(-1, keepdims=True)
        np.testing.assert_allclose(
            p, np.array(_per_band(case, "distributions")), rtol=0, atol=1e-12
        )
    np.testing.assert_array_equal(res.n_samples[0], case["n_samples_per_class"])
