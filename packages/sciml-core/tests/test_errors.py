from __future__ import annotations

import numpy as np
import pytest

from sciml_core import InputError, MissingExtraError, check_finite, require_extra


def test_input_error_is_caught_as_value_error() -> None:
    with pytest.raises(ValueError, match="got 3"):
        raise InputError("n must be even; got 3")


def test_require_extra_returns_the_module() -> None:
    import json

    assert require_extra("json", extra="x", package="p") is json


def test_require_extra_names_the_install_command() -> None:
    with pytest.raises(MissingExtraError) as info:
        require_extra("sciml_no_such_module", extra="plot", package="potcontrast")
    assert "pip install 'potcontrast[plot]'" in str(info.value)
    assert isinstance(info.value, ImportError)
    assert info.value.name == "sciml_no_such_module"


def test_check_finite_returns_its_input_unchanged() -> None:
    x = np.arange(4.0)
    assert check_finite(x, "x") is x
    ints = np.arange(3)
    assert check_finite(ints, "ints") is ints


@pytest.mark.parametrize(
    ("bad", "counts"),
    [(np.nan, "1 NaN and 0 infinite"), (np.inf, "0 NaN and 1 infinite"), (-np.inf, "0 NaN and 1")],
)
def test_check_finite_counts_bad_values_and_names_the_argument(bad: float, counts: str) -> None:
    x = np.array([1.0, bad, 2.0])
    with pytest.raises(InputError, match=f"image must be finite; got {counts}"):
        check_finite(x, "image")


def test_check_finite_catches_complex_nan() -> None:
    with pytest.raises(InputError, match="z must be finite"):
        check_finite(np.array([1 + 1j, complex(0, np.nan)]), "z")


def test_check_finite_rejects_non_numeric() -> None:
    with pytest.raises(InputError, match="must be numeric"):
        check_finite(np.array(["a"]), "labels")


def test_check_finite_on_tensors() -> None:
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, float("nan"), float("inf"), 0.0])
    with pytest.raises(InputError, match="t must be finite; got 1 NaN and 1 infinite"):
        check_finite(t, "t")
    ok = torch.arange(3)
    assert check_finite(ok, "ok") is ok
