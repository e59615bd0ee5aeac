"""The command line: spectrum, lambda-max, train, reproduce, and bad input (exit 2, one line)."""

import json

import networkx as nx
import numpy as np
import pytest
import torch

from chebnet_stable import GraphData, StableChebNet, save_npz
from chebnet_stable.cli import main
from sciml_core import InputError, load_checkpoint, validate_result

TINY_TRAIN = ["--epochs", "2", "--n", "4", "--samples", "8"]


def _train_argv(out, *extra):
    return ["train", "--task", "barbell", "--model", "stable-chebnet", *TINY_TRAIN, *extra,
            "--out", str(out), "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two runs of the same tiny training command with the same seed."""
    root = tmp_path_factory.mktemp("train")
    for name in ("a", "b"):
        assert main(_train_argv(root / name)) == 0
    return root


def test_cli_spectrum_prints_the_anti_damping_of_k3(capsys):
    assert main(["spectrum", "--K", "3", "--graph", "barbell:10"]) == 0
    out = capsys.readouterr().out
    assert "min s: -0.1250" in out and "fraction of [-1, 1] with s < 0: 0.2500" in out


def test_cli_spectrum_writes_a_png(tmp_path):
    assert main(["spectrum", "--graph", "ring:12", "--K", "4", "--out", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "spectrum.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("method", ["analytic", "exact"])
def test_cli_lambda_max_brackets_the_exact_value_and_certifies_it(tmp_path, capsys, method):
    g = nx.barbell_graph(6, 0)
    path = tmp_path / "barbell.txt"
    path.write_text("".join(f"{u} {v}\n" for u, v in g.edges()))
    exact = float(np.linalg.eigvalsh(nx.normalized_laplacian_matrix(g).toarray())[-1])
    assert main(["lambda-max", str(path), "--method", method]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1].split()
    lower, upper, certified = float(row[1]), float(row[2]), row[3]
    assert lower <= exact + 1e-9 <= upper + 2e-9 and certified == "True"


def test_cli_lambda_max_on_a_bad_file_exits_2_naming_it(tmp_path, capsys):
    path = tmp_path / "barbell.txt"
    path.write_text("not a graph\n")
    assert main(["lambda-max", str(path)]) == 2
    assert "barbell.txt" in capsys.readouterr().err


def test_cli_train_writes_documented_metrics_and_a_loadable_checkpoint(trained):
    metrics = json.loads((trained / "a" / "metrics.json").read_text())
    assert {"train", "val", "test", "best_epoch", "epochs", "wall_s", "seed"} <= set(metrics)
    ck = load_checkpoint(trained / "a" / "model.pt", package="chebnet-stable", version="0.1.0")
    model = StableChebNet(
        1, 32, 1, K=ck.config["K"], steps=ck.config["steps"], epsilon=ck.config["epsilon"]
    )
    model.load_state_dict(ck.state_dict)


def test_cli_train_is_deterministic_for_the_same_seed(trained):
    a, b = (json.loads((trained / n / "metrics.json").read_text()) for n in ("a", "b"))
    keys = ("train", "val", "test")
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}


def test_cli_train_checkpoint_of_another_version_is_refused(trained):
    with pytest.raises(InputError, match="version"):
        load_checkpoint(trained / "a" / "model.pt", package="chebnet-stable", version="0.2.0")


def test_cli_train_keeps_an_earlier_run_unless_overwrite_is_given(tmp_path, capsys):
    out = tmp_path / "a"
    assert main(_train_argv(out)) == 0
    before = (out / "model.pt").read_bytes()
    assert main(_train_argv(out, "--seed", "1")) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert (out / "model.pt").read_bytes() == before
    assert main(_train_argv(out, "--seed", "1", "--overwrite")) == 0
    assert (out / "model.pt").read_bytes() != before


def test_cli_train_on_a_tiny_saved_graph(tmp_path):
    g = nx.karate_club_graph()
    ei = torch.tensor(list(g.edges())).t()
    ei = torch.cat([ei, ei.flip(0)], dim=1)
    x = torch.randn(34, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0 if g.nodes[v]["club"] == "Mr. Hi" else 1 for v in range(34)])
    save_npz(GraphData(x, ei, y=y, num_nodes=34), tmp_path / "karate.npz")
    argv = ["train", "--task", "file", "--data", str(tmp_path / "karate.npz"), "--model",
            "chebnet", "--epochs", "3", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["metric"] == "accuracy" and 0.0 <= metrics["test"] <= 1.0


def test_cli_train_file_task_without_data_exits_2_naming_the_flag(tmp_path, capsys):
    assert main(["train", "--task", "file", "--out", str(tmp_path / "r2"), "--quiet"]) == 2
    assert "--data" in capsys.readouterr().err


def test_cli_train_preset_sets_the_official_graphprop_config(tmp_path):
    argv = ["train", "--task", "graphprop-diam", "--preset", "graphprop", "--epochs", "1",
            "--samples", "6", "--out", str(tmp_path / "t"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    cfg = load_checkpoint(
        tmp_path / "t" / "model.pt", package="chebnet-stable", version="0.1.0"
    ).config
    assert (cfg["K"], cfg["steps"], cfg["epsilon"], cfg["readout"]) == (4, 5, 0.7, "graph")


def test_cli_train_preset_for_another_model_exits_2(tmp_path, capsys):
    argv = ["train", "--task", "ring", "--model", "gcn", "--preset", "graphprop",
            "--out", str(tmp_path / "u"), "--quiet"]  # fmt: skip
    assert main(argv) == 2
    assert "preset" in capsys.readouterr().err


def test_cli_train_honours_device_cpu(tmp_path):
    base = ["train", "--task", "barbell", "--epochs", "1", "--n", "3", "--samples", "2", "--quiet"]
    assert main([*base, "--device", "cpu", "--out", str(tmp_path / "cpu")]) == 0
    assert json.loads((tmp_path / "cpu" / "metrics.json").read_text())["device"] == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without CUDA")
def test_cli_train_cuda_without_a_gpu_exits_2(tmp_path, capsys):
    # asked for CUDA without one: an error, not a CPU run
    base = ["train", "--task", "barbell", "--epochs", "1", "--n", "3", "--samples", "2", "--quiet"]
    assert main([*base, "--device", "cuda", "--out", str(tmp_path / "gpu")]) == 2
    assert "device" in capsys.readouterr().err
    assert not (tmp_path / "gpu" / "metrics.json").exists()


@pytest.fixture(scope="module")
def spectral_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    argv = ["reproduce", "--quick", "--out", str(out), "--quiet", "--tasks", "spectrum,stability"]
    assert main(argv) == 0
    return out, json.loads((out / "result.json").read_text())


def test_reproduce_spectral_studies_write_a_valid_result(spectral_result):
    _, data = spectral_result
    assert validate_result(data) == []


def test_reproduce_theorem3_claim_holds(spectral_result):
    _, data = spectral_result
    claims = {c["name"].split(":")[0]: c for c in data["claims"]}
    assert claims["Theorem 3"]["holds"] is True


def test_reproduce_records_the_stability_claim_as_measured(spectral_result):
    # the measured stability claim: official ε at large K compounds (recorded, not hidden)
    _, data = spectral_result
    stab = next(c for c in data["claims"] if c["name"].startswith("Stable-ChebNet's Jacobian"))
    assert isinstance(stab["holds"], bool)


def test_reproduce_figures_are_pngs(spectral_result):
    out, data = spectral_result
    assert data["figures"]
    for fig in data["figures"]:
        assert (out / fig["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reproduce_unknown_study_exits_2(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--tasks", "nope"]) == 2


def test_reproduce_refuses_a_device_other_than_the_cpu(tmp_path):
    # the tasks run on the CPU: another device is refused, not silently replaced
    assert main(["reproduce", "--quick", "--out", str(tmp_path / "d"), "--device", "cuda:0"]) == 2
    assert not (tmp_path / "d" / "result.json").exists()


@pytest.mark.slow
def test_reproduce_quick_runs_every_task(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--quiet"]) == 0
    data = json.loads((tmp_path / "result.json").read_text())
    assert validate_result(data) == []
    assert {t["id"] for t in data["tables"]} >= {"barbell", "ring", "stability", "theorem3"}


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["spectrum", "--hidden", "0"], "hidden"),
        (["spectrum", "--epsilon", "-1"], "epsilon"),
        (["spectrum", "--gamma", "-0.1"], "gamma"),
        (["spectrum", "--graph", "ring:2"], "graph"),
        (["spectrum", "--graph", "grid:1x1"], "graph"),
        (["train", "--task", "barbell", "--K", "0"], "K"),
        (["train", "--task", "barbell", "--steps", "0"], "steps"),
        (["train", "--task", "barbell", "--lr", "-1"], "lr"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line_naming_the_argument(tmp_path, capsys, argv, name):
    if argv[0] == "train":
        argv = [*argv, "--epochs", "1", "--n", "3", "--samples", "2", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"chebnet-stable: error: {name}:"), err
    assert not (tmp_path / "metrics.json").exists()


def test_cli_train_on_a_file_uses_its_split_masks(tmp_path):
    from chebnet_stable._train import file_splits

    n = 34
    g = nx.karate_club_graph()
    ei = torch.tensor(list(g.edges())).t()
    ei = torch.cat([ei, ei.flip(0)], dim=1)
    x = torch.randn(n, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0 if g.nodes[v]["club"] == "Mr. Hi" else 1 for v in range(n)])
    masks = {k: torch.zeros(n, dtype=torch.bool) for k in ("train", "val", "test")}
    masks["train"][:20], masks["val"][20:23], masks["test"][23:] = True, True, True
    save_npz(GraphData(x, ei, y=y, num_nodes=n), tmp_path / "k.npz", masks=masks)
    splits, *_, how = file_splits(tmp_path / "k.npz", seed=0)
    for split, name in zip(splits, ("train", "val", "test"), strict=True):
        assert torch.equal(split[0].mask, masks[name])
    argv = ["train", "--task", "file", "--data", str(tmp_path / "k.npz"), "--model", "gcn",
            "--epochs", "1", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["split"] == how == "the file's train/val/test masks (20/3/11 nodes)"


def test_cli_train_on_a_file_without_masks_says_it_split_at_random(tmp_path, capsys):
    src = torch.arange(11)
    ei = torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])  # a path, undirected
    g = GraphData(torch.randn(12, 2), ei, y=torch.arange(12) % 2, num_nodes=12)
    save_npz(g, tmp_path / "g.npz")
    argv = ["train", "--task", "file", "--data", str(tmp_path / "g.npz"), "--model", "gcn",
            "--epochs", "1", "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 0
    assert "split: no split masks in the file" in capsys.readouterr().err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["split"].startswith("no split masks in the file: nodes 60/20/20 at random")
