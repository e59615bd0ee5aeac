from __future__ import annotations

import numpy as np
import pytest

from sciml_core import InputError, resolve_device, resolve_dtype

torch = pytest.importorskip("torch")


def test_auto_picks_cuda_exactly_when_available() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected


def test_auto_picks_cuda_whenever_torch_sees_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs on CPU-only machines too: "auto" must follow torch.cuda.is_available() both ways.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device(" AUTO ") == torch.device("cuda")
    assert resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


def test_explicit_devices_pass_through() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")  # --device CPU, as --device AUTO


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "", "banana"])
def test_bad_device_strings_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError, match="device"):
        resolve_device(bad)


def test_non_string_device_is_rejected() -> None:
    with pytest.raises(InputError, match=r"device must be a string or torch\.device; got int"):
        resolve_device(3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_an_error_not_a_silent_cpu() -> None:
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("float32", torch.float32),
        ("float", torch.float32),
        ("double", torch.float64),
        ("torch.float64", torch.float64),
        ("Half", torch.float16),
        ("bfloat16", torch.bfloat16),
        ("complex64", torch.complex64),
        (torch.float64, torch.float64),
        (np.float64, torch.float64),
        (np.dtype("float32"), torch.float32),
        (None, torch.float32),
    ],
)
def test_resolve_dtype(spec: object, expected: torch.dtype) -> None:
    assert resolve_dtype(spec) is expected


def test_resolve_dtype_default_is_used_for_none() -> None:
    assert resolve_dtype(None, default="float64") is torch.float64


@pytest.mark.parametrize("bad", ["int32", torch.int64, "float8", np.int16, 3])
def test_non_floating_dtypes_are_rejected(bad: object) -> None:
    with pytest.raises(InputError, match="dtype"):
        resolve_dtype(bad)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_out_of_range_is_an_error() -> None:
    with pytest.raises(InputError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
