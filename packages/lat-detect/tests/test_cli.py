import json
import os
import subprocess
import sys
from pathlib import Path

import lat_detect
import numpy as np
import pytest
import torch
from lat_detect import build_backbone, build_detector, save_coco
from lat_detect.cli import main
from PIL import Image

from sciml_core import save_checkpoint, validate_result


def _write(ds, root, name):
    folder = root / f"{name}_img"
    folder.mkdir()
    for i, rec in enumerate(ds.records):
        arr = (ds[i].image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        Image.fromarray(arr).save(folder / rec.file_name)
    ann = save_coco(ds, root / f"{name}.json")
    return str(ann), str(folder)


@pytest.fixture
def files(tiny_bench, tmp_path):
    t = _write(tiny_bench.target_train, tmp_path, "T")
    a = _write(tiny_bench.sources["A"], tmp_path, "A")
    return tmp_path, t, a


def _edit(path, change):
    data = json.loads(Path(path).read_text())
    change(data)
    with open(path, "w") as fh:
        json.dump(data, fh)


def _refused(argv, capsys, *expected):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lat-detect: error:")
    for text in expected:
        assert text in err, err
    return err


def _train_argv(root, t, *extra):
    return [
        "train",
        "--target",
        "T",
        *t,
        "--steps",
        "1",
        "--ft-steps",
        "0",
        "-o",
        str(root / "m.pt"),
        "--quiet",
        *extra,
    ]


def _bbox(k, value):
    def change(d):
        d["annotations"][0]["bbox"] = value

    return change


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda d: d.pop("images"), "no 'images'"),
        (lambda d: d.pop("categories"), "no 'categories'"),
        (lambda d: d.update(images=[]), "empty dataset"),
        (lambda d: d["images"].append(dict(d["images"][0])), "duplicate image id"),
        (lambda d: d["annotations"].append(dict(d["annotations"][0])), "duplicate annotation id"),
        (lambda d: d["annotations"][0].update(image_id=999), "refers to image 999"),
        (
            lambda d: d["annotations"][0].update(category_id=77),
            "category 77 is missing from label space",
        ),
        (_bbox(0, [10, 10, 0, 5]), "w > 0 and h > 0"),
        (_bbox(0, [10, 10, 5, -1]), "w > 0 and h > 0"),
        (_bbox(0, [90, 10, 20, 5]), "inside the 96x96 image"),
        (_bbox(0, [-5, 10, 20, 5]), "inside the 96x96 image"),
        (_bbox(0, [float("nan"), 10, 20, 5]), "finite"),
        (lambda d: d["images"][0].update(file_name="nope.png"), "is missing"),
    ],
)
def test_bad_coco_files_are_one_line_errors_with_exit_2(files, capsys, change, expected):
    root, t, _ = files
    _edit(t[0], change)
    _refused(_train_argv(root, t), capsys, "--target", expected)
    assert not (root / "m.pt").exists()


def test_a_category_missing_from_the_label_space_file_is_refused(files, capsys):
    root, t, _ = files
    (root / "space.json").write_text(
        json.dumps({"name": "T", "categories": [{"id": 1, "name": "car"}]})
    )
    _refused(
        _train_argv(root, t, "--label-space", str(root / "space.json")),
        capsys,
        "is missing from label space 'T'",
    )


def test_a_grey_image_is_refused(files, capsys):
    root, t, _ = files
    first = json.loads(Path(t[0]).read_text())["images"][0]["file_name"]
    Image.fromarray(np.zeros((96, 96), np.uint8)).save(f"{t[1]}/{first}")
    _refused(_train_argv(root, t), capsys, "RGB")


def _save_tiny_detector(path, role, version):
    """A checkpoint of an untrained tiny detector for dataset T (96 px, four classes)."""
    cfg = {
        "role": role,
        "name": "T",
        "classes": ["car", "truck", "person", "bicycle"],
        "category_ids": [1, 2, 3, 4],
        "backbone": "tiny",
        "image_size": 96,
        "num_classes": 4,
    }
    save_checkpoint(
        path, build_detector(4).state_dict(), config=cfg, package="lat-detect", version=version
    )


def test_a_checkpoint_of_another_version_is_refused(files, capsys):
    root, t, _ = files
    _save_tiny_detector(root / "old.pt", "detector", "9.9.0")
    _refused(
        ["evaluate", t[0], "--model", str(root / "old.pt"), "--images", t[1]],
        capsys,
        "--model",
        "9.9.0",
    )


