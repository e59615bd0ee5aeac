from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sciml_core import InputError, adjoint_test, gradient_check


def random_pair(rng: np.random.Generator, m: int, n: int, complex_: bool = False):
    def draw(*shape: int) -> np.ndarray:
        z = rng.standard_normal(shape)
        return z + 1j * rng.standard_normal(shape) if complex_ else z

    return draw(m, n), draw(n), draw(m)


@given(
    m=st.integers(1, 12),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    complex_=st.booleans(),
)
def test_a_matrix_and_its_conjugate_transpose_pass(
    m: int, n: int, seed: int, complex_: bool
) -> None:
    A, x, y = random_pair(np.random.default_rng(seed), m, n, complex_)
    defect = adjoint_test(lambda v: A @ v, lambda w: A.conj().T @ w, x, y)
    assert defect < 1e-14


@given(n=st.integers(2, 10), seed=st.integers(0, 2**32 - 1))
def test_a_wrong_adjoint_fails(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A, x, y = random_pair(rng, n, n)
    B = A + 0.1 * rng.standard_normal((n, n))  # a perturbed "adjoint"
    assert adjoint_test(lambda v: A @ v, lambda w: B.T @ w, x, y) > 1e-6


def test_transpose_without_conjugation_fails_for_complex() -> None:
    A, x, y = random_pair(np.random.default_rng(0), 5, 4, complex_=True)
    assert adjoint_test(lambda v: A @ v, lambda w: A.conj().T @ w, x, y) < 1e-14
    assert adjoint_test(lambda v: A @ v, lambda w: A.T @ w, x, y) > 1e-3


def test_the_value_is_the_documented_ratio() -> None:
    A = np.array([[2.0, 0.0], [0.0, 1.0]])
    x, y = np.array([1.0, 0.0]), np.array([1.0, 1.0])
    # <Ax, y> = 2, <x, 3 y> = 3: |2 - 3| / (||Ax|| ||y||) = 1 / (2 sqrt 2)
    assert adjoint_test(lambda v: A @ v, lambda w: 3 * w, x, y) == pytest.approx(
        1 / (2 * np.sqrt(2))
    )


def test_real_linear_operator_to_complex_range_compares_real_parts() -> None:
    rng = np.random.default_rng(1)
    n = 8
    x, y = rng.standard_normal(n), rng.standard_normal(n) + 1j * rng.standard_normal(n)
    # The unitary DFT of a real signal; its adjoint for Re<.,.> is Re(ifft).
    assert (
        adjoint_test(
            lambda v: np.fft.fft(v, norm="ortho"), lambda w: np.fft.ifft(w, norm="ortho").real, x, y
        )
        < 1e-14
    )


def test_shape_mismatch_and_zero_vectors_are_input_errors() -> None:
    A = np.ones((3, 2))
    with pytest.raises(InputError, match="y must have the shape of forward"):
        adjoint_test(lambda v: A @ v, lambda w: A.T @ w, np.ones(2), np.ones(4))
    with pytest.raises(InputError, match="adjoint\\(y\\) must have the shape of x"):
        adjoint_test(lambda v: A @ v, lambda w: w, np.ones(2), np.ones(3))
    with pytest.raises(InputError, match="zero vector"):
        adjoint_test(lambda v: A @ v, lambda w: A.T @ w, np.ones(2), np.zeros(3))


def test_adjoint_test_on_tensors() -> None:
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    for dtype, tol in ((torch.float64, 1e-14), (torch.float32, 1e-5), (torch.complex128, 1e-14)):
        A = torch.randn(6, 4, generator=g, dtype=dtype)
        x, y = torch.randn(4, generator=g, dtype=dtype), torch.randn(6, generator=g, dtype=dtype)
        good = adjoint_test(lambda v, A=A: A @ v, lambda w, A=A: A.mH @ w, x, y)
        assert isinstance(good, float) and good < tol
        bad = adjoint_test(lambda v, A=A: A @ v, lambda w, A=A: 1.01 * (A.mH @ w), x, y)
        assert bad > 1e-3


# --- gradient check -------------------------------------------------------------------------


def test_gradient_check_passes_for_correct_gradients() -> None:
    torch = pytest.importorskip("torch")
    x = torch.linspace(-2.0, 2.0, 10, dtype=torch.float64).reshape(2, 5)
    assert gradient_check(lambda t: (t.exp() * t.cos()).sum(), x) < 1e-8
    assert gradient_check(lambda t: (t**3).mean(), x, seed=5) < 1e-8
    x32 = x.float()
    assert gradient_check(lambda t: (t.sin() ** 2).sum(), x32) < 1e-2


def test_gradient_check_detects_a_wrong_backward() -> None:
    torch = pytest.importorskip("torch")

    class HalfGradSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(t)
            return (t * t).sum()

        @staticmethod
        def backward(ctx, grad):  # type: ignore[no-untyped-def]
            (t,) = ctx.saved_tensors
            return grad * t  # true gradient is 2 t

    x = torch.linspace(0.5, 1.5, 6, dtype=torch.float64)
    err = gradient_check(HalfGradSquare.apply, x)
    assert err == pytest.approx(0.5, rel=1e-6)


def test_gradient_check_does_not_modify_x_and_is_seeded() -> None:
    torch = pytest.importorskip("torch")
    x = torch.rand(7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    before = x.clone()

    def f(t):  # type: ignore[no-untyped-def]
        return (t.abs() ** 1.5).sum()

    a, b = gradient_check(f, x, seed=3), gradient_check(f, x, seed=3)
    assert a == b
    assert torch.equal(x, before) and not x.requires_grad


def test_gradient_check_rejects_bad_arguments() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(InputError, match="real floating-point torch tensor"):
        gradient_check(lambda t: t.sum(), torch.arange(3))
    with pytest.raises(InputError, match="real floating-point torch tensor"):
        gradient_check(lambda t: t.sum(), np.ones(3))
    with pytest.raises(InputError, match="scalar tensor"):
        gradient_check(lambda t: t * 2, torch.ones(3))
    with pytest.raises(InputError, match="eps must be > 0"):
        gradient_check(lambda t: t.sum(), torch.ones(3), eps=0.0)


def test_gradient_check_of_a_constant_is_zero() -> None:
    torch = pytest.importorskip("torch")
    assert gradient_check(lambda t: (t * 0).sum(), torch.ones(3, dtype=torch.float64)) == 0.0


@given(seed=st.integers(0, 2**32 - 1), wrong=st.integers(0, 47))
def test_gradient_check_catches_a_gradient_wrong_in_one_entry(seed: int, wrong: int) -> None:
    # One wrong entry out of 48, wherever it is: the seeded random direction still sees it.
    torch = pytest.importorskip("torch")

    class SinSum(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(t)
            return t.sin().sum()

        @staticmethod
        def backward(ctx, grad):  # type: ignore[no-untyped-def]
            (t,) = ctx.saved_tensors
            g = t.cos()
            g[wrong] = -g[wrong]  # a sign slip in one entry
            return grad * g

    x = torch.linspace(-1.2, 1.3, 48, dtype=torch.float64)  # cos(x) > 0.26 everywhere
    assert gradient_check(lambda t: t.sin().sum(), x, seed=seed) < 1e-8
    assert gradient_check(SinSum.apply, x, seed=seed) > 1e-6
