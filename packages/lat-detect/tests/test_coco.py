import json

import pytest
import torch
from lat_detect import BACKENDS, coco_ap, load_coco, save_coco, to_results
from lat_detect._coco_io import to_coco_dict


def _write_images(ds, folder):
    import numpy as np
    from PIL import Image

    folder.mkdir(exist_ok=True)
    for i, rec in enumerate(ds.records):
        arr = (ds[i].image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        Image.fromarray(arr).save(folder / rec.file_name)


def test_coco_io_roundtrip_is_the_identity(tiny_bench, tmp_path):
    ds = tiny_bench.sources["B"]
    _write_images(ds, tmp_path / "img")
    save_coco(ds, tmp_path / "b.json")
    back = load_coco(tmp_path / "b.json", tmp_path / "img", name="B")
    assert back.space == ds.space
    for a, b in zip(ds.records, back.records):
        assert (
            a.image_id == b.image_id
            and torch.allclose(a.boxes, b.boxes, atol=1e-4)
            and torch.equal(a.labels, b.labels)
        )
    assert torch.allclose(back[0].image, ds[0].image, atol=1 / 255)


def test_written_files_carry_info_and_licenses_and_load_in_pycocotools(tiny_bench, tmp_path):
    from pycocotools.coco import COCO

    ds = tiny_bench.target_train
    path = save_coco(ds, tmp_path / "t.json")
    data = json.loads(path.read_text())
    assert {"info", "licenses", "images", "annotations", "categories"} <= set(data)
    coco = COCO(str(path))
    res = to_results(ds, [(r.boxes, r.labels, torch.ones(len(r.labels))) for r in ds.records])
    assert len(coco.loadRes(res).getAnnIds()) == ds.num_boxes()


def _gt_dict():
    images = [{"id": i, "file_name": f"{i}.png", "width": 100, "height": 100} for i in (1, 2, 3)]
    anns = [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 3,
            "bbox": [10, 10, 20, 20],
            "area": 400,
            "iscrowd": 0,
        },
        {
            "id": 2,
            "image_id": 1,
            "category_id": 7,
            "bbox": [50, 50, 30, 10],
            "area": 300,
            "iscrowd": 0,
        },
        {
            "id": 3,
            "image_id": 2,
            "category_id": 3,
            "bbox": [0, 0, 60, 60],
            "area": 3600,
            "iscrowd": 0,
        },
        {
            "id": 4,
            "image_id": 2,
            "category_id": 3,
            "bbox": [70, 70, 20, 20],
            "area": 100,
            "iscrowd": 1,
        },
        {"id": 5, "image_id": 2, "category_id": 7, "bbox": [5, 70, 4, 4], "area": 16, "iscrowd": 0},
    ]
    cats = [{"id": 3, "name": "car"}, {"id": 7, "name": "person"}, {"id": 9, "name": "unused"}]
    return {"info": {}, "licenses": [], "images": images, "annotations": anns, "categories": cats}


def _fixtures():
    gt = _gt_dict()
    perfect = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "bbox": a["bbox"],
            "score": 0.9,
        }
        for a in gt["annotations"]
        if not a["iscrowd"]
    ]
    g = torch.Generator().manual_seed(0)
    noisy = [
        dict(d, bbox=[v + float(torch.randn(1, generator=g)) * 3 for v in d["bbox"]])
        for d in perfect
    ]
    ties = [dict(d, score=0.5) for d in noisy]
    crowd_hits = [
        {"image_id": 2, "category_id": 3, "bbox": [70 + k, 70, 10, 10], "score": 0.1 * k}
        for k in range(1, 6)
    ] + noisy
    many = [
        {
            "image_id": 1,
            "category_id": 3,
            "bbox": [k % 90, (3 * k) % 90, 10, 10],
            "score": (k % 17) / 17,
        }
        for k in range(150)
    ] + noisy
    on_empty_image = [
        *noisy,
        {"image_id": 3, "category_id": 7, "bbox": [1, 1, 5, 5], "score": 0.99},
    ]
    unused_cat = [*noisy, {"image_id": 1, "category_id": 9, "bbox": [1, 1, 5, 5], "score": 0.99}]
    small_medium_large = [
        *noisy,
        {"image_id": 2, "category_id": 3, "bbox": [0, 0, 100, 100], "score": 0.95},
    ]
    wrong_class = [dict(d, category_id=10 - d["category_id"]) for d in noisy]
    return {
        "perfect": perfect,
        "noisy": noisy,
        "score_ties": ties,
        "crowd_matches_many": crowd_hits,
        "over_100_per_image_and_class": many,
        "image_without_gt": on_empty_image,
        "category_without_gt": unused_cat,
        "area_ranges": small_medium_large,
        "wrong_class": wrong_class,
        "one_detection": noisy[:1],
        "low_scores_first": [dict(d, score=1 - 0.1 * k) for k, d in enumerate(reversed(noisy))],
        "duplicates": noisy + noisy,
    }


FIXTURES = _fixtures()


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_coco_ap_matches_faster_coco_eval_on_fixtures(name):
    pytest.importorskip("faster_coco_eval")
    ours = coco_ap(_gt_dict(), FIXTURES[name], backend="pycocotools")
    ref = coco_ap(_gt_dict(), FIXTURES[name], backend="faster-coco-eval")
    assert ours.stats == pytest.approx(ref.stats, abs=1e-6)


def test_perfect_predictions_give_ap_one():
    assert coco_ap(_gt_dict(), FIXTURES["perfect"]).ap == 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_predictions_give_ap_zero_where_pycocotools_load_res_raises(backend):
    from pycocotools.coco import COCO

    gt = COCO()
    gt.dataset = _gt_dict()
    gt.createIndex()
    with pytest.raises(IndexError):
        gt.loadRes([])
    stats = coco_ap(_gt_dict(), [], backend=backend)
    assert stats.ap == 0.0 and stats.per_class["car"] == 0.0


def test_per_class_ap_is_minus_one_for_a_class_without_gt():
    assert coco_ap(_gt_dict(), FIXTURES["noisy"]).per_class["unused"] == -1.0


def test_to_coco_dict_uses_the_spaces_category_ids(tiny_bench):
    data = to_coco_dict(tiny_bench.sources["B"])
    assert {a["category_id"] for a in data["annotations"]} <= {c["id"] for c in data["categories"]}