def test_transfer_needs_two_datasets(files, capsys):
    root, t, _ = files
    _refused(
        ["transfer", "--dataset", "T", *t, "--target", "T", "--out", str(root / "o"), "--quiet"],
        capsys,
        "at least two",
    )


def test_transfer_refuses_an_unknown_target(files, capsys):
    root, t, a = files
    _refused(_transfer_argv(root, t, a, "--target", "X"), capsys, "--target", "'X'")


def test_transfer_refuses_a_non_empty_out_without_overwrite(files, capsys):
    root, t, a = files
    (root / "o").mkdir()
    (root / "o" / "keep.txt").write_text("mine")
    _refused(_transfer_argv(root, t, a), capsys, "--overwrite")
    assert sorted(p.name for p in (root / "o").iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("command", ["train", "transfer"])
def test_a_target_without_annotations_is_refused_naming_the_flag(files, capsys, command):
    root, t, a = files
    _edit(t[0], lambda d: d.update(annotations=[]))
    argv = _train_argv(root, t) if command == "train" else _transfer_argv(root, t, a)
    _refused(argv, capsys, "--target: dataset 'T' has no annotated training image")


def test_evaluate_scores_a_perfect_predictions_file_at_one(files, capsys):
    root, t, _ = files
    data = json.loads(Path(t[0]).read_text())
    preds = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "bbox": a["bbox"],
            "score": 1.0,
        }
        for a in data["annotations"]
    ]
    (root / "p.json").write_text(json.dumps(preds))
    assert main(["evaluate", t[0], "--predictions", str(root / "p.json")]) == 0
    assert json.loads(capsys.readouterr().out)["stats"]["AP"] == 1.0


