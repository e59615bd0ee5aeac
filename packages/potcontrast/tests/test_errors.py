"""Every bad input of spec §4.3 raises sciml_core.InputError naming the argument and the culprit."""

from __future__ import annotations

import numpy as np
import pytest

import potcontrast
from sciml_core import InputError

pytestmark = pytest.mark.filterwarnings("ignore::potcontrast.SparseBinsWarning")

IMG = np.arange(60, dtype=np.uint8).reshape(6, 10)
LABELS = np.repeat([1, 2, 0], 20).reshape(6, 10)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: potcontrast.npc(IMG, LABELS == 1), r"classes.*K >= 2"),
        (lambda: potcontrast.npc(IMG, [LABELS == 1]), r"classes.*K >= 2"),
        (lambda: potcontrast.npc(IMG, [LABELS == 1, LABELS == 7]), r"class 1 .*band 0"),
        (
            lambda: potcontrast.npc(IMG, LABELS, range=(0, 30)),
            r"outside the range.*class 2.*band 0",
        ),
        (lambda: potcontrast.npc(IMG, LABELS, range=(0, np.inf)), r"range must be finite"),
        (lambda: potcontrast.npc(IMG, LABELS, range=(5, 1)), r"range must have lo <= hi.*band 0"),
        (lambda: potcontrast.npc(IMG, LABELS, range=(0, 1, 2)), r"range must be"),
        (lambda: potcontrast.npc(IMG, LABELS, range="auto"), r"range must be"),
        (lambda: potcontrast.npc(IMG.astype(float), LABELS, range="dtype"), r'range="dtype"'),
        (lambda: potcontrast.npc(IMG, LABELS, bins=0), r"bins must be >= 1"),
        (
            lambda: potcontrast.npc(IMG.astype(np.float32), LABELS, bins=5000, range=(256, 256.01)),
            r"bins=5000 is too many for the range",
        ),
        (lambda: potcontrast.npc(IMG, LABELS, bins=2.5), r"bins must be"),
        # refused before numpy allocates 10**12 edges (a MemoryError before)
        (
            lambda: potcontrast.npc(IMG, LABELS, bins=10**12),
            r"bins: 1000000000000 bins for 1 band\(s\) and 2 classes .* at most 67,108,864",
        ),
        (
            lambda: potcontrast.npc_from_samples([np.ones((3, 4)), np.zeros((3, 4))], bins=2**24),
            r"bins: 16777216 bins for 4 band\(s\) and 2 classes .* so at most 8,388,608 bins",
        ),
        (lambda: potcontrast.npc(IMG, LABELS, bins=[0, 5, 5, 9]), r"bins.*strictly increasing"),
        (lambda: potcontrast.npc(IMG, LABELS, bins=[0, 9], range=(0, 9)), r"range must be None"),
        (lambda: potcontrast.npc(IMG, LABELS[:5]), r"classes.*\(5, 10\).*\(6, 10\)"),
        (
            lambda: potcontrast.npc(IMG, [LABELS == 1, (LABELS == 2)[:, :9]]),
            r"classes\[1\].*\(6, 9\)",
        ),
        (
            lambda: potcontrast.npc(IMG, [np.array([[0, 0]]), np.array([[6, 0]])]),
            r"classes\[1\].*outside.*\(6, 10\)",
        ),
        (
            lambda: potcontrast.npc(IMG, [LABELS == 1, (LABELS == 2).astype(np.uint8)]),
            r"classes\[1\].*astype\(bool\)",
        ),
        (lambda: potcontrast.npc(IMG, LABELS.astype(float)), r"classes must be"),
        (lambda: potcontrast.npc(IMG.astype(complex), LABELS), r"image must be a real"),
        (lambda: potcontrast.npc(IMG[None, None], LABELS), r"image must be \(H, W\)"),
        (lambda: potcontrast.npc(IMG, LABELS, band_axis=0), r"band_axis=0 given but image is 2-D"),
        (lambda: potcontrast.npc(np.stack([IMG] * 2, -1), LABELS, band_axis=5), r"band_axis"),
        (
            lambda: potcontrast.npc(IMG, LABELS, out_of_range="ignore"),
            r"out_of_range must be one of",
        ),
        (lambda: potcontrast.npc(IMG, LABELS, nan_policy="skip"), r"nan_policy must be one of"),
        (lambda: potcontrast.npc_from_samples([np.ones(3)]), r"samples.*K >= 2"),
        (
            lambda: potcontrast.npc_from_samples([np.ones(3), np.ones((3, 2))]),
            r"samples must all be",
        ),
        (lambda: potcontrast.npc_from_histograms([[1, 2]]), r"hist.*K >= 2"),
        (lambda: potcontrast.npc_from_histograms([[1, 2], [0, 0]]), r"hist: class 1 has zero mass"),
        (lambda: potcontrast.npc_from_histograms([[1, -2], [1, 1]]), r"hist must be non-negative"),
        (lambda: potcontrast.npc_from_histograms([[1, np.nan], [1, 1]]), r"hist must be finite"),
        # an empty class, wherever it sits, raises (a trailing one once vanished: K = 3 -> 2)
        (
            lambda: potcontrast.npc_from_samples([np.ones(3), np.zeros(3), np.zeros(0)]),
            r"samples: class 2 \(index 2\) has no valid sample in band 0",
        ),
        (
            lambda: potcontrast.npc_from_samples([np.zeros(0), np.ones(3), np.zeros(3)]),
            r"samples: class 0 \(index 0\) has no valid sample in band 0",
        ),
        (lambda: potcontrast.npc_from_densities(np.ones((2, 5)), 0.0), r"dx must be"),
        (lambda: potcontrast.npc_from_densities(np.ones((2, 5)), "a"), r"dx must be"),
        (lambda: potcontrast.npc_from_densities(np.ones((1, 5)), 1.0), r"pdfs.*K >= 2"),
        (lambda: potcontrast.npc_from_densities([[1, np.nan], [1, 1]], 1.0), r"pdfs must be fin"),
        (lambda: potcontrast.npc_from_densities([[1, -1], [1, 1]], 1.0), r"pdfs must be non-neg"),
        (lambda: potcontrast.npc_from_densities([[1, 1], [0, 0]], 1.0), r"pdfs: class 1 has zero"),
        (lambda: potcontrast.npc_gaussian(0, 1, 0), r"sigma must be"),
        (lambda: potcontrast.npc_gaussian(0, 1, "x"), r"sigma must be"),
        (lambda: potcontrast.npc_gaussian("x", 1, 1), r"mu1 and mu2 must be finite"),
        (lambda: potcontrast.pc(IMG, LABELS, scale=np.nan), r"scale must be"),
        (lambda: potcontrast.pc(IMG, LABELS, scale="x"), r"scale must be"),
        (lambda: potcontrast.pc(IMG, LABELS, scale=-255), r"scale must be a finite number > 0"),
        (lambda: potcontrast.permutation_null(IMG, LABELS, n_perm=0), r"n_perm must be"),
        (lambda: potcontrast.bootstrap_ci(IMG, LABELS, n_boot=-1), r"n_boot must be"),
        (lambda: potcontrast.bootstrap_ci(IMG, LABELS, level=1.0), r"level must be in"),
        (
            lambda: potcontrast.analyze(IMG, LABELS).class_map(np.stack([IMG] * 2, -1)),
            r"2 bands.*1",
        ),
    ],
)
def test_errors_name_the_problem(call, pattern):
    with pytest.raises(InputError, match=pattern):
        call()


