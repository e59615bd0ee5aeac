import torch
from lat_detect import ConcatLabelSpace, LATModel, build_backbone, transfer_annotations
from lat_detect._pseudo import filter_detections


def _setup(tiny_bench, *, bias_target: bool):
    bench = tiny_bench
    datasets = {"T": bench.target_train, **bench.sources}
    space = ConcatLabelSpace([d.space for d in datasets.values()])
    torch.manual_seed(0)
    model = LATModel(build_backbone("tiny"), num_classes=space.num_classes, num_datasets=3).eval()
    if bias_target:  # make every target class confident, so boxes are kept
        with torch.no_grad():
            model.cls_score.bias.zero_()
            model.cls_score.weight.zero_()
            model.cls_score.bias[1] = 10.0  # T's "car"
    return bench, space, model


def _no_pl(ds):
    return [
        (torch.zeros((0, 4)), torch.zeros(0, dtype=torch.long), torch.zeros(0))
        for _ in range(len(ds))
    ]


def test_transferred_labels_are_target_classes_and_boxes_lie_in_the_image(tiny_bench):
    bench, space, model = _setup(tiny_bench, bias_target=True)
    src = bench.sources["B"]
    out = transfer_annotations(model, src, _no_pl(src), space, "T")
    assert out.space.name == "T" and out.num_boxes() > 0
    for rec in out.records:
        assert bool(((rec.labels >= 1) & (rec.labels <= 4)).all())
        b = rec.boxes
        assert bool(
            (b[:, 0] >= 0).all()
            and (b[:, 2] <= rec.width).all()
            and (b[:, 1] >= 0).all()
            and (b[:, 3] <= rec.height).all()
        )
        assert bool(((b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])).all())


def test_the_head_is_applied_once_per_image(tiny_bench, monkeypatch):
    bench, space, model = _setup(tiny_bench, bias_target=True)
    calls = []
    real = model.forward
    monkeypatch.setattr(model, "forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    src = bench.sources["A"]
    images_with_boxes = sum(1 for r in src.records if len(r.labels))
    transfer_annotations(model, src, _no_pl(src), space, "T")
    assert len(calls) == images_with_boxes


def test_an_image_without_proposals_yields_no_annotations(tiny_bench):
    bench, space, model = _setup(tiny_bench, bias_target=True)
    src = bench.sources["A"]
    empty = src.with_annotations(
        [(torch.zeros((0, 4)), torch.zeros(0, dtype=torch.long), None)] * len(src), src.space
    )
    out = transfer_annotations(model, empty, _no_pl(src), space, "T")
    assert out.num_boxes() == 0


def test_an_unconfident_model_keeps_nothing(tiny_bench):
    bench, space, model = _setup(tiny_bench, bias_target=False)
    with torch.no_grad():
        model.cls_score.weight.zero_()
        model.cls_score.bias.zero_()
        model.cls_score.bias[0] = 10.0  # background wins everywhere
    src = bench.sources["B"]
    assert transfer_annotations(model, src, _no_pl(src), space, "T").num_boxes() == 0


def test_filter_keeps_the_threshold_and_suppresses_per_class():
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11], [50, 50, 60, 60]])
    labels = torch.tensor([1, 1, 2, 1])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.4])
    _, lab, s = filter_detections(boxes, labels, scores, score_thr=0.5, nms_iou=0.5)
    assert s.tolist() == [0.8999999761581421, 0.699999988079071] and lab.tolist() == [1, 2]
