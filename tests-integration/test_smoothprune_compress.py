"""smoothprune compresses weights written by plain torch, read through sciml-core's loader.

The contract: a state dict saved with ``torch.save`` by someone else's training script (here with
DistributedDataParallel's ``module.`` prefix) loads into a smoothprune model through
``sciml_core.load_pretrained``; its layers factorised at full rank reproduce the dense model, and
``smoothprune compress --arch`` writes a checkpoint that ``load_compressed`` reads back.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
smoothprune = pytest.importorskip("smoothprune")

from sciml_core import load_pretrained  # noqa: E402


def _foreign_weights(tmp_path):
    torch.manual_seed(0)
    trained = smoothprune.GapCNN()
    path = tmp_path / "ddp.pt"
    state = {f"module.{k}": v for k, v in trained.state_dict().items()}
    torch.save({"epoch": 3, "model_state_dict": state}, path)
    return trained.eval(), path


def test_full_rank_factorisation_of_loaded_weights_is_exact(tmp_path):
    trained, path = _foreign_weights(tmp_path)
    model = smoothprune.GapCNN()
    report = load_pretrained(model, path, min_matched=1.0)
    assert report.fraction == 1.0 and report.container == "model_state_dict"
    # every layer factorised at its full rank (compress_model would keep such layers dense)
    for name, layer in list(model.named_children()):
        if isinstance(layer, torch.nn.Conv2d):
            o, i, kh, kw = layer.weight.shape
            setattr(model, name, smoothprune.LowRankConv2d.from_dense(layer, min(o, i * kh * kw)))
        elif isinstance(layer, torch.nn.Linear):
            rank = min(layer.weight.shape)
            setattr(model, name, smoothprune.LowRankLinear.from_dense(layer, rank))
    assert sum(isinstance(m, smoothprune.LowRankConv2d) for m in model.modules()) == 4
    x = torch.randn(2, 1, 20, 20, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        dense, factorised = trained(x), model.eval()(x)
    assert torch.allclose(factorised, dense, rtol=0.0, atol=1e-5 * float(dense.abs().max()))


def test_cli_compress_of_loaded_weights_round_trips(tmp_path):
    from smoothprune.cli import main

    trained, path = _foreign_weights(tmp_path)
    out = tmp_path / "small.pt"
    code = main(["compress", str(path), "--arch", "gapcnn", "--params", "0.3", "-o", str(out)])
    assert code == 0
    loaded = smoothprune.load_compressed(out, smoothprune.GapCNN()).eval()
    expected = smoothprune.compress_model(trained, params=0.3).model.eval()
    x = torch.randn(2, 1, 20, 20, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.allclose(loaded(x), expected(x), atol=1e-6)
    assert smoothprune.count_parameters(loaded) <= 0.3 * smoothprune.count_parameters(trained)
