import pytest
import torch
from lat_detect import synthetic_benchmark
from lat_detect._synthetic import _draw_image, _protocol
from torchvision.ops import box_iou


def test_same_seed_same_images_and_boxes(tiny_bench):
    again = synthetic_benchmark(target_train=4, target_val=2, target_test=4, source_size=4, seed=0)
    for a, b in (
        (tiny_bench.sources["B"], again.sources["B"]),
        (tiny_bench.target_test, again.target_test),
    ):
        assert all(
            torch.equal(a[i].image, b[i].image) and torch.equal(a[i].boxes, b[i].boxes)
            for i in range(len(a))
        )


def test_prefixes_are_stable_when_a_split_grows(tiny_bench):
    bigger = synthetic_benchmark(target_train=6, target_val=2, target_test=4, source_size=9, seed=0)
    assert all(
        torch.equal(tiny_bench.sources["A"][i].image, bigger.sources["A"][i].image)
        for i in range(4)
    )


def test_another_seed_gives_other_images(tiny_bench):
    other = synthetic_benchmark(target_train=4, target_val=2, target_test=4, source_size=4, seed=1)
    assert not torch.equal(tiny_bench.sources["A"][0].image, other.sources["A"][0].image)


def _objects(n=60):
    return [_draw_image(0, 3, i, 96, "A")[1] for i in range(n)]


def test_a_boxes_are_tight_plus_20_percent_per_side():
    for objects in _objects():
        boxes, labels = _protocol(objects, "A", 96)
        tight = [b[:4] for k, b in objects if k in ("car", "truck")]
        assert len(boxes) == len(tight) and set(labels) <= {1}
        for b, t in zip(boxes, tight):
            w, h = t[2] - t[0], t[3] - t[1]
            expected = [
                max(0, t[0] - 0.2 * w),
                max(0, t[1] - 0.2 * h),
                min(96, t[2] + 0.2 * w),
                min(96, t[3] + 0.2 * h),
            ]
            assert b == pytest.approx(expected)


def _b_annotated(objects):
    """The true objects B annotates, in order: persons riding a bicycle are inside a cyclist box."""
    from lat_detect._synthetic import _in_cyclist

    kinds = ("car", "truck", "person", "cyclist", "sign")
    return [
        full
        for k, full in objects
        if k in kinds and not (k == "person" and _in_cyclist(full, objects))
    ]


def test_b_boxes_carry_shadow_and_padding_within_30_percent():
    for objects in _objects():
        boxes, _ = _protocol(objects, "B", 96)
        annotated = _b_annotated(objects)
        assert len(boxes) == len(annotated)
        for b, full in zip(boxes, annotated):
            t = full[:4]
            w, h = t[2] - t[0], t[3] - t[1]
            assert t[0] - 0.3 * w - 1e-9 <= b[0] <= t[0] or b[0] == 0
            assert t[2] <= b[2] <= t[2] + 0.3 * w + 1e-9 or b[2] == 96
            assert t[3] + 4 <= b[3] + 1e-9 or b[3] == 96  # the shadow strip
            assert b[3] <= t[3] + 4 + 0.3 * h + 1e-9


def test_a_cyclist_is_one_box_in_b_and_two_in_t_and_the_oracle():
    found = 0
    for i in range(80):
        objects = _draw_image(0, 4, i, 96, "B")[1]
        for k, c in objects:
            if k != "cyclist":
                continue
            found += 1
            tb, tl = _protocol(objects, "T", 96)
            _, bl = _protocol(objects, "B", 96)
            union = torch.tensor([c[:4]])
            t_in = [lab for b, lab in zip(tb, tl) if box_iou(torch.tensor([b]), union)[0, 0] > 0]
            assert sorted(set(t_in)) == [3, 4]  # person and bicycle
            assert 4 in bl and bl.count(4) == sum(1 for kk, _ in objects if kk == "cyclist")
    assert found > 0


@pytest.mark.parametrize("protocol,has_sign", [("T", False), ("A", False), ("B", True)])
def test_signs_are_annotated_only_in_b(protocol, has_sign):
    labelled = 0
    for objects in _objects(80):
        boxes, labels = _protocol(objects, protocol, 96)
        signs = [b[:4] for k, b in objects if k == "sign"]
        if protocol == "B":
            labelled += labels.count(5)
        elif signs:
            assert all(
                box_iou(torch.tensor([s]), torch.tensor(boxes).reshape(-1, 4)).max() < 0.5
                if boxes
                else True
                for s in signs
            )
    assert (labelled > 0) == has_sign


def test_the_oracle_has_the_sources_images_in_the_target_space(tiny_bench):
    for name in ("A", "B"):
        o, s = tiny_bench.oracle[name], tiny_bench.sources[name]
        assert o.space == tiny_bench.target_train.space
        assert torch.equal(o[1].image, s[1].image)
