"""Pieces the worker units rely on: relabelled datasets travel as annotations only, and the
T-val choice made per unit then across units equals one pass over every candidate."""

import itertools
import math
import pickle

import pytest
import torch
from lat_detect._experiments.downstream import _better
from lat_detect._experiments.zoo import pack, unpack


def test_a_packed_dataset_pickles_and_unpacks_to_the_same_annotations(tiny_bench):
    src = tiny_bench.sources["B"]
    relabelled = src.with_annotations(
        [(r.boxes + 1, r.labels.clamp(max=4), torch.rand(len(r.labels))) for r in src.records],
        tiny_bench.target_train.space,
    )
    back = unpack(pickle.loads(pickle.dumps(pack(relabelled))), src)
    assert back.space == relabelled.space
    for a, b in zip(back.records, relabelled.records, strict=True):
        assert torch.equal(a.boxes, b.boxes) and torch.equal(a.labels, b.labels)
        assert torch.equal(a.scores, b.scores) and a.image_id == b.image_id
    assert torch.equal(back[0].image, src[0].image)


@pytest.mark.parametrize(
    ("val", "best", "wins"),
    [
        (0.5, 0.4, True),
        (0.4, 0.5, False),
        (0.5, 0.5, False),
        (0.1, math.nan, True),
        (math.nan, 0.1, False),
        (math.nan, math.nan, False),
    ],
)
def test_larger_ap_wins_ties_keep_the_first_and_nan_never_beats_a_number(val, best, wins):
    assert _better(val, best) is wins


def _pick(values):
    best = None
    for v in values:
        if best is None or _better(v, best):
            best = v
    return best


@pytest.mark.parametrize("values", list(itertools.permutations([0.3, math.nan, 0.7, 0.7, 0.1])))
def test_choosing_per_group_then_across_groups_equals_one_pass(values):
    one = _pick(values)
    two = _pick([_pick(values[:2]), _pick(values[2:])])
    assert one == two or (math.isnan(one) and math.isnan(two))
