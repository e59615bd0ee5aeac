"""brain-hyda on sciml-core's foreign-weights loader and checkpoints (brain-hyda spec §5.5).

A SAM-Med3D training checkpoint (``model_state_dict`` of the whole model, ``module.`` prefix)
is described by ``sciml_core.inspect_weights`` and loaded by ``brain_hyda.load_sam3d_weights``
(which is ``load_pretrained`` with SAM's defaults); an adapter written by ``brain-hyda adapt`` is
a sciml-core checkpoint that another package's name is refused for.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
bh = pytest.importorskip("brain_hyda")

from sciml_core import InputError, inspect_weights, load_checkpoint, save_checkpoint  # noqa: E402


def test_a_sam_med3d_checkpoint_is_inspected_and_loaded_through_sciml_core(tmp_path):
    torch.manual_seed(0)
    src = bh.build_image_encoder("tiny")
    state = {f"module.image_encoder.{k}": v for k, v in src.state_dict().items()}
    state["module.mask_decoder.iou_token.weight"] = torch.zeros(1, 24)
    path = tmp_path / "sam_med3d.pth"
    torch.save({"epoch": 1, "model_state_dict": state}, path)
    info = inspect_weights(path)
    assert info.container == "model_state_dict" and info.n_keys == len(state)
    dst = bh.build_image_encoder("tiny")
    report = bh.load_sam3d_weights(dst, path, sha256=info.sha256)
    assert report.fraction == 1.0 and report.sha256 == info.sha256
    assert all(torch.equal(dst.state_dict()[k], v) for k, v in src.state_dict().items())


def test_a_brain_hyda_adapter_checkpoint_is_refused_for_another_package(tmp_path):
    net = bh.TinyUNet(1, 5)
    model = bh.HyDA(net.encoder, ["T1", "FLAIR"], decoder=net.decoder, num_classes=2)
    path = tmp_path / "adapter.pt"
    save_checkpoint(
        path,
        model.state_dict(),
        config={"kind": "adapter"},
        package="brain-hyda",
        version=bh.__version__,
    )
    assert load_checkpoint(path, package="brain-hyda", version=bh.__version__).config == {
        "kind": "adapter"
    }
    with pytest.raises(InputError, match="brain-hyda"):
        load_checkpoint(path, package="lipres", version="0.1.0")