def _stack_with_nan():
    img = np.stack([IMG, IMG], -1).astype(np.float64)
    img[0, 3, 1] = np.nan  # a labelled pixel of class 1 in band 1
    return img


def test_nan_sample_error_names_band_and_class():
    with pytest.raises(InputError, match=r"NaN.*class 1 in band 1.*nan_policy='omit'"):
        potcontrast.npc(_stack_with_nan(), LABELS, range=(0, 60))


def test_nan_in_the_band_makes_range_none_an_error_naming_the_band():
    with pytest.raises(InputError, match=r"range=None: band 1 .*NaN"):
        potcontrast.npc(_stack_with_nan(), LABELS)


def test_nan_omit_leaves_the_nan_sample_out_with_a_warning():
    with pytest.warns(RuntimeWarning, match="nan_policy='omit'"):
        value = potcontrast.npc(_stack_with_nan(), LABELS, range=(0, 60), nan_policy="omit", bins=4)
    assert value[1] == potcontrast.npc_from_samples(
        [np.delete(IMG[LABELS == 1], 3), IMG[LABELS == 2]], bins=4, range=(0, 60)
    )


def test_inf_in_the_band_makes_range_none_an_error_naming_the_band():
    img = _stack_with_nan()
    img[0, 0, 0] = np.inf
    with pytest.raises(InputError, match=r"range=None: band 0 .*inf"):
        potcontrast.npc(img, LABELS, nan_policy="omit")


def test_out_of_range_error_counts_samples():
    with pytest.raises(
        InputError,
        match=r"19 labelled samples lie outside the range \(e\.g\. 10 of class 1 in band 0",
    ):
        potcontrast.npc(IMG, LABELS, range=(10, 30), bins=4)


def test_nan_omit_with_range_none_ignores_nan_for_the_range():
    img = IMG.astype(np.float64)
    img[5, 9] = np.nan  # an unlabelled pixel: only the band's range sees it
    img[0, 0] = np.nan  # a labelled pixel of class 1
    with pytest.warns(RuntimeWarning, match="left out 1 NaN samples"):
        res = potcontrast.analyze(img, LABELS, bins=4, nan_policy="omit")
    np.testing.assert_array_equal(res.range, [[1.0, 58.0]])
    np.testing.assert_array_equal(res.n_dropped, [[1, 0]])
