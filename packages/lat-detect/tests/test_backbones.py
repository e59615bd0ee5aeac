import hashlib

import pytest
import torch
from lat_detect import build_backbone, build_detector, load_backbone_weights

from sciml_core import InputError


@pytest.fixture
def no_download(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


@pytest.mark.parametrize("backbone", ["tiny", "resnet18"])
def test_building_any_detector_downloads_nothing(no_download, backbone):
    det = build_detector(3, backbone=backbone).eval()
    with torch.no_grad():
        assert len(det([torch.rand(3, 96, 96)])) == 1


def test_an_unknown_or_hub_backbone_name_is_an_input_error():
    with pytest.raises(InputError, match="backbone"):
        build_backbone("DEFAULT")


def test_backbone_weights_load_from_a_detector_state_dict_with_select(tmp_path):
    torch.manual_seed(0)
    trained = build_detector(2)
    path = tmp_path / "det.pt"
    torch.save(trained.state_dict(), path)
    fresh = build_backbone("tiny")
    report = load_backbone_weights(fresh, path)
    assert report.fraction == 1.0
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            fresh.body.state_dict().values(), trained.backbone.body.state_dict().values()
        )
    )


def test_a_wrong_sha256_is_rejected(tmp_path):
    path = tmp_path / "bb.pt"
    torch.save(build_backbone("tiny").body.state_dict(), path)
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    load_backbone_weights(build_backbone("tiny"), path, sha256=good)
    with pytest.raises(InputError, match="--backbone-weights"):
        load_backbone_weights(build_backbone("tiny"), path, sha256="0" * 64)


def test_weights_of_another_architecture_are_refused(tmp_path):
    path = tmp_path / "r18.pt"
    torch.save(build_backbone("resnet18").body.state_dict(), path)
    with pytest.raises(InputError, match="--backbone-weights"):
        load_backbone_weights(build_backbone("tiny"), path)
