"""The synthetic manuscript follows the README's physical story, band by band.

The story: bleed-through is the back page's ink seen through the parchment, so it is a weaker
copy of the ink in every band; it grows from the UV into the red as the parchment turns
translucent, and both ink and bleed-through fade in the near infrared, where iron-gall ink stops
absorbing. Measured on the generated pixels (all pixels of each true class), after illumination,
blur, noise and quantisation.
"""

from __future__ import annotations

import numpy as np
import pytest

from potcontrast._experiments.synthetic import PHYSICS, manuscript


def _contrasts(seed):
    ms = manuscript(96, 12, per_class=10, seed=seed)
    means = np.array(
        [[ms.stack[..., b][ms.truth == c].mean() for c in range(3)] for b in range(12)]
    )
    ink = means[:, 0] - means[:, 1]  # parchment - ink
    bleed = means[:, 0] - means[:, 2]  # parchment - bleed-through
    return ms.wavelengths, ink, bleed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleed_through_is_weaker_than_ink_in_every_band(seed):
    _, ink, bleed = _contrasts(seed)
    assert np.all(ink > bleed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleed_through_grows_from_the_uv_into_the_red(seed):
    wl, _, bleed = _contrasts(seed)
    rising = bleed[wl <= 700]  # the parchment turns translucent (translucency mid 550 nm)
    assert np.all(np.diff(rising) > 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ink_and_bleed_through_fade_in_the_near_infrared(seed):
    wl, ink, bleed = _contrasts(seed)
    nir = wl >= PHYSICS.ink_fade_nm  # iron-gall ink stops absorbing
    assert np.all(np.diff(ink[nir]) < 0) and np.all(np.diff(bleed[nir]) < 0)
    assert ink[-1] < 0.5 * ink.max()
