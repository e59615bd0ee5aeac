"""lat-detect starts its detectors from backbone weights someone else saved, via sciml-core.

The contract: a whole detector's state dict written by another training script (wrapped by
DistributedDataParallel, so every key starts with ``module.``, inside a ``model`` container) gives
lat-detect's backbone exactly its weights through ``sciml_core.load_pretrained`` (strip, then
``select="backbone.body."``), and the command line refuses the file with a wrong SHA-256 in one
line with exit status 2, before any training.
"""

from __future__ import annotations

import hashlib

import pytest

torch = pytest.importorskip("torch")
lat_detect = pytest.importorskip("lat_detect")


def _foreign(tmp_path):
    torch.manual_seed(0)
    det = lat_detect.build_detector(3)
    path = tmp_path / "ddp_detector.pt"
    torch.save({"epoch": 7, "model": {f"module.{k}": v for k, v in det.state_dict().items()}}, path)
    return det, path


def test_backbone_weights_of_a_foreign_detector_checkpoint_load_exactly(tmp_path):
    det, path = _foreign(tmp_path)
    backbone = lat_detect.build_backbone("tiny")
    report = lat_detect.load_backbone_weights(
        backbone, path, sha256=hashlib.sha256(path.read_bytes()).hexdigest()
    )
    assert report.fraction == 1.0 and report.container == "model"
    for key, value in det.backbone.body.state_dict().items():
        assert torch.equal(backbone.body.state_dict()[key], value)


def test_cli_refuses_foreign_weights_with_a_wrong_digest(tmp_path, capsys):
    from lat_detect.cli import main

    _, path = _foreign(tmp_path)
    code = main(
        [
            "specialists",
            "--dataset",
            "T",
            "t.json",
            "img",
            "--backbone-weights",
            str(path),
            "--sha256",
            "0" * 64,
            "--out",
            str(tmp_path / "s"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "--backbone-weights" in err and "0" * 64 in err
