import pickle
import sys

import numpy as np
import pytest
import torch
from smoothprune import (
    GapCNN,
    SmallCNN,
    count_parameters,
    load_cifar10,
    prune_channels,
    prune_unstructured,
)
from smoothprune._compress import compressible_layers
from smoothprune_testing import _fake_cifar, modules_after_import

from sciml_core import InputError, MissingExtraError


@pytest.mark.parametrize("amount", [0.3, 0.7, 0.9])
def test_global_unstructured_leaves_exactly_round_a_n_zeros(amount):
    torch.manual_seed(0)
    model = SmallCNN()
    pruned = prune_unstructured(model, amount)
    layers = compressible_layers(pruned)
    n = sum(m.weight.numel() for _, m in layers)
    zeros = sum(int((m.weight == 0).sum()) for _, m in layers)
    assert zeros == round(amount * n)
    assert count_parameters(pruned) == count_parameters(model)


@pytest.mark.parametrize("factory", [SmallCNN, GapCNN])
@pytest.mark.parametrize("amount", [0.3, 0.5])
def test_real_channel_removal_equals_the_masked_form(factory, amount):
    torch.manual_seed(0)
    model = factory().eval()
    removed = prune_channels(model, amount).eval()
    masked = prune_channels(model, amount, remove=False).eval()
    x = torch.randn(4, 1, 20, 20)
    assert (removed(x) - masked(x)).abs().max().item() <= 1e-6


def test_channel_removal_count_equals_the_formula():
    torch.manual_seed(0)
    removed = prune_channels(SmallCNN(), 0.5)
    # c1 1->32; c2 32->32; c3 32->64; f1 (64*25)->256; f2 256->10
    expected = (
        (32 * 9 + 32) + (32 * 32 * 9 + 32) + (32 * 64 * 9 + 64) + (64 * 25 * 256 + 256) + 2570
    )
    assert count_parameters(removed) == expected


def test_torch_pruning_backend_removes_channels():
    pytest.importorskip("torch_pruning")
    torch.manual_seed(0)
    model = GapCNN()
    pruned = prune_channels(
        model, 0.5, backend="torch-pruning", example_inputs=torch.randn(1, 1, 20, 20)
    )
    assert count_parameters(pruned) < 0.4 * count_parameters(model)
    assert pruned(torch.randn(2, 1, 20, 20)).shape == (2, 10)


def test_digits20_is_seeded_and_prefix_stable():
    pytest.importorskip("sklearn")
    from smoothprune import digits20
    from smoothprune._data import render_digits20

    a = digits20(seed=0)
    b = digits20(seed=0)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert len(a[0]) == 4500 and len(a[2]) == 891 and a[0].shape[1:] == (1, 20, 20)
    few, _, off_few = render_digits20(5, seed=1)
    many, _, off_many = render_digits20(40, seed=1)
    assert np.array_equal(few, many[:5])
    assert np.array_equal(off_few, off_many[:5])
    assert off_many.min() >= 0 and off_many.max() <= 4
    # another seed draws other offsets and noise (the law, on the first samples only)
    assert not np.array_equal(render_digits20(5, seed=0)[0], few)


def test_digits20_without_scikit_learn_names_the_extra(monkeypatch):
    from smoothprune import digits20

    # a None entry in sys.modules makes the import fail, as if scikit-learn were absent
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(MissingExtraError, match=r"\[data\]"):
        digits20()


def test_cifar10_reader_on_fake_files(tmp_path):
    folder = _fake_cifar(tmp_path)
    x, y = load_cifar10(tmp_path, verify=False)
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    with open(folder / "data_batch_1", "rb") as f:
        raw = pickle.load(f, encoding="bytes")
    assert np.array_equal(x[0], raw[b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0))
    xt, _ = load_cifar10(tmp_path, train=False, verify=False)
    assert xt.shape == (4, 32, 32, 3)


def test_cifar10_reader_checks_the_md5(tmp_path):
    _fake_cifar(tmp_path)
    with pytest.raises(InputError, match="MD5"):
        load_cifar10(tmp_path)


def test_cifar10_torchvision_backend_refuses_then_loads_with_integrity_patched(
    tmp_path, monkeypatch
):
    pytest.importorskip("torchvision")
    _fake_cifar(tmp_path)
    with pytest.raises(InputError, match="MD5"):
        load_cifar10(tmp_path, backend="torchvision")
    import torchvision.datasets.cifar as tv

    monkeypatch.setattr(tv, "check_integrity", lambda *a, **k: True)
    x, y = load_cifar10(tmp_path, backend="torchvision")
    native = load_cifar10(tmp_path, verify=False)
    assert np.array_equal(x, native[0]) and np.array_equal(y, native[1])


def test_cifar10_pickle_naming_another_global_is_refused(tmp_path):
    folder = _fake_cifar(tmp_path)
    # protocol 2: GLOBAL os.system, then call it with ("true",)
    (folder / "test_batch").write_bytes(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.")
    with pytest.raises(InputError, match=r"os\.system"):
        load_cifar10(tmp_path, train=False, verify=False)


def test_cifar10_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cifar-10-batches-py"):
        load_cifar10(tmp_path)


def test_import_loads_no_optional_dependency():
    mods = ("torchvision", "sklearn", "torch_pruning", "tensorly", "matplotlib")
    assert [m for m in mods if m in modules_after_import()] == []


def test_md5_table_is_the_official_one():
    from smoothprune._cifar import CIFAR_MD5

    assert CIFAR_MD5["test_batch"] == "40351d587109b95175f43aff81a1287e"


def test_tucker2_at_full_ranks_reconstructs_the_weight():
    pytest.importorskip("tensorly")
    from smoothprune import tucker2_factors

    w = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    core, (u_out, u_in) = tucker2_factors(w, (6, 4))
    back = np.einsum("abpq,oa,ib->oipq", core, u_out, u_in)
    assert np.allclose(back, w.numpy(), atol=1e-8)


def test_tucker2_without_tensorly_names_the_bench_extra(monkeypatch):
    from smoothprune import tucker2_factors

    monkeypatch.setitem(sys.modules, "tensorly", None)
    with pytest.raises(MissingExtraError, match=r"\[bench\]"):
        tucker2_factors(torch.zeros(2, 2, 1, 1), (1, 1))
