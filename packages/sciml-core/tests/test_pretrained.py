"""load_pretrained and inspect_weights on weights files the tests write themselves."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sciml_core import (
    InputError,
    LoadReport,
    MissingExtraError,
    WeightsInfo,
    inspect_weights,
    load_pretrained,
)
from sciml_core import _pretrained as pretrained

torch = pytest.importorskip("torch")

CONTAINERS = ("state_dict", "model_state_dict", "model", "module", "ema", "net")


def net(seed: int) -> torch.nn.Module:
    """A tiny module with parameters and buffers (BatchNorm's running statistics)."""
    torch.manual_seed(seed)
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    module[1].running_mean.uniform_()  # buffers differ between seeds too
    module[1].num_batches_tracked.fill_(seed + 7)
    return module


def bits(module: torch.nn.Module) -> dict[str, bytes]:
    """Every state-dict entry as raw bytes: equal means equal bit for bit."""
    return {
        k: v.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        for k, v in module.state_dict().items()
    }


def state(module: torch.nn.Module, prefix: str = "") -> dict[str, torch.Tensor]:
    return {prefix + k: v.clone() for k, v in module.state_dict().items()}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_safetensors_by_hand(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    """The safetensors layout (8-byte header length, JSON header, raw data) without the package."""
    codes = {np.dtype("float32"): "F32", np.dtype("int64"): "I64", np.dtype("float16"): "F16"}
    header: dict[str, Any] = {}
    data = b""
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {
            "dtype": codes[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


@pytest.fixture
def trained() -> torch.nn.Module:
    return net(0)


@pytest.fixture
def fresh() -> torch.nn.Module:
    return net(1)


@pytest.fixture
def saved(tmp_path: Path, trained: torch.nn.Module) -> Path:
    path = tmp_path / "plain.pt"
    torch.save(trained.state_dict(), path)
    return path


# ------------------------------------------------------------------- formats and containers


def write_plain(path: Path, module: torch.nn.Module) -> None:
    torch.save(state(module), path)


def write_legacy(path: Path, module: torch.nn.Module) -> None:
    torch.save(state(module), path, _use_new_zipfile_serialization=False)


def write_safetensors(path: Path, module: torch.nn.Module) -> None:
    st = pytest.importorskip(
        "safetensors.torch", reason="safetensors is not installed (the [safetensors] extra)"
    )
    st.save_file(state(module), path)


def write_safetensors_by_hand(path: Path, module: torch.nn.Module) -> None:
    pytest.importorskip("safetensors", reason="safetensors is not installed")
    save_safetensors_by_hand(path, {k: v.numpy() for k, v in state(module).items()})


@pytest.mark.parametrize(
    ("name", "write", "container", "fmt"),
    [
        ("plain.pt", write_plain, None, "torch-zip"),
        ("legacy.pt", write_legacy, None, "torch-legacy"),
        ("w.safetensors", write_safetensors, None, "safetensors"),
        ("by-hand.bin", write_safetensors_by_hand, None, "safetensors"),
    ],
    ids=["torch-zip", "torch-legacy", "safetensors", "safetensors-any-suffix"],
)
def test_each_file_format_loads_every_entry(
    tmp_path: Path,
    trained: torch.nn.Module,
    fresh: torch.nn.Module,
    name: str,
    write: Callable[[Path, torch.nn.Module], None],
    container: str | None,
    fmt: str,
) -> None:
    path = tmp_path / name
    write(path, trained)
    report = load_pretrained(fresh, path, min_matched=1.0)
    assert bits(fresh) == bits(trained)
    assert report.fraction == 1.0 and report.container is container
    assert report.missing == report.unexpected == report.shape_mismatch == ()
    assert inspect_weights(path).format == fmt


@pytest.mark.parametrize("key", CONTAINERS)
def test_each_container_key_is_unwrapped(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module, key: str
) -> None:
    path = tmp_path / "ckpt.pt"
    # an optimizer's state dict as torch.optim writes it (tensors one level further down)
    optimizer = {"state": {0: {"momentum_buffer": torch.ones(4, 3)}}, "param_groups": [{"lr": 0.1}]}
    checkpoint = {"epoch": 3, "optimizer": optimizer, key: state(trained)}
    torch.save(checkpoint, path)
    report = load_pretrained(fresh, path, min_matched=1.0)
    assert report.container == key
    assert bits(fresh) == bits(trained)


def test_first_tensor_holding_container_key_wins(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "ckpt.pt"
    # state_dict holds no tensors, model does, ema (later in the order) holds other weights
    torch.save({"ema": state(net(5)), "state_dict": {}, "model": state(trained)}, path)
    assert load_pretrained(fresh, path).container == "model"
    assert bits(fresh) == bits(trained)


@pytest.mark.parametrize(
    "prefix",
    ["module.", "_orig_mod.", "module._orig_mod.", "_orig_mod.module.", "model.", "backbone."],
)
def test_wrapper_prefix_carried_by_every_key_is_stripped(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module, prefix: str
) -> None:
    path = tmp_path / "wrapped.pt"
    torch.save({"state_dict": state(trained, prefix)}, path)
    report = load_pretrained(fresh, path, min_matched=1.0)
    assert report.unexpected == ()
    assert bits(fresh) == bits(trained)


def test_prefix_not_carried_by_every_key_is_kept(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "mixed.pt"
    weights = state(trained, "module.")
    weights["step"] = torch.tensor(4)
    torch.save(weights, path)
    report = load_pretrained(fresh, path, min_matched=0.0)
    assert report.matched == ()
    assert "module.0.weight" in report.unexpected


class Wrapper(torch.nn.Module):
    """A module whose own keys all start with ``model.``."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.model = net(seed)


def test_prefix_that_the_module_itself_carries_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "wrapper.pt"
    torch.save(Wrapper(0).state_dict(), path)
    target = Wrapper(1)
    report = load_pretrained(target, path, min_matched=1.0)
    assert report.fraction == 1.0
    assert bits(target) == bits(Wrapper(0))


def test_custom_strip_replaces_the_default(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "custom.pt"
    torch.save(state(trained, "student.module."), path)
    assert load_pretrained(fresh, path, strip=("module.", "student.")).fraction == 1.0
    assert bits(fresh) == bits(trained)


# ------------------------------------------------------------------------ select, key_map


class EncoderDecoder(torch.nn.Module):
    def __init__(self, seed: int) -> None:
        super().__init__()
        self.encoder = net(seed)
        torch.manual_seed(seed + 100)
        self.decoder = torch.nn.Linear(2, 3)


@pytest.mark.parametrize(
    ("prefix", "select"), [("", "encoder"), ("", "encoder."), ("module.", "encoder")]
)
def test_select_keeps_one_subtree(
    tmp_path: Path, fresh: torch.nn.Module, prefix: str, select: str
) -> None:
    path = tmp_path / "full.pt"
    full = EncoderDecoder(0)
    torch.save({"model": state(full, prefix)}, path)
    report = load_pretrained(fresh, path, select=select, min_matched=1.0)
    assert report.unexpected == ()  # the decoder's keys were left out, not reported unexpected
    assert bits(fresh) == bits(full.encoder)


def test_select_that_matches_nothing_names_the_top_level_names(
    tmp_path: Path, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "full.pt"
    torch.save(EncoderDecoder(0).state_dict(), path)
    before = bits(fresh)
    with pytest.raises(InputError, match=r"select='image_encoder' matches no key") as info:
        load_pretrained(fresh, path, select="image_encoder")
    assert "decoder, encoder" in str(info.value)
    assert bits(fresh) == before


@pytest.mark.parametrize(
    "key_map",
    [[(r"^layers\.(\d+)\.", r"\1.")], {r"^layers\.(\d+)\.": r"\1."}],
    ids=["pairs", "dict"],
)
def test_key_map_renames_file_keys(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module, key_map: Any
) -> None:
    path = tmp_path / "renamed.pt"
    torch.save(state(trained, "layers."), path)
    report = load_pretrained(fresh, path, strip=(), key_map=key_map, min_matched=1.0)
    assert report.unexpected == ()
    assert bits(fresh) == bits(trained)


def test_key_map_pairs_apply_in_order(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "renamed.pt"
    torch.save(state(trained, "a."), path)
    key_map = [(r"^a\.", "b."), (r"^b\.", "")]  # the second sees the first's output
    assert load_pretrained(fresh, path, strip=(), key_map=key_map).fraction == 1.0
    assert bits(fresh) == bits(trained)


def test_key_map_applies_after_strip_and_select(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "renamed.pt"
    torch.save(state(trained, "module.enc.stage."), path)
    report = load_pretrained(fresh, path, select="enc", key_map=[(r"^stage\.", "")])
    assert report.fraction == 1.0
    assert bits(fresh) == bits(trained)


def test_key_map_that_merges_two_keys_is_an_input_error(
    tmp_path: Path, saved: Path, fresh: torch.nn.Module
) -> None:
    with pytest.raises(InputError, match=r"key_map\[0\].*gives two file keys the same name"):
        load_pretrained(fresh, saved, key_map=[(r"\.(weight|bias)$", ".w")])


# ------------------------------------------------------------------------------- matching


def test_shape_mismatch_is_listed_and_never_loaded(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "other-head.pt"
    weights = state(trained)
    weights["3.weight"] = torch.ones(5, 4)
    weights["3.bias"] = torch.ones(5)
    torch.save(weights, path)
    before = bits(fresh)
    report = load_pretrained(fresh, path, min_matched=0.5)
    assert report.shape_mismatch == (
        ("3.weight", (5, 4), (2, 4)),
        ("3.bias", (5,), (2,)),
    )
    assert "3.weight" not in report.matched + report.missing + report.unexpected
    after = bits(fresh)
    assert after["3.weight"] == before["3.weight"] and after["3.bias"] == before["3.bias"]
    assert after["0.weight"] == bits(trained)["0.weight"]


def test_unmatched_entries_are_left_untouched(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "no-head.pt"
    weights = {k: v for k, v in state(trained).items() if not k.startswith("3.")}
    torch.save(weights, path)
    before = bits(fresh)
    report = load_pretrained(fresh, path, min_matched=0.7)
    assert report.missing == ("3.weight", "3.bias")
    assert report.fraction == pytest.approx(7 / 9)
    after, want = bits(fresh), bits(trained)
    assert all(after[k] == want[k] for k in report.matched)
    assert all(after[k] == before[k] for k in report.missing)


def test_below_min_matched_leaves_the_module_unchanged_bit_for_bit(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "partial.pt"
    weights = {k: v for k, v in state(trained).items() if k.startswith("0.")}  # 2 of 9 entries
    torch.save(weights, path)
    before = bits(fresh)
    with pytest.raises(InputError, match="nothing was loaded"):
        load_pretrained(fresh, path)
    assert bits(fresh) == before


def test_below_min_matched_error_lists_counts_and_the_first_ten_keys(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(8)])  # 16 entries
    path = tmp_path / "other.pt"
    torch.save(
        {f"other.{i}": torch.zeros(1) for i in range(13)} | {"0.weight": torch.zeros(2, 2)}, path
    )
    with pytest.raises(InputError) as info:
        load_pretrained(module, path)
    message = str(info.value)
    assert "1 of the module's 16 state-dict entries match (6.2%, below min_matched=0.9)" in message
    assert "15 missing, 13 unexpected, 0 of another shape" in message
    missing = [k for k in module.state_dict() if k != "0.weight"]
    assert f"First missing: {', '.join(missing[:10])} (and 5 more)." in message
    unexpected = [f"other.{i}" for i in range(13)]
    assert f"First unexpected: {', '.join(unexpected[:10])} (and 3 more)." in message
    assert "\n" not in message


def test_min_matched_is_inclusive(tmp_path: Path, trained: torch.nn.Module) -> None:
    path = tmp_path / "partial.pt"
    weights = {k: v for k, v in state(trained).items() if not k.startswith("3.")}  # 7 of 9
    torch.save(weights, path)
    assert load_pretrained(net(1), path, min_matched=7 / 9).fraction == 7 / 9
    with pytest.raises(InputError, match="nothing was loaded"):
        load_pretrained(net(1), path, min_matched=7 / 9 + 1e-9)


def test_lower_float_precision_is_cast_and_reported(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "half.pt"
    weights = state(trained)
    weights["0.weight"] = weights["0.weight"].half()
    torch.save(weights, path)
    report = load_pretrained(fresh, path, min_matched=1.0)
    assert report.cast == (("0.weight", "float16", "float32"),)
    assert fresh[0].weight.dtype == torch.float32
    assert torch.equal(fresh[0].weight, weights["0.weight"].float())


def test_other_dtype_kind_is_listed_and_never_loaded(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "float-counter.pt"
    weights = state(trained)
    weights["1.num_batches_tracked"] = torch.tensor(3.5)
    torch.save(weights, path)
    before = bits(fresh)["1.num_batches_tracked"]
    report = load_pretrained(fresh, path, min_matched=0.8)
    assert report.dtype_mismatch == (("1.num_batches_tracked", "float32", "int64"),)
    assert bits(fresh)["1.num_batches_tracked"] == before


def test_module_keeps_its_tensors_dtype_and_requires_grad(
    tmp_path: Path, saved: Path, trained: torch.nn.Module
) -> None:
    module = net(1).double()
    module[0].weight.requires_grad_(False)
    params = {k: (p, p.data_ptr()) for k, p in module.named_parameters()}
    load_pretrained(module, saved, min_matched=1.0)
    for key, (param, ptr) in params.items():
        now = dict(module.named_parameters())[key]
        assert now is param and now.data_ptr() == ptr and now.dtype == torch.float64
    assert module[0].weight.requires_grad is False and module[3].weight.requires_grad is True
    assert torch.equal(module[3].weight, trained[3].weight.double())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_module_keeps_its_device_and_dtype(saved: Path, trained: torch.nn.Module) -> None:
    module = net(1).cuda().half()
    report = load_pretrained(module, saved, min_matched=1.0)
    assert all(v.device.type == "cuda" for v in module.state_dict().values())
    assert module[0].weight.dtype == torch.float16
    assert torch.equal(module[0].weight.cpu(), trained[0].weight.detach().half())
    assert ("0.weight", "float32", "float16") in report.cast


def test_chunked_copy_reloads_released_pages_of_shared_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tied(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Linear(64, 64)
            self.b = torch.nn.Linear(64, 64)
            self.b.weight = self.a.weight  # one storage under two keys in the file

    torch.manual_seed(0)
    source = Tied()
    path = tmp_path / "tied.pt"
    torch.save(source.state_dict(), path)
    released: list[int] = []
    real = pretrained._MappedPages.release

    def spy(self: Any, tensors: Any) -> None:
        tensors = list(tensors)
        released.append(len(tensors))
        real(self, tensors)

    monkeypatch.setattr(pretrained, "_COPY_CHUNK", 1)  # one tensor per chunk
    monkeypatch.setattr(pretrained._MappedPages, "release", spy)
    torch.manual_seed(1)
    target = torch.nn.ModuleDict({"a": torch.nn.Linear(64, 64), "b": torch.nn.Linear(64, 64)})
    load_pretrained(target, path, min_matched=1.0)
    assert torch.equal(target["a"].weight, source.a.weight)
    assert torch.equal(target["b"].weight, source.a.weight)  # read again after the release
    assert torch.equal(target["b"].bias, source.b.bias)
    if sys.platform.startswith("linux"):
        assert released == [1, 1, 1, 1]


def test_zip_files_are_read_weights_only_and_memory_mapped(
    tmp_path: Path, saved: Path, fresh: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = tmp_path / "legacy.pt"
    torch.save(fresh.state_dict(), legacy, _use_new_zipfile_serialization=False)
    calls: list[dict[str, Any]] = []
    real = torch.load

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_pretrained(fresh, saved)
    load_pretrained(fresh, legacy)
    assert [(c["weights_only"], c.get("mmap", False), c["map_location"]) for c in calls] == [
        (True, True, "cpu"),
        (True, False, "cpu"),
    ]


# ------------------------------------------------------------------------------- the digest


@pytest.mark.parametrize("case", ["none", "lower", "upper"])
def test_sha256_is_always_reported_and_accepted_in_either_case(
    saved: Path, fresh: torch.nn.Module, case: str
) -> None:
    digest = sha(saved)
    expected = {"none": None, "lower": digest, "upper": digest.upper()}[case]
    assert load_pretrained(fresh, saved, sha256=expected).sha256 == digest


def test_wrong_sha256_names_both_digests_and_loads_nothing(
    saved: Path, fresh: torch.nn.Module
) -> None:
    before = bits(fresh)
    wrong = "0" * 64
    with pytest.raises(InputError) as info:
        load_pretrained(fresh, saved, sha256=wrong)
    assert wrong in str(info.value) and sha(saved) in str(info.value)
    assert bits(fresh) == before


def test_digest_is_checked_before_anything_is_unpickled(
    saved: Path, fresh: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("torch.load ran on a file whose digest is wrong")

    monkeypatch.setattr(torch, "load", must_not_run)
    with pytest.raises(InputError, match="SHA-256"):
        load_pretrained(fresh, saved, sha256="f" * 64)


@pytest.mark.parametrize("expected", [None, "ab" * 32])
def test_missing_file_names_the_path_and_the_expected_digest(
    tmp_path: Path, fresh: torch.nn.Module, expected: str | None
) -> None:
    path = tmp_path / "sam_brain3d.pth"
    with pytest.raises(InputError) as info:
        load_pretrained(fresh, path, sha256=expected)
    message = str(info.value)
    assert str(path) in message and "does not exist" in message
    assert (expected or "no SHA-256 given") in message


@pytest.mark.parametrize("where", ["folder", "url"])
def test_only_local_files_are_read(tmp_path: Path, fresh: torch.nn.Module, where: str) -> None:
    path = str(tmp_path) if where == "folder" else "https://example.org/weights.pt"
    with pytest.raises(InputError, match=r"not a file|must be a local file"):
        load_pretrained(fresh, path)


# ------------------------------------------------------------------------ refused files


class Marker:
    """Unpickling this would create a file: the code a weights file must never run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


READERS = {
    "load_pretrained": lambda path: load_pretrained(net(1), path),
    "inspect_weights": inspect_weights,
}


@pytest.mark.parametrize("reader", READERS)
def test_pickled_module_is_refused_with_advice(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "whole-model.pt"
    torch.save(net(0), path)
    with pytest.raises(InputError) as info:
        READERS[reader](path)
    message = str(info.value)
    assert "torch.nn.modules.container.Sequential" in message
    assert "state_dict()" in message and "weights_only" in message
    assert "\x1b" not in message


@pytest.mark.parametrize("reader", READERS)
def test_code_in_a_weights_file_never_runs(tmp_path: Path, reader: str) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "trap.pt"
    torch.save({"state_dict": state(net(0)), "hook": Marker(marker)}, path)
    with pytest.raises(InputError, match="holds a pickled Python object"):
        READERS[reader](path)
    assert not marker.exists()


@pytest.mark.parametrize("reader", READERS)
def test_torchscript_archive_is_refused_with_advice(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "scripted.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in recent torch
        torch.jit.save(torch.jit.trace(torch.nn.Linear(3, 2), torch.ones(1, 3)), path)
    with pytest.raises(InputError, match=r"TorchScript archive.*torch\.jit\.load"):
        READERS[reader](path)


def truncated(fraction: float, legacy: bool = False) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        torch.save(state(net(0)), path, _use_new_zipfile_serialization=not legacy)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return write


def junk_pickle_in_zip(path: Path) -> None:
    torch.save(state(net(0)), path)
    good = path.with_suffix(".good")
    path.rename(good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"\x80\x02garbage" if item.filename.endswith("data.pkl") else data)


def truncated_safetensors(path: Path) -> None:
    pytest.importorskip("safetensors", reason="safetensors is not installed")
    save_safetensors_by_hand(path, {"w": np.ones((64, 64), np.float32)})
    path.write_bytes(path.read_bytes()[:-100])


def bad_header_safetensors(path: Path) -> None:
    pytest.importorskip("safetensors", reason="safetensors is not installed")
    path.write_bytes(struct.pack("<Q", 8) + b"{broken}" + b"\0" * 16)


BROKEN: dict[str, Callable[[Path], None]] = {
    "empty": lambda p: p.write_bytes(b""),
    "junk": lambda p: p.write_bytes(b"definitely not a weights file\n" * 10),
    "zip-half": truncated(0.5),
    "zip-almost-whole": truncated(0.97),
    "zip-header-only": truncated(0.01),
    "legacy-half": truncated(0.5, legacy=True),
    "zip-with-junk-pickle": junk_pickle_in_zip,
    "safetensors-truncated": truncated_safetensors,
    "safetensors-bad-header": bad_header_safetensors,
    "numpy-pickle": lambda p: p.write_bytes(pickle.dumps({"w": np.ones(2)})),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", BROKEN)
def test_truncated_or_corrupt_file_is_an_input_error(
    tmp_path: Path, reader: str, case: str
) -> None:
    path = tmp_path / "broken.pt"
    BROKEN[case](path)
    with pytest.raises(InputError) as info:
        READERS[reader](path)
    assert str(path) in str(info.value)
    assert "\x1b" not in str(info.value)


JUNK_PICKLES: dict[str, bytes] = {
    # bytes the weights-only unpickler stops at before reaching any global: no pickled object
    "bad-opcode": b"\x80\x02\xe9" + bytes(64),
    "garbage": b"\x80\x02garbage",
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", JUNK_PICKLES)
def test_junk_bytes_are_not_called_pickled_objects(tmp_path: Path, reader: str, case: str) -> None:
    # junk is not a pickled module: advising torch.load(weights_only=False) for it would be wrong
    path = tmp_path / "junk.pt"
    path.write_bytes(JUNK_PICKLES[case])
    with pytest.raises(InputError) as info:
        READERS[reader](path)
    message = str(info.value)
    assert "cannot be read" in message and str(path) in message
    assert "pickled Python object" not in message and "weights_only=False" not in message


NOT_A_STATE_DICT: dict[str, Any] = {
    "tensor": torch.ones(3),
    "list": [1, 2, 3],
    "no-tensors": {"epoch": 3, "model": {"lr": 0.1}},
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", NOT_A_STATE_DICT)
def test_file_without_a_state_dict_is_an_input_error(
    tmp_path: Path, reader: str, case: str
) -> None:
    path = tmp_path / "odd.pt"
    torch.save(NOT_A_STATE_DICT[case], path)
    with pytest.raises(InputError, match=r"not a state dict|holds no tensors"):
        READERS[reader](path)


def test_safetensors_file_without_the_package_names_the_extra(
    tmp_path: Path, fresh: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_safetensors_by_hand(tmp_path / "w.safetensors", {"w": np.ones(2, np.float32)})
    monkeypatch.setitem(sys.modules, "safetensors", None)  # import safetensors now fails
    with pytest.raises(MissingExtraError, match=r"sciml-core\[safetensors\]"):
        load_pretrained(fresh, path)


# ---------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("sha256", "abc123"),
        ("sha256", "g" * 64),
        ("sha256", 12345),
        ("min_matched", 1.5),
        ("min_matched", -0.1),
        ("min_matched", float("nan")),
        ("min_matched", True),
        ("min_matched", "0.9"),
        ("strip", "module."),
        ("strip", ("module.", "")),
        ("select", ""),
        ("select", "."),
        ("select", 3),
        ("key_map", [("(", "x")]),
        ("key_map", [("a",)]),
        ("key_map", "a->b"),
    ],
)
def test_invalid_argument_is_an_input_error_naming_it(
    saved: Path, fresh: torch.nn.Module, argument: str, value: Any
) -> None:
    before = bits(fresh)
    with pytest.raises(InputError, match=rf"^{argument}"):
        load_pretrained(fresh, saved, **{argument: value})
    assert bits(fresh) == before


def test_module_must_be_a_torch_module(saved: Path) -> None:
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.Module"):
        load_pretrained({"w": torch.ones(1)}, saved)  # type: ignore[arg-type]


def test_report_summary_names_what_was_not_loaded(
    tmp_path: Path, trained: torch.nn.Module, fresh: torch.nn.Module
) -> None:
    path = tmp_path / "ckpt.pt"
    weights = {k: v for k, v in state(trained).items() if k != "3.bias"}
    weights["3.weight"] = torch.ones(5, 4)
    weights["extra.w"] = torch.ones(1)
    torch.save({"model_state_dict": weights}, path)
    report = load_pretrained(fresh, path, min_matched=0.5)
    assert isinstance(report, LoadReport)
    text = str(report)
    assert text.startswith("loaded 7 of 9 module entries (77.8%) from 'model_state_dict'")
    assert "missing (1): 3.bias" in text and "unexpected (1): extra.w" in text
    assert "3.weight (5, 4) in the file, (2, 4) in the module" in text


# ------------------------------------------------------------------------ inspect_weights


def test_inspect_reports_format_container_counts_dtypes_and_digest(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pt"
    weights = state(net(0), "module.")
    weights["module.0.weight"] = weights["module.0.weight"].half()
    torch.save({"epoch": 9, "model_state_dict": weights, "optimizer": {}}, path)
    info = inspect_weights(path)
    assert isinstance(info, WeightsInfo)
    assert (info.path, info.format, info.container) == (path, "torch-zip", "model_state_dict")
    assert info.other_keys == ("epoch", "optimizer")
    assert info.n_keys == 9 and info.parameters == 16 + 17 + 10  # Linear, BatchNorm, Linear
    assert info.dtypes == {"float32": 7, "float16": 1, "int64": 1}
    assert info.sha256 == sha(path) and info.size == path.stat().st_size
    assert info.entries[0] == ("module.0.weight", (4, 3), "float16")


def test_inspect_tree_groups_keys_by_prefix(tmp_path: Path) -> None:
    path = tmp_path / "full.pt"
    torch.save(EncoderDecoder(0).state_dict(), path)
    info = inspect_weights(path)
    assert info.tree() == [("encoder", 9, 43), ("decoder", 2, 9)]
    assert info.tree(2)[:2] == [("encoder.0", 2, 16), ("encoder.1", 5, 17)]


def test_inspect_summary_is_readable(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.ModuleDict(
        {"blocks": torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(3)]),
         "head": torch.nn.Linear(2, 1)}
    )  # fmt: skip
    path = tmp_path / "ddp.pt"
    torch.save({"state_dict": state(model, "module.")}, path)
    text = str(inspect_weights(path))
    assert text.splitlines()[0] == str(path)
    assert f"SHA-256: {sha(path)}" in text
    assert "state dict under the checkpoint key 'state_dict'" in text
    assert "every key starts with 'module.'" in text
    assert "8 tensors, 21 parameters; dtypes: float32 x8" in text
    tree = text[text.index("key tree") :].splitlines()[1:]
    assert tree == [
        "    blocks  (6, 18)",
        "      blocks.{0..2}  (6, 18)",
        "    head  (2, 3)",
        "      head.weight  (1, 2)",
        "      head.bias  (1, 1)",
    ]


def test_inspect_reads_safetensors_metadata(tmp_path: Path) -> None:
    pytest.importorskip("safetensors", reason="safetensors is not installed")
    path = save_safetensors_by_hand(
        tmp_path / "w.safetensors",
        {"a.w": np.ones((2, 3), np.float32), "a.n": np.zeros((), np.int64)},
    )
    info = inspect_weights(path)
    assert info.format == "safetensors" and info.container is None
    assert info.entries == (("a.n", (), "int64"), ("a.w", (2, 3), "float32"))  # sorted by name


def test_inspect_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        inspect_weights(tmp_path / "nope.pt")


@pytest.mark.parametrize("reader", READERS)
def test_a_path_the_os_cannot_look_up_is_an_input_error(tmp_path: Path, reader: str) -> None:
    path = tmp_path / ("w" * 300 + ".pt")  # stat() fails with ENAMETOOLONG, not ENOENT
    with pytest.raises(InputError, match=r"weights file '.*' cannot be looked up: File name too"):
        READERS[reader](path)


def test_nothing_is_left_mapped_after_loading(saved: Path, fresh: torch.nn.Module) -> None:
    if not Path("/proc/self/maps").is_file():
        pytest.skip("needs /proc/self/maps (Linux)")
    load_pretrained(fresh, saved)
    inspect_weights(saved)
    import gc

    gc.collect()
    assert os.path.realpath(saved) not in Path("/proc/self/maps").read_text()


def test_a_damaged_weights_file_gives_the_one_line_error_and_no_torch_warning(tmp_path, recwarn):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x80\x05" + b"x" * 50)  # pickle protocol 5: torch warns before it fails
    with pytest.raises(InputError):
        load_pretrained(torch.nn.Linear(2, 2), junk)
    assert [str(w.message) for w in recwarn] == []
