import pytest
import torch
import torch.nn.functional as F
from lat_detect import (
    ConcatLabelSpace,
    LabelSpace,
    LATModel,
    PrivilegedProposalGenerator,
    Proposals,
    build_backbone,
)

SPACE = ConcatLabelSpace(
    [
        LabelSpace("T", ("car", "person")),
        LabelSpace("A", ("vehicle",)),
        LabelSpace("B", ("car", "sign")),
    ]
)


def _model(**kw) -> LATModel:
    torch.manual_seed(0)
    return LATModel(build_backbone("tiny"), num_classes=SPACE.num_classes, num_datasets=3, **kw)


def _batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    images = [torch.rand(3, 96, 96, generator=g) for _ in range(2)]
    gt = [
        torch.tensor([[10.0, 10.0, 40.0, 30.0], [50.0, 40.0, 70.0, 80.0]]),
        torch.tensor([[20.0, 20.0, 60.0, 50.0]]),
    ]
    labels = [torch.tensor([1, 2]), torch.tensor([1])]
    pl = (torch.tensor([[12.0, 8.0, 44.0, 33.0]]), torch.tensor([4]), torch.tensor([0.8]))
    ppg = PrivilegedProposalGenerator()
    props = [ppg(b, lab, pl, image_size=(96, 96), generator=g) for b, lab in zip(gt, labels)]
    masks = SPACE.mask("T")[None, :].expand(2, -1)
    return images, props, masks, list(zip(gt, labels))


def test_one_step_has_finite_losses_and_trains_heads_not_the_frozen_backbone():
    model = _model().train()
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    images, props, masks, targets = _batch()
    losses = model(images, props, masks, targets)
    loss = sum(losses.values())
    assert all(torch.isfinite(v) for v in losses.values())
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss.backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    for module in (model.sff, model.head, model.cls_score, model.bbox_pred):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
    opt.step()
    after = model.backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BN statistics


def test_the_boxes_reaching_roi_align_are_the_ppg_proposals(monkeypatch):
    import torchvision.ops

    seen = []
    real = torchvision.ops.roi_align

    def spy(feats, rois, **kw):
        seen.append([r.clone() for r in rois])
        return real(feats, rois, **kw)

    monkeypatch.setattr(torchvision.ops, "roi_align", spy)
    images, props, masks, targets = _batch()
    _model().train()(images, props, masks, targets)
    assert len(seen) == 1
    assert [torch.equal(a, p.boxes) for a, p in zip(seen[0], props)] == [
        True,
        True,
    ]  # no sampling, no GT added


@pytest.mark.parametrize("fg_iou,expected", [(0.3, 1), (0.5, 0)])
def test_a_loose_box_at_iou_045_is_foreground_only_below_its_threshold(fg_iou, expected):
    gt = torch.tensor([[0.0, 0.0, 30.0, 30.0]])
    side = 30 / 0.45**0.5  # a box containing the GT with IoU 0.45
    loose = torch.tensor([[0.0, 0.0, side, side]])
    p = Proposals(
        loose, torch.tensor([4]), torch.tensor([0.9]), torch.tensor([False]), torch.tensor([-1])
    )
    labels, _ = _model(fg_iou=fg_iou).targets(p, gt, torch.tensor([1]))
    assert int(labels[0]) == expected


def test_probabilities_outside_the_mask_are_exactly_zero():
    model = _model().eval()
    images, props, _, _ = _batch()
    masks = torch.stack([SPACE.mask("A"), SPACE.mask("T")])
    out = model(images, props, masks)
    for res, m in zip(out, masks):
        probs = torch.softmax(res.logits, 1)
        assert bool((probs[:, ~m] == 0).all())
        assert torch.allclose(probs.sum(1), torch.ones(len(probs)))


def test_the_loss_is_cross_entropy_over_the_allowed_ids_only():
    model = _model(sff=False).train()
    images, props, masks, targets = _batch()
    losses = model(images, props, masks, targets)
    # Recompute by hand: the classifier on the allowed columns only.
    feats = model._features(images)
    from torchvision.ops import roi_align

    pooled = roi_align(
        feats, [p.boxes for p in props], output_size=7, spatial_scale=1 / 8, sampling_ratio=2
    )
    logits = model.cls_score(model.head(pooled))
    allowed = torch.nonzero(SPACE.mask("T")).flatten()
    labels = torch.cat([model.targets(p, b, lab)[0] for p, (b, lab) in zip(props, targets)])
    col = {int(c): k for k, c in enumerate(allowed)}
    expected = F.cross_entropy(logits[:, allowed], torch.tensor([col[int(x)] for x in labels]))
    assert torch.allclose(losses["loss_classifier"], expected, atol=1e-6)


def test_gt_proposals_are_foreground_even_when_jittered_far():
    gt = torch.tensor([[0.0, 0.0, 30.0, 30.0]])
    p = Proposals(
        torch.tensor([[20.0, 20.0, 50.0, 50.0]]),
        torch.tensor([1]),
        torch.ones(1),
        torch.tensor([True]),
        torch.tensor([0]),
    )
    labels, matched = _model(fg_iou=0.9).targets(p, gt, torch.tensor([2]))
    assert int(labels[0]) == 2 and torch.equal(matched[0], gt[0])


@pytest.mark.parametrize("fg_iou", [0.0, 1.0, -0.2])
def test_fg_iou_outside_the_open_unit_interval_is_refused(fg_iou):
    from sciml_core import InputError

    with pytest.raises(InputError, match="fg_iou"):
        _model(fg_iou=fg_iou)
