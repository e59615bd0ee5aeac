import numpy as np
import pytest
import torch
from brain_hyda import dice, dice_ce_loss, roc_auc

from sciml_core import InputError


def _vol(*labels):
    return torch.tensor([labels])


def test_dice_exact_values_on_hand_made_volumes():
    p = torch.tensor([[0, 1, 1, 2, 2, 0]])
    g = torch.tensor([[0, 1, 0, 2, 2, 2]])
    d = dice(p, g, num_classes=3)
    assert torch.allclose(d, torch.tensor([2 * 1 / 3, 2 * 2 / 5]))


@pytest.mark.parametrize("empty,expected", [("one", 1.0), ("nan", float("nan"))])
def test_both_empty_is_as_configured(empty, expected):
    d = dice(_vol(0, 0, 0), _vol(0, 0, 0), num_classes=2, empty=empty)
    assert (np.isnan(expected) and d.isnan().all()) or float(d[0]) == expected


def test_truth_empty_prediction_not_is_zero():
    assert float(dice(_vol(1, 0), _vol(0, 0), num_classes=2)[0]) == 0.0


def test_include_background_adds_class_zero():
    d = dice(_vol(0, 0, 1), _vol(0, 1, 1), num_classes=2, include_background=True)
    assert torch.allclose(d, torch.tensor([2 / 3, 2 / 3]))


def test_reductions_match_their_formulas():
    p = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0]])
    g = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 0]])
    per = dice(p, g, num_classes=2, reduction="none")[:, 0]
    assert torch.allclose(per, torch.tensor([2 / 3, 2 / 4]))
    assert torch.allclose(dice(p, g, num_classes=2, reduction="mean"), per.mean())
    pooled = 2 * (1 + 1) / ((2 + 1) + (1 + 3))
    assert abs(float(dice(p, g, num_classes=2)[0]) - pooled) < 1e-7


@pytest.mark.parametrize(
    "pred,match",
    [(torch.tensor([[0.5, 1.0]]), "integer"), (torch.tensor([[0, 3]]), r"\[0, 2\)")],
)
def test_bad_labels_are_refused(pred, match):
    with pytest.raises(InputError, match=match):
        dice(pred, torch.tensor([[0, 1]]), num_classes=2)


def test_dice_ce_loss_passes_gradcheck():
    logits = torch.randn(2, 3, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 3, (2, 3, 3, 2))
    assert torch.autograd.gradcheck(lambda x: dice_ce_loss(x, target), (logits,))


def test_roc_auc_equals_pairwise_count_with_ties():
    s = np.array([0.1, 0.4, 0.4, 0.8, 0.3, 0.4])
    y = np.array([0, 0, 1, 1, 0, 1])
    pos, neg = s[y == 1], s[y == 0]
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0) for a in pos for b in neg]
    assert roc_auc(s, y) == pytest.approx(np.mean(pairs))


monai = pytest.importorskip("monai", reason="MONAI not installed: the parity test is skipped")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_equals_monai_where_classes_are_present(seed):
    from monai.metrics import DiceMetric

    g = torch.Generator().manual_seed(seed)
    p = torch.randint(0, 4, (3, 6, 6, 6), generator=g)
    t = torch.randint(0, 4, (3, 6, 6, 6), generator=g)
    onehot = lambda x: torch.nn.functional.one_hot(x, 4).movedim(-1, 1)  # noqa: E731
    theirs = DiceMetric(include_background=False, reduction="none")(onehot(p), onehot(t))
    ours = dice(p, t, num_classes=4, reduction="none")
    assert torch.allclose(ours, theirs.float(), atol=1e-6)
