import json

import pytest
import torch
from smoothprune import SmallCNN
from smoothprune._experiments.reproduce import reproduce
from smoothprune.cli import main
from smoothprune_testing import _fake_cifar, modules_after_import

from sciml_core import InputError, validate_result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("sklearn")
    path = tmp_path_factory.mktemp("m") / "model.pt"
    assert main(["train", "--epochs", "1", "-o", str(path), "--quiet"]) == 0
    return path


@pytest.mark.slow
def test_train_compress_evaluate_round_trip(trained, tmp_path, capsys):
    out = tmp_path / "small.pt"
    assert main(["compress", str(trained), "--params", "0.3", "-o", str(out)]) == 0
    assert out.stat().st_size < 0.4 * trained.stat().st_size
    assert main(["evaluate", str(out)]) == 0
    assert "accuracy" in capsys.readouterr().out


def test_compress_reads_a_foreign_ddp_state_dict_through_load_pretrained(tmp_path):
    torch.manual_seed(0)
    model = SmallCNN()
    path = tmp_path / "ddp.pt"
    torch.save(
        {"model_state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path
    )
    out = tmp_path / "c.pt"
    assert main(["compress", str(path), "--arch", "smallcnn", "--keep", "0.3", "-o", str(out)]) == 0
    from smoothprune import compress_model, load_compressed

    loaded = load_compressed(out, SmallCNN()).eval()
    x = torch.randn(2, 1, 20, 20)
    assert torch.allclose(loaded(x), compress_model(model, keep=0.3).model.eval()(x), atol=1e-6)


@pytest.mark.parametrize(
    "argv",
    [
        ["compress", "{missing}", "--params", "0.3", "-o", "{out}"],
        ["compress", "{junk}", "--params", "0.3", "-o", "{out}"],
        ["compress", "{junk}", "--arch", "smallcnn", "--params", "0.3", "-o", "{out}"],
        ["compress", "{module}", "--arch", "smallcnn", "--params", "0.3", "-o", "{out}"],
        ["compress", "{state}", "--arch", "gapcnn", "--params", "0.3", "-o", "{out}"],
        ["compress", "{state}", "--arch", "smallcnn", "--params", "1.5", "-o", "{out}"],
        [
            "compress",
            "{state}",
            "--arch",
            "smallcnn",
            "--params",
            "0.3",
            "--keep",
            "0.3",
            "-o",
            "{out}",
        ],
        ["compress", "{state}", "--arch", "unknown", "--params", "0.3", "-o", "{out}"],
        ["evaluate", "{junk}"],
        ["reproduce", "--quick", "--cifar10", "{missing}", "--out", "{dir}"],
    ],
)
def test_bad_input_is_one_line_and_exit_two(argv, tmp_path, capsys):
    state = tmp_path / "state.pt"
    torch.save(SmallCNN().state_dict(), state)
    module = tmp_path / "module.pt"
    torch.save(SmallCNN(), module)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    names = {
        "missing": tmp_path / "nope",
        "junk": junk,
        "module": module,
        "state": state,
        "out": tmp_path / "o.pt",
        "dir": tmp_path / "d",
    }
    code = main([a.format(**names) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 or err.startswith("usage:")
    assert not names["out"].exists() and not names["dir"].exists()  # no output left behind


def test_reproduce_refuses_an_unknown_study(tmp_path):
    with pytest.raises(InputError, match="nope"):
        reproduce(tmp_path, quick=True, seed=0, studies=["nope"])
    assert not (tmp_path / "result.json").exists()


@pytest.mark.slow
def test_reproduce_cifar10_path_runs_on_fake_files(tmp_path):
    pytest.importorskip("torchvision")
    _fake_cifar(tmp_path / "data", n=8)
    path = reproduce(
        tmp_path / "out", quick=True, seed=0, studies=["cifar10"], cifar10=tmp_path / "data"
    )
    data = json.loads(path.read_text())
    assert validate_result(data) == []
    table = next(t for t in data["tables"] if t["id"] == "cifar10_resnet18")
    assert [r[0] for r in table["rows"]] == ["plain", "smooth-out2"]
    assert [c["name"] for c in data["claims"]] == ["cifar10_headline"]


def test_importing_the_package_or_its_cli_does_not_load_the_experiments():
    assert not any(m.startswith("smoothprune._experiments") for m in modules_after_import())
