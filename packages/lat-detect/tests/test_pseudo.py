import torch
from lat_detect import ConcatLabelSpace, cross_pseudo_labels
from torch import nn


class _Fixed(nn.Module):
    """A stand-in specialist predicting fixed detections on every image."""

    def __init__(self, boxes, labels, scores):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.out = {"boxes": boxes, "labels": labels, "scores": scores}

    def forward(self, images):
        return [dict(self.out) for _ in images]


def test_pseudo_labels_use_every_other_specialist_with_its_offset_threshold_and_nms(tiny_bench):
    datasets = {"T": tiny_bench.target_train, **tiny_bench.sources}
    space = ConcatLabelSpace([d.space for d in datasets.values()])
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [30, 30, 40, 40]])
    specs = {
        "T": _Fixed(boxes, torch.tensor([1, 1, 2]), torch.tensor([0.9, 0.8, 0.3])),
        "A": _Fixed(boxes[:1], torch.tensor([1]), torch.tensor([0.95])),
        "B": _Fixed(boxes[2:], torch.tensor([5]), torch.tensor([0.7])),
    }
    pl = cross_pseudo_labels(datasets, specs, space)
    _, lab, s = pl["A"][0]  # from T (offset 0: one box after NMS, one under 0.5) and B (offset 5)
    assert lab.tolist() == [1, 5 + 5] and s.tolist() == [0.8999999761581421, 0.699999988079071]
    _, lab, s = pl["T"][0]  # from A (offset 4) and B
    assert lab.tolist() == [4 + 1, 5 + 5]
    assert len(pl["B"]) == len(datasets["B"])
