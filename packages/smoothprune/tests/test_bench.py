import pytest
from smoothprune._experiments import bench as bench_module


@pytest.mark.parametrize(
    ("peer", "module", "line"),
    [
        ("tensorly", "tensorly", "skipped: SVD vs Tucker-2 (tensorly not installed"),
        (
            "torch-pruning",
            "torch_pruning",
            "skipped: compression time vs Torch-Pruning (torch_pruning not installed",
        ),
    ],
)
def test_a_missing_peer_is_a_skipped_line_not_an_error(peer, module, line, monkeypatch, capsys):
    monkeypatch.setattr(bench_module, "_installed", lambda name: name != module)
    rows = bench_module.bench(quick=True, seed=0, peer=peer)
    assert rows == []
    assert line in capsys.readouterr().out


def test_an_unknown_peer_is_refused():
    with pytest.raises(ValueError, match="peer must be one of"):
        bench_module.bench(quick=True, seed=0, peer="nope")
