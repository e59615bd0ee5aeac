import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from lat_detect import PrivilegedProposalGenerator
from torchvision.ops import box_iou

from sciml_core import InputError

GT = torch.tensor([[10.0, 12.0, 40.0, 30.0], [50.0, 50.0, 60.0, 80.0], [5.0, 60.0, 30.0, 70.0]])
LABELS = torch.tensor([1, 2, 1])
PL = (
    torch.tensor([[0.0, 0.0, 20.0, 20.0], [30.0, 30.0, 90.0, 90.0]]),
    torch.tensor([5, 6]),
    torch.tensor([0.9, 0.6]),
)


@given(j=st.floats(0.0, 0.2), drop=st.floats(0.0, 0.9), seed=st.integers(0, 2**31))
def test_ppg_proposals_contain_gt_under_jitter_bounds(j, drop, seed):
    ppg = PrivilegedProposalGenerator(jitter=j, drop=drop)
    p = ppg(GT, LABELS, PL, image_size=(96, 96), generator=torch.Generator().manual_seed(seed))
    gt_props = p.boxes[p.is_gt]
    src = GT[p.gt_index[p.is_gt]]
    assert len(gt_props) >= 1  # keep_one
    w = (src[:, 2] - src[:, 0])[:, None]
    h = (src[:, 3] - src[:, 1])[:, None]
    moved = (gt_props - src).abs()
    assert bool((moved[:, 0::2] <= j * w + 1e-4).all()) and bool(
        (moved[:, 1::2] <= j * h + 1e-4).all()
    )
    iou = box_iou(gt_props, src).diagonal()
    assert bool((iou >= ((1 - 2 * j) / (1 + 2 * j)) ** 2 - 1e-6).all())
    assert torch.equal(p.labels[p.is_gt], LABELS[p.gt_index[p.is_gt]])


def test_zero_jitter_and_drop_give_the_gt():
    p = PrivilegedProposalGenerator(jitter=0.0, drop=0.0)(GT, LABELS, image_size=(96, 96))
    assert torch.equal(p.boxes, GT) and bool(p.is_gt.all()) and torch.equal(p.conf, torch.ones(3))


def test_pseudo_labels_pass_unchanged():
    p = PrivilegedProposalGenerator()(
        GT, LABELS, PL, image_size=(96, 96), generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(p.boxes[~p.is_gt], PL[0])
    assert torch.equal(p.labels[~p.is_gt], PL[1])
    assert torch.equal(p.conf[~p.is_gt], PL[2])


def test_same_seed_same_proposals():
    ppg = PrivilegedProposalGenerator(drop=0.5)
    a = ppg(GT, LABELS, PL, image_size=(96, 96), generator=torch.Generator().manual_seed(3))
    b = ppg(GT, LABELS, PL, image_size=(96, 96), generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.boxes, b.boxes) and torch.equal(a.gt_index, b.gt_index)


def test_proposals_carry_no_gradient():
    gt = GT.clone().requires_grad_(True)
    p = PrivilegedProposalGenerator()(gt, LABELS, image_size=(96, 96))
    assert not p.boxes.requires_grad


@pytest.mark.parametrize(
    "gt,pl,expected",
    [
        (torch.zeros((0, 4)), PL, 2),
        (GT, None, 3),
        (torch.zeros((0, 4)), None, 0),
    ],
)
def test_zero_gt_or_zero_pseudo_labels_work(gt, pl, expected):
    labels = torch.ones(len(gt), dtype=torch.long)
    p = PrivilegedProposalGenerator(drop=0.0)(gt, labels, pl, image_size=(96, 96))
    assert len(p) == expected


def test_transfer_mode_neither_jitters_nor_drops():
    p = PrivilegedProposalGenerator(jitter=0.3, drop=0.9)(
        GT, LABELS, image_size=(96, 96), train=False
    )
    assert torch.equal(p.boxes, GT)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"jitter": 0.5}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
        ({"drop": 1.0}, "drop"),
        ({"drop": -0.1}, "drop"),
    ],
)
def test_out_of_range_options_are_input_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        PrivilegedProposalGenerator(**kwargs)
