import dataclasses
import json
import subprocess
import sys
from argparse import _HelpAction

import lipres
import numpy as np
import pytest
import torch
from lipres._experiments import config as config_module
from lipres._experiments.reproduce import reproduce
from lipres.cli import main

from sciml_core import InputError, validate_result

TINY = dataclasses.replace(
    config_module.QUICK,
    abs_steps=20,
    abs_width=4,
    abs_depth=2,
    n_train_1d=128,
    n_test_1d=256,
    digits_width=16,
    digits_depth=1,
    digits_epochs=1,
    pgd_steps=3,
    n_certify=40,
)


@pytest.fixture
def data(tmp_path):
    g = np.random.default_rng(0)
    x = g.normal(size=(60, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    path = tmp_path / "d.npz"
    np.savez(path, x=x, y=y)
    return path


def test_reproduce_writes_a_valid_result_with_every_quick_claim(tmp_path, monkeypatch):
    import importlib

    monkeypatch.setattr(
        importlib.import_module("lipres._experiments.reproduce"), "config_for", lambda quick: TINY
    )
    path = reproduce(tmp_path, quick=True, seed=0)
    data = json.loads(path.read_text())
    assert validate_result(data) == []
    names = {c["name"] for c in data["claims"]}
    assert {
        "bound_is_respected",
        "certified_below_empirical",
        "unconstrained_not_certifiable",
    } <= names
    holds = {c["name"]: c["holds"] for c in data["claims"]}
    assert holds["bound_is_respected"] and holds["certified_below_empirical"]


TINY_FULL = dataclasses.replace(
    TINY,
    plane_width=4,
    plane_depth=1,
    plane_steps=3,
    n_train_2d=40,
    grid_2d=6,
    planes=True,
    depths=(1, 2),
    lr_grid=(5e-2,),
    lr_grid_unconstrained=(1e-2,),
)


def test_reproduce_draws_the_spec_figures_with_matplotlib(tmp_path, monkeypatch):
    """With the [plot] extra a full-mode run lists the three figures of spec §6.1 / §6.3 (depth,
    certified/PGD against ε, predictions on A3 and A5), each a PNG in the output folder."""
    import importlib

    pytest.importorskip("matplotlib")
    module = importlib.import_module("lipres._experiments.reproduce")
    monkeypatch.setattr(module, "config_for", lambda quick: TINY_FULL)
    data = json.loads(reproduce(tmp_path, quick=False, seed=0).read_text())
    assert validate_result(data) == []
    files = {f["file"] for f in data["figures"]}
    assert files == {"depth.png", "robustness.png", "predictions.png"}
    for file in files:
        assert (tmp_path / file).read_bytes()[:4] == b"\x89PNG"


def test_reproduce_without_matplotlib_draws_no_figure(tmp_path, monkeypatch):
    import importlib

    from sciml_core import MissingExtraError

    module = importlib.import_module("lipres._experiments.reproduce")
    monkeypatch.setattr(module, "config_for", lambda quick: TINY)

    def missing(package):
        raise MissingExtraError(f"pip install '{package}[plot]'")

    monkeypatch.setattr(module, "get_pyplot", missing)
    data = json.loads(reproduce(tmp_path, quick=True, seed=0).read_text())
    assert validate_result(data) == [] and data["figures"] == []
    assert not list(tmp_path.glob("*.png"))


def test_kept_predictions_are_what_the_table_measured(tmp_path):
    """The prediction figure shows the fitted model: its max error on the kept grid values is
    the table's max_err, bit for bit (seed 0, A3 and A5)."""
    from lipres._experiments.approximation import fit_cells
    from lipres._experiments.context import Context

    from sciml_core import Result

    result = Result("lipres", lipres.__version__, seed=0, device="cpu", quick=False)
    ctx = Context(result, tmp_path, TINY_FULL, 0, "cpu")
    models = {"circle": ("fixed-width", "gradient"), "points": ("fixed-width",)}
    rows = fit_cells(ctx, models, ())
    assert len(rows) == 3
    for target, model, seed, _, max_err, *_ in rows:
        assert seed == 0
        pred = ctx.arrays[("prediction", target, model)]
        assert float(np.abs(pred - ctx.arrays[("target", target)]).max()) == max_err


def test_redraw_draws_the_table_figures_of_a_saved_result(tmp_path):
    pytest.importorskip("matplotlib")
    from lipres._experiments.plots import redraw

    data = {
        "tables": [
            {
                "id": "approximation",
                "columns": ["target", "model", "max_err"],
                "rows": [
                    ["circle", "gradient", 0.3],
                    ["circle@depth2", "gradient", 0.5],
                    ["circle@depth4", "gradient", 0.4],
                ],
            },
            {
                "id": "digits",
                "columns": ["model", "seed", "clean", "certified@0.1", "pgd@0.1"],
                "rows": [["gradient", 0, 0.9, 0.8, 0.85], ["gradient", 1, 0.92, 0.82, 0.86]],
            },
        ]
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    written = redraw(path, tmp_path / "figs", prefix="r_")
    assert [f for f, _ in written] == ["r_depth.png", "r_robustness.png"]
    assert all((tmp_path / "figs" / f).read_bytes()[:4] == b"\x89PNG" for f, _ in written)


def test_reproduce_refuses_an_unknown_study(tmp_path):
    with pytest.raises(InputError, match="nope"):
        reproduce(tmp_path, quick=True, seed=0, studies=["nope"])
    assert not (tmp_path / "result.json").exists()


def test_train_then_certify_round_trip(tmp_path, data, capsys):
    out = tmp_path / "m.pt"
    args = [
        "train",
        "--data",
        str(data),
        "-o",
        str(out),
        "--width",
        "6",
        "--depth",
        "1",
        "--epochs",
        "2",
    ]
    assert main([*args, "--quiet"]) == 0
    assert main(["certify", str(out), "--data", str(data), "--eps", "0.1,0.5"]) == 0
    report = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert report["lipschitz_bound"] > 0 and set(report["certified"]) == {"0.1", "0.5"}
    assert main(["check", str(out), "--data", str(data)]) == 0


@pytest.mark.parametrize(
    "argv,match",
    [
        (["certify", "missing.pt", "--data", "{data}"], "does not exist"),
        (["certify", "{ckpt}", "--data", "{data}", "--eps", "0,0.1"], "--eps"),
        (["certify", "{ckpt}", "--data", "{data}", "--eps", "abc"], "--eps"),
        (["certify", "{ckpt}", "--data", "{noy}"], "has no array 'y'"),
        (["certify", "{ckpt}", "--data", "{wide}"], "features"),
        (["certify", "{ckpt}", "--data", "{junk}"], "cannot read"),
        (["certify", "{data}", "--data", "{data}"], "checkpoint"),
        (["train", "--data", "{nan}", "-o", "{tmp}/o.pt"], "finite"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, match, tmp_path, data, capsys):
    torch.manual_seed(0)
    ckpt = lipres.save_model(lipres.LipResNetClassifier(3, 2, 4, 1), tmp_path / "c.pt")
    np.savez(tmp_path / "noy.npz", x=np.zeros((4, 3)))
    np.savez(tmp_path / "wide.npz", x=np.zeros((4, 5)), y=np.zeros(4, dtype=np.int64))
    np.savez(tmp_path / "nan.npz", x=np.full((4, 3), np.nan), y=np.zeros(4, dtype=np.int64))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    subs = {
        "data": data,
        "ckpt": ckpt,
        "tmp": tmp_path,
        **{k: tmp_path / f"{k}.npz" for k in ("noy", "wide", "nan", "junk")},
    }
    argv = [a.format(**subs) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lipres: error:")
    assert pytest.importorskip("re").search(match, err), err


def _bad_files(tmp_path, data):
    """Damaged user files: a cut .npz, junk bytes, an object array; a cut, junk and pickled
    checkpoint (the last would run code if it were unpickled)."""
    good = data.read_bytes()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 this is not an archive")
    np.savez(
        tmp_path / "object.npz",
        x=np.array([[1.0, "a", None]] * 4, dtype=object),
        y=np.zeros(4, dtype=np.int64),
    )
    torch.manual_seed(0)
    ckpt = lipres.save_model(lipres.LipResNetClassifier(3, 2, 4, 1), tmp_path / "c.pt")
    raw = ckpt.read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "junk.pt").write_bytes(b"\x00\x01 not a torch file")
    torch.save(torch.nn.Linear(3, 2), tmp_path / "pickled.pt")
    return ckpt


@pytest.mark.parametrize("bad", ["cut", "junk", "object"])
@pytest.mark.parametrize("command", ["train", "certify", "check"])
def test_a_damaged_data_file_is_one_line_naming_argument_and_file(
    command, bad, tmp_path, data, capsys
):
    ckpt = _bad_files(tmp_path, data)
    out = tmp_path / "out.pt"
    path = tmp_path / f"{bad}.npz"
    argv = {
        "train": ["train", "--data", str(path), "-o", str(out), "--epochs", "1"],
        "certify": ["certify", str(ckpt), "--data", str(path)],
        "check": ["check", str(ckpt), "--data", str(path)],
    }[command]
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lipres: error: --data:"), err
    assert str(path) in err
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize("bad", ["cut", "junk", "pickled", "missing"])
@pytest.mark.parametrize("command", ["certify", "check"])
def test_a_damaged_checkpoint_is_one_line_naming_argument_and_file(
    command, bad, tmp_path, data, capsys
):
    _bad_files(tmp_path, data)
    path = tmp_path / f"{bad}.pt"
    argv = [command, str(path), "--data", str(data)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lipres: error: checkpoint:"), err
    assert str(path) in err
    assert captured.out == ""


@pytest.mark.parametrize(
    "command,labels",
    [("certify", [0, 2]), ("certify", [-1, 1]), ("train", [-1, 1]), ("train", [0, 0])],
    ids=["certify_above_k", "certify_negative", "train_negative", "train_one_class"],
)
def test_labels_out_of_range_are_one_line_naming_data(command, labels, tmp_path, data, capsys):
    """Labels outside 0..K-1 (certify: K of the checkpoint, 2 here; train: K = largest label + 1,
    which must be >= 2) are refused naming --data and the labels found; nothing is written."""
    torch.manual_seed(0)
    ckpt = lipres.save_model(lipres.LipResNetClassifier(3, 2, 4, 1), tmp_path / "c.pt")
    bad = tmp_path / "bad.npz"
    y = np.resize(np.array(labels, dtype=np.int64), 60)
    np.savez(bad, x=np.load(data)["x"], y=y)
    out = tmp_path / "out.pt"
    argv = {
        "train": ["train", "--data", str(bad), "-o", str(out), "--epochs", "1", "--quiet"],
        "certify": ["certify", str(ckpt), "--data", str(bad)],
    }[command]
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lipres: error: --data:"), err
    assert "labels must" in err and f"[{min(labels)}, {max(labels)}]" in err, err
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize("stored", ["0.2.0", "1.1.0"])
@pytest.mark.parametrize("command", ["certify", "check"])
def test_a_checkpoint_of_another_version_is_one_line_naming_both(
    command, stored, tmp_path, data, capsys
):
    """A checkpoint written by another major.minor of lipres is refused by the command line
    (exit 2, one line naming the argument and both versions), never loaded."""
    torch.manual_seed(0)
    ckpt = lipres.save_model(lipres.LipResNetClassifier(3, 2, 4, 1), tmp_path / "c.pt")
    raw = torch.load(ckpt, weights_only=True)
    raw["version"] = stored
    torch.save(raw, ckpt)
    assert main([command, str(ckpt), "--data", str(data)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lipres: error: checkpoint:"), err
    assert stored in err and lipres.__version__ in err, err
    assert captured.out == ""


def test_train_with_bad_data_leaves_no_output_file(tmp_path, data, monkeypatch, capsys):
    monkeypatch.setattr("lipres.cli.fit_classifier", _no_work)
    np.savez(tmp_path / "nan.npz", x=np.full((4, 3), np.nan), y=np.zeros(4, dtype=np.int64))
    out = tmp_path / "m.pt"
    assert main(["train", "--data", str(tmp_path / "nan.npz"), "-o", str(out)]) == 2
    assert "finite" in capsys.readouterr().err
    assert not out.exists() and set(tmp_path.iterdir()) == {data, tmp_path / "nan.npz"}


def _no_work(*args, **kwargs):
    raise AssertionError("the command started its work")


@pytest.mark.parametrize("command", ["reproduce", "bench", "train"])
def test_an_unwritable_output_is_refused_before_any_work(command, tmp_path, data, monkeypatch):
    import importlib

    for module, name in (
        ("lipres._experiments.reproduce", "reproduce"),
        ("lipres._experiments.bench", "bench"),
        ("lipres.cli", "fit_classifier"),
        ("lipres.cli", "read_archive"),
    ):
        monkeypatch.setattr(importlib.import_module(module), name, _no_work)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    argv = {
        "reproduce": ["reproduce", "--quick", "--out", str(blocker / "sub")],
        "bench": ["bench", "--quick", "--out", str(blocker / "sub")],
        "train": ["train", "--data", str(data), "-o", str(blocker / "m.pt")],
    }[command]
    assert main(argv) == 2
    assert blocker.read_text() == "not a folder"


def test_train_refuses_an_output_that_is_not_a_checkpoint(tmp_path, data, capsys):
    assert main(["train", "--data", str(data), "-o", str(tmp_path / "m.txt")]) == 2
    assert "must end in .pt or .pth" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "certify", "check", "reproduce", "bench"])
def test_help_shows_every_default(command, capsys):
    assert main([command, "--help"]) == 0
    assert "usage" in capsys.readouterr().out
    parser = lipres.cli.app._subparsers.choices[command]
    options = [a for a in parser._actions if a.option_strings and not isinstance(a, _HelpAction)]
    assert options
    for action in options:
        assert action.help and ("default" in action.help or "required" in action.help), action


def test_importing_the_package_or_its_cli_loads_no_experiments_and_no_extras():
    code = (
        "import sys, lipres, lipres.cli; "
        "bad = [m for m in sys.modules if m.startswith(('lipres._experiments', 'sklearn', "
        "'orthogonium', 'deel', 'matplotlib'))]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_digits_split_is_stratified_and_seeded():
    a, b = lipres.load_digits_split(seed=3), lipres.load_digits_split(seed=3)
    assert torch.equal(a.x_test, b.x_test)
    counts = torch.bincount(a.y_test, minlength=10).double()
    assert float(counts.max() - counts.min()) <= 3
    assert not torch.equal(a.x_test, lipres.load_digits_split(seed=4).x_test)


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"lipres\[data\]"):
        lipres.load_digits_split(seed=0)


@pytest.mark.parametrize(
    "target,d",
    [
        (lipres.abs_target(), 1),
        (lipres.triangle_wave(1.0), 1),
        (lipres.distance_to_circle(1.0), 2),
        (lipres.distance_to_square_boundary(1.0), 2),
        (lipres.distance_to_points(lipres.random_points(5, seed=0)), 2),
        (lipres.random_max_affine(4, seed=0), 2),
    ],
)
def test_targets_are_one_lipschitz(target, d):
    x = lipres.grid([(-2.0, 2.0)] * d, 2001 if d == 1 else 201, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    a, b = (
        x[torch.randint(0, len(x), (20000,), generator=g)],
        x[torch.randint(0, len(x), (20000,), generator=g)],
    )
    keep = (a - b).norm(dim=1) > 0
    ratio = (target(a[keep]) - target(b[keep])).abs() / (a[keep] - b[keep]).norm(dim=1)
    assert float(ratio.max()) <= 1 + 1e-12


def test_certified_radius_is_the_exact_distance_for_a_linear_classifier():
    torch.manual_seed(1)
    net = lipres.LipResNetClassifier(3, 3, 3, 0).double()
    with torch.no_grad():
        net.lift.weight.copy_(torch.eye(3, dtype=torch.float64))
        net.lift.bias.zero_()
    x = torch.randn(200, 3, dtype=torch.float64)
    y = net(x).argmax(1)
    r = lipres.certified_radius(net, x, y)
    u = net.lift.matrix().detach()  # (1 - 1e-6) I after the rescaling
    w, b = net.head.weight.detach() @ u, net.head.bias.detach()
    exact = torch.full((200,), float("inf"), dtype=torch.float64)
    for j in range(3):
        wd = w[y] - w[j]
        dist = ((x * wd).sum(1) + b[y] - b[j]) / wd.norm(dim=1)
        exact = torch.where(y == j, exact, torch.minimum(exact, dist))
    assert float((r - exact).abs().max()) <= 1e-10
    logits = net(x).detach()
    margin = logits.gather(1, y[:, None])[:, 0] - logits.scatter(1, y[:, None], -1e300).amax(1)
    assert bool((r >= margin / (2**0.5 * net.lipschitz_bound()) - 1e-12).all())


def test_certified_radius_refuses_an_uncertified_model():
    with pytest.raises(lipres.NotCertifiedError):
        lipres.certified_radius(torch.nn.Linear(3, 2), torch.zeros(2, 3), torch.zeros(2).long())


@pytest.mark.slow
def test_pgd_never_breaks_a_certified_radius():
    split = lipres.load_digits_split(seed=0)
    torch.manual_seed(0)
    net = lipres.LipResNetClassifier(64, 10, 32, 2)
    lipres.fit_classifier(net, split.x_train, split.y_train, epochs=5)
    x, y = split.x_test[:200], split.y_test[:200]
    r = lipres.certified_radius(net, x, y)
    for eps in (0.1, 0.3):
        adv = lipres.pgd_l2(net, x, y, eps, steps=200, restarts=10, seed=0)
        broken = (net(adv).argmax(1) != y) & (r > eps)
        assert not bool(broken.any())


def test_pgd_does_not_break_certified_points_quick():
    split = lipres.load_digits_split(seed=1)
    torch.manual_seed(0)
    net = lipres.LipResNetClassifier(64, 10, 16, 1)
    lipres.fit_classifier(net, split.x_train, split.y_train, epochs=2)
    x, y = split.x_test[:60], split.y_test[:60]
    r = lipres.certified_radius(net, x, y)
    adv = lipres.pgd_l2(net, x, y, 0.2, steps=20, restarts=2, seed=0)
    assert float((adv - x).norm(dim=1).max()) <= 0.2 + 1e-6
    assert not bool(((net(adv).argmax(1) != y) & (r > 0.2)).any())


def _fake_timing(ours, peer, *, repeats, warmup, device, label):
    from sciml_core import Comparison

    return Comparison(label, 1.0, 2.0, 2.0, repeats, 1, 0.0, str(device), False)


@pytest.mark.parametrize(
    "peer,present,absent",
    [
        ("orthogonium", ["orthogonium"], ["deel-torchlip"]),
        ("deel-torchlip", ["deel-torchlip"], ["orthogonium"]),
        ("all", ["orthogonium", "deel-torchlip"], []),
    ],
)
def test_bench_times_the_chosen_peers_side_by_side(peer, present, absent, tmp_path, monkeypatch):
    import warnings

    from lipres._experiments import bench as bench_module

    with warnings.catch_warnings():  # orthogonium 0.0.4's sources hold invalid escapes
        warnings.simplefilter("ignore", SyntaxWarning)
        for lib in ("orthogonium.layers.conv.SLL.sll_layer", "deel.torchlip"):
            pytest.importorskip(lib)
    monkeypatch.setattr(bench_module, "compare_timing", _fake_timing)
    assert main(["bench", "--quick", "--peer", peer, "--out", str(tmp_path), "--quiet"]) == 0
    report = json.loads((tmp_path / "bench.json").read_text())
    labels = [row["label"] for row in report["rows"]]
    assert report["peers"] == (present if peer != "all" else ["orthogonium", "deel-torchlip"])
    for width in (64, 256):
        for lib in present:
            mine = [lab for lab in labels if lab.startswith(f"d={width}:") and lib in lab]
            for ours in ("ours (verified)", "ours (exact)", "ours (power)"):
                assert any(lab.startswith(f"d={width}: {ours} vs {lib}") for lab in mine), ours
        assert any(lab.startswith(f"d={width}: overhead") for lab in labels)
    assert not [lab for lab in labels for lib in absent if lib in lab]
    assert all(row["speedup"] == row["t_peer"] / row["t_ours"] for row in report["rows"])


def test_bench_skips_a_missing_peer_with_a_note(tmp_path, monkeypatch):
    from lipres._experiments import bench as bench_module

    monkeypatch.setattr(bench_module, "compare_timing", _fake_timing)
    monkeypatch.setattr(bench_module, "_sll", lambda d: None)
    with pytest.warns(UserWarning, match="orthogonium is not installed"):
        code = main(["bench", "--quick", "--peer", "orthogonium", "--out", str(tmp_path)])
    assert code == 0
    labels = [r["label"] for r in json.loads((tmp_path / "bench.json").read_text())["rows"]]
    assert labels and not any("orthogonium" in lab for lab in labels)


def test_bench_refuses_an_unknown_peer(tmp_path, capsys):
    assert main(["bench", "--peer", "torchlip", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--peer" in err[0]
    assert not (tmp_path / "b").exists()


def test_step_ratio_times_every_chosen_peer_against_each_of_ours(monkeypatch):
    import math

    from lipres._experiments import step_ratio

    fakes = {"a": lambda d: torch.nn.Linear(d, d), "b": lambda d: torch.nn.Linear(d, d)}
    monkeypatch.setattr(step_ratio, "PEERS", fakes)
    table = step_ratio.ratio_table(4, peers=["b", "a"], rounds=1, calls=1)
    assert list(table) == ["b", "a"]
    for row in table.values():
        assert list(row) == ["verified", "exact", "power", "svd", "plain"]
        assert all(math.isfinite(v) and v > 0 for v in row.values())


def test_step_ratio_is_the_peers_time_over_ours(monkeypatch):
    """On a fake clock where the peer's forward costs 1 s and ours nothing, every ratio is the
    peer's time over ours (far above 1): a swapped ratio would be far below 1."""
    from types import SimpleNamespace

    from lipres._experiments import step_ratio

    clock = [0.0]

    class SlowPeer(torch.nn.Linear):
        def forward(self, x):
            clock[0] += 1.0
            return super().forward(x)

    def tick():
        clock[0] += 1e-6
        return clock[0]

    monkeypatch.setattr(step_ratio, "PEERS", {"slow": lambda d: SlowPeer(d, d)})
    monkeypatch.setattr(step_ratio, "time", SimpleNamespace(perf_counter=tick))
    table = step_ratio.ratio_table(4, peers=["slow"], rounds=3, calls=2)
    assert all(v > 1e4 for v in table["slow"].values())


@pytest.mark.parametrize("threads", [1, 2])
def test_bench_gives_numpys_blas_torchs_thread_count(threads):
    """The verified norm runs numpy's BLAS on the CPU: the bench limits it to torch's threads,
    so our step never uses more cores than the peer's."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from lipres._experiments.bench import blas_threads_as_torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with blas_threads_as_torch():
            blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
            assert blas
            assert {i["num_threads"] for i in blas} == {threads}
    finally:
        torch.set_num_threads(before)