@pytest.mark.slow
def test_specialists_transfer_train_evaluate_end_to_end(files, capsys):
    root, t, a = files
    assert (
        main(
            [
                "specialists",
                "--dataset",
                "T",
                *t,
                "--dataset",
                "A",
                *a,
                "--steps",
                "2",
                "--out",
                str(root / "s"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "transfer",
                "--dataset",
                "T",
                *t,
                "--dataset",
                "A",
                *a,
                "--target",
                "T",
                "--specialists",
                str(root / "s"),
                "--steps",
                "3",
                "--out",
                str(root / "x"),
                "--quiet",
            ]
        )
        == 0
    )
    transferred = json.loads((root / "x" / "A.in_T.json").read_text())
    assert {c["id"] for c in transferred["categories"]} == {1, 2, 3, 4}
    assert (
        main(
            [
                "train",
                "--target",
                "T",
                *t,
                "--extra",
                str(root / "x" / "A.in_T.json"),
                a[1],
                "--steps",
                "2",
                "--ft-steps",
                "1",
                "-o",
                str(root / "m.pt"),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["evaluate", t[0], "--model", str(root / "m.pt"), "--images", t[1], "--quiet"]) == 0
    stats = json.loads(capsys.readouterr().out)["stats"]
    assert 0.0 <= stats["AP"] <= 1.0


@pytest.mark.slow
def test_reproduce_quick_writes_a_valid_result_with_the_two_quick_claims(tmp_path):
    torch.set_num_threads(1)
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--quiet"]) == 0
    data = json.loads((tmp_path / "result.json").read_text())
    assert validate_result(data) == []
    assert {c["name"] for c in data["claims"]} <= {
        "transfer_outputs_target_space_only",
        "coco_ap_matches_reference",
    }
    assert "deferred" in {t["id"] for t in data["tables"]}


@pytest.mark.slow
def test_bench_quick_prints_one_row_per_comparison_and_writes_bench_json(capsys, tmp_path):
    assert main(["bench", "--quick", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # train step with and without SFF, transfer pass; then the SFF memory table
    assert out.count("LATModel") == 3 and "speedup" in out and "M =    64" in out
    report = json.loads((tmp_path / "bench.json").read_text())
    labels = [r["label"] for r in report["rows"]]
    assert sum("vs FasterRCNN inference" in x for x in labels) == 1
    assert any("pycocotools" in x for x in labels)
    assert [r["M"] for r in report["sff_memory"]] == [16, 64]
    assert all(r["speedup"] > 0 for r in report["rows"])


@pytest.mark.parametrize(
    ("extra", "flag", "expected"),
    [
        (["--workers", "0"], "--workers", "expected an integer >= 1; got 0"),
        (["--workers", "two"], "--workers", "expected an integer >= 1; got 'two'"),
        (["--extended", "--quick"], "--extended", "cannot go with --quick"),
    ],
)
def test_bad_reproduce_options_are_one_line_errors_leaving_nothing(
    tmp_path, capsys, extra, flag, expected
):
    out = tmp_path / "repro"
    assert main(["reproduce", "--out", str(out), "--quiet", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lat-detect"), err
    assert " error: " in err and flag in err and expected in err, err
    assert not out.exists()


def test_python_dash_m_cli_runs_the_command_line():
    src = str(Path(lat_detect.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-m", "lat_detect.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: lat-detect"), out.stdout
    assert "transfer" in out.stdout


def _transfer_argv(root, t, a, *extra):
    return [
        "transfer",
        "--dataset",
        "T",
        *t,
        "--dataset",
        "A",
        *a,
        "--target",
        "T",
        "--specialist-steps",
        "1",
        "--steps",
        "1",
        "--out",
        str(root / "o"),
        "--quiet",
        *extra,
    ]


@pytest.fixture
def weights(files):
    torch.manual_seed(7)
    path = files[0] / "bb.pt"
    torch.save(build_backbone("tiny").body.state_dict(), path)
    return path


@pytest.mark.parametrize("flag", ["--backbone-weights", "--sha256"])
def test_transfer_refuses_backbone_weights_with_given_specialists(files, weights, capsys, flag):
    root, t, a = files
    (root / "specs").mkdir()
    value = str(weights) if flag == "--backbone-weights" else "0" * 64
    _refused(
        _transfer_argv(root, t, a, "--specialists", str(root / "specs"), flag, value),
        capsys,
        flag,
        "--specialists",
    )
    assert not (root / "o").exists() or not any((root / "o").iterdir())


def test_transfer_checks_the_sha256_of_its_backbone_weights(files, weights, capsys):
    root, t, a = files
    argv = _transfer_argv(root, t, a, "--backbone-weights", str(weights), "--sha256", "0" * 64)
    _refused(argv, capsys, "--backbone-weights", "0" * 12)
    assert not (root / "o").exists() or not any((root / "o").iterdir())


def test_transfer_starts_its_specialists_from_the_backbone_weights(
    files, weights, capsys, monkeypatch
):
    import lat_detect._pipeline as pipeline

    started = []
    original = pipeline.train_specialists

    def record(*args, **kwargs):
        started.append(kwargs.get("backbone"))
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "train_specialists", record)
    root, t, a = files
    assert main(_transfer_argv(root, t, a, "--backbone-weights", str(weights))) == 0
    expected = torch.load(weights, weights_only=True)
    (backbone,) = started
    got = backbone.body.state_dict()
    assert list(got) == list(expected)
    assert all(torch.equal(got[k], v) for k, v in expected.items())


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--image-size", "128", "trained at --image-size 96; got 128"),
        ("--backbone", "resnet18", "trained with --backbone tiny; got resnet18"),
    ],
)
def test_transfer_refuses_specialists_trained_with_other_settings(
    files, capsys, flag, value, expected
):
    root, t, a = files
    (root / "specs").mkdir()
    _save_tiny_detector(root / "specs" / "T.pt", "specialist", lat_detect.__version__)
    argv = _transfer_argv(root, t, a, "--specialists", str(root / "specs"), flag, value)
    _refused(argv, capsys, "--specialists", expected)


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "verbose"])
@pytest.mark.parametrize("command", ["train", "transfer"])
def test_a_bad_dataset_beside_valid_backbone_weights_is_the_only_line(
    files, weights, capsys, command, quiet
):
    """The datasets are checked before the weights load, so a bad one is one line on stderr,
    not the weights report and then the error (the report also stays silent under --quiet)."""
    root, t, a = files
    _edit(t[0], lambda d: d.update(annotations=[]))
    if command == "train":
        argv = _train_argv(root, t, "--backbone-weights", str(weights))
    else:
        argv = _transfer_argv(root, t, a, "--backbone-weights", str(weights))
    if not quiet:
        argv.remove("--quiet")
    _refused(argv, capsys, "--target", "no annotated training image")
