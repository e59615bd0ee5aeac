"""`generate(..., input_resolution=)`: the grid the random input is drawn on, so that the levels of
a multilevel data set can be generated apart from its finest level."""

import pytest
import torch

from fno_conserve import generate, restrict
from sciml_core import InputError

FAST = {"burgers": {"t_final": 0.1}, "heat": {}, "darcy": {}}


@pytest.mark.parametrize(
    ("pde", "levels", "fine"),
    [("darcy", (8, 16), 32), ("darcy", (8,), 32), ("heat", (16,), 32), ("burgers", (8, 16), 32)],
)
def test_level_generated_alone_equals_the_same_level_of_the_full_hierarchy(pde, levels, fine):
    kw = dict(seed=5, hierarchy="resolve", show_progress=False, offset=3, **FAST[pde])
    full = generate(pde, 3, fine, resolutions=(*levels, fine), **kw)
    alone = generate(pde, 3, max(levels), resolutions=levels, input_resolution=fine, **kw)
    for j in range(len(levels)):
        assert torch.equal(alone[j]["x"], full[j]["x"])
        assert torch.equal(alone[j]["y"], full[j]["y"])


@pytest.mark.parametrize("hierarchy", ["restrict", "resolve"])
def test_default_input_resolution_is_the_finest_level(hierarchy):
    kw = dict(seed=1, hierarchy=hierarchy, show_progress=False)
    a = generate("darcy", 2, 16, resolutions=(8, 16), **kw)
    b = generate("darcy", 2, 16, resolutions=(8, 16), input_resolution=16, **kw)
    for la, lb in zip(a, b, strict=True):
        assert torch.equal(la["x"], lb["x"]) and torch.equal(la["y"], lb["y"])
    assert a[0]["meta"]["input_resolution"] == 16


def test_darcy_coefficient_drawn_on_a_coarser_grid_is_piecewise_constant_on_it():
    fine = generate("darcy", 2, 16, seed=2, input_resolution=8, show_progress=False)
    coarse = generate("darcy", 2, 8, seed=2, show_progress=False)
    assert torch.equal(restrict(fine["x"], 2, "average"), coarse["x"])
    assert torch.equal(fine["x"][..., ::2, ::2], fine["x"][..., 1::2, 1::2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(input_resolution=3), "input_resolution: expected an integer >= 4"),
        (dict(input_resolution=24), "input_resolution: every level must divide it"),
        (dict(input_resolution=16.0), "input_resolution: expected an integer"),
    ],
)
def test_bad_input_resolution_is_refused_naming_it(kwargs, match):
    with pytest.raises(InputError, match=match):
        generate("darcy", 1, 16, resolutions=(8, 16), show_progress=False, **kwargs)
