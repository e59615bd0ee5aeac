from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciml_core import InputError, NormEstimate, estimate_operator_norm, matrix_norm_bound

sparse = pytest.importorskip("scipy.sparse")


def maps(A: np.ndarray):
    return (lambda x: A @ x), (lambda y: A.conj().T @ y)


def with_singular_values(sv: np.ndarray, m: int, n: int, seed: int, complex_: bool = False):
    rng = np.random.default_rng(seed)

    def orth(k: int) -> np.ndarray:
        z = rng.standard_normal((k, k))
        if complex_:
            z = z + 1j * rng.standard_normal((k, k))
        q, _ = np.linalg.qr(z)
        return q

    S = np.zeros((m, n))
    S[: len(sv), : len(sv)] = np.diag(sv)
    return orth(m) @ S @ orth(n)


def test_diagonal_operator() -> None:
    d = np.array([0.5, -3.0, 2.0, 1.0])
    est = estimate_operator_norm(lambda x: d * x, lambda y: d * y, np.zeros(4), tol=1e-10)
    assert est.lower <= 3.0
    assert est.lower == pytest.approx(3.0, rel=1e-9)
    assert est.certified is False
    assert est.upper >= est.lower


def test_random_matrix_against_numpy() -> None:
    A = np.random.default_rng(0).standard_normal((40, 25))
    true = np.linalg.norm(A, 2)
    est = estimate_operator_norm(*maps(A), np.zeros(25), iters=500, tol=1e-8)
    assert est.lower <= true
    assert (true - est.lower) / true < 1e-8
    assert est.iterations < 500


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), gap=st.floats(0.05, 0.9))
def test_lower_is_within_tol_of_the_truth(seed: int, gap: float) -> None:
    sv = np.array([2.0, 2.0 * (1 - gap), 0.3, 0.1])
    A = with_singular_values(sv, 6, 5, seed)
    est = estimate_operator_norm(*maps(A), np.zeros(5), iters=1000, tol=1e-9, seed=seed)
    assert est.lower <= 2.0
    assert (2.0 - est.lower) / 2.0 < 1e-9


def test_near_degenerate_top_pair() -> None:
    sv = np.array([1.0, 1.0 - 1e-9, 0.5, 0.25])
    A = with_singular_values(sv, 8, 6, seed=1)
    est = estimate_operator_norm(*maps(A), np.zeros(6), iters=200, tol=1e-12)
    assert est.lower <= 1.0
    assert 1.0 - est.lower < 2e-9  # any mix of the top pair is within 1e-9 of the norm


def test_complex_matrix() -> None:
    sv = np.array([3.0, 1.0, 0.5])
    A = with_singular_values(sv, 5, 3, seed=2, complex_=True)
    assert np.linalg.norm(A, 2) == pytest.approx(3.0)
    est = estimate_operator_norm(*maps(A), np.zeros(3, complex), tol=1e-10)
    assert est.lower <= 3.0
    assert est.lower == pytest.approx(3.0, rel=1e-9)


def test_rank_one_operator_converges_at_once() -> None:
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal(7), rng.standard_normal(4)
    A = np.outer(u, v)
    true = np.linalg.norm(u) * np.linalg.norm(v)
    est = estimate_operator_norm(*maps(A), np.zeros(4))
    assert est.lower <= true
    assert est.lower == pytest.approx(true, rel=1e-12)
    assert est.iterations <= 3


def test_zero_operator() -> None:
    est = estimate_operator_norm(lambda x: 0 * x, lambda y: 0 * y, np.zeros(3))
    assert est.lower == 0.0 and est.iterations == 1


def test_upper_bound_certifies_and_must_be_consistent() -> None:
    d = np.array([1.0, 2.0])
    est = estimate_operator_norm(lambda x: d * x, lambda y: d * y, np.zeros(2), upper_bound=2.5)
    assert est == NormEstimate(est.lower, 2.5, True, est.iterations)
    assert est.lower <= 2.0 <= est.upper
    with pytest.raises(InputError, match="below the proven lower bound"):
        estimate_operator_norm(lambda x: d * x, lambda y: d * y, np.zeros(2), upper_bound=1.5)


def test_explicit_matrix_is_certified_by_its_matrix_bound() -> None:
    A = np.random.default_rng(4).standard_normal((10, 6))
    true = np.linalg.norm(A, 2)
    est = estimate_operator_norm(A, None, np.zeros(6))
    assert est.certified
    assert est.lower <= true <= est.upper
    assert est.upper == pytest.approx(matrix_norm_bound(A).upper)
    tighter = estimate_operator_norm(A, None, np.zeros(6), upper_bound=true * 1.01)
    assert tighter.upper == pytest.approx(true * 1.01)


def test_heuristic_upper_is_not_certified() -> None:
    A = np.random.default_rng(5).standard_normal((8, 8))
    est = estimate_operator_norm(*maps(A), np.zeros(8))
    assert est.certified is False
    assert est.upper > est.lower
    assert est.upper <= est.lower * (1 + 1e-3)


def test_estimate_is_seeded() -> None:
    A = np.random.default_rng(6).standard_normal((9, 5))
    a = estimate_operator_norm(*maps(A), np.zeros(5), seed=1, iters=3)
    b = estimate_operator_norm(*maps(A), np.zeros(5), seed=1, iters=3)
    c = estimate_operator_norm(*maps(A), np.zeros(5), seed=2, iters=3)
    assert a == b
    assert a.lower != c.lower


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"iters": 0}, "iters must be an int >= 1"),
        ({"tol": 0.0}, "tol must be > 0"),
        ({"upper_bound": float("nan")}, "upper_bound must be a finite number"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        estimate_operator_norm(lambda x: x, lambda y: y, np.zeros(2), **kwargs)


def test_explicit_matrix_needs_a_matching_example() -> None:
    A = np.ones((4, 3))
    with pytest.raises(InputError, match=r"matrix.shape\[1\] = 3 entries; got shape \(4,\)"):
        estimate_operator_norm(A, None, np.zeros(4))
    with pytest.raises(InputError, match="got shape"):
        estimate_operator_norm(A, None, np.zeros((1, 3)))
    assert estimate_operator_norm(A, None, np.zeros((3, 1))).lower == pytest.approx(
        np.sqrt(12.0), rel=1e-9
    )
    torch = pytest.importorskip("torch")
    T = torch.ones(4, 3, dtype=torch.float64)
    with pytest.raises(InputError, match="matrix's dtype and device"):
        estimate_operator_norm(T, None, torch.zeros(3))
    with pytest.raises(InputError, match="a torch tensor when the matrix is one"):
        estimate_operator_norm(T, None, np.zeros(3))


def test_adjoint_is_required_for_callables() -> None:
    with pytest.raises(InputError, match="adjoint must be callable"):
        estimate_operator_norm(lambda x: x, None, np.zeros(2))


def test_nan_operator_is_an_error() -> None:
    with pytest.raises(InputError, match="NaN or inf"):
        estimate_operator_norm(lambda x: x * np.nan, lambda y: y, np.zeros(2))


# --- matrix_norm_bound ----------------------------------------------------------------------


@settings(max_examples=40)
@given(m=st.integers(1, 9), n=st.integers(1, 9), seed=st.integers(0, 2**32 - 1), cplx=st.booleans())
def test_matrix_bound_brackets_the_norm(m: int, n: int, seed: int, cplx: bool) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) + (1j * rng.standard_normal((m, n)) if cplx else 0)
    true = np.linalg.norm(A, 2)
    est = matrix_norm_bound(A)
    assert est.certified and est.iterations == 0
    assert est.lower <= true <= est.upper


@settings(max_examples=25)
@given(m=st.integers(1, 8), n=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_certified_estimate_brackets_the_norm(m: int, n: int, seed: int) -> None:
    A = np.random.default_rng(seed).standard_normal((m, n))
    true = np.linalg.norm(A, 2)
    est = estimate_operator_norm(A, None, np.zeros(n), seed=seed)
    assert est.certified
    assert est.lower <= true <= est.upper
    assert est.lower >= matrix_norm_bound(A).lower * (1 - 1e-12)  # iteration only improves it


def test_matrix_bound_is_exact_for_diagonal_and_rank_one() -> None:
    est = matrix_norm_bound(np.diag([4.0, -1.0, 0.5]))
    assert est.upper == pytest.approx(4.0, rel=1e-12)  # sqrt(||A||_1 ||A||_inf) = 4
    assert est.lower == pytest.approx(4.0, rel=1e-12)
    r1 = np.outer([1.0, 2.0, 2.0], [3.0, 4.0])  # Frobenius norm = 2-norm = 15
    est = matrix_norm_bound(r1)
    assert est.lower <= 15.0 <= est.upper
    assert est.upper == pytest.approx(15.0, rel=1e-12)


def test_matrix_bound_uses_the_smaller_upper_bound() -> None:
    A = np.ones((1, 100))  # Frobenius 10, sqrt(||A||_1 ||A||_inf) = sqrt(1 * 100) = 10
    assert matrix_norm_bound(A).upper == pytest.approx(10.0)
    B = np.eye(50)  # Frobenius sqrt(50), sqrt(1 * 1) = 1
    assert matrix_norm_bound(B).upper == pytest.approx(1.0)


def test_matrix_bound_of_scipy_sparse_equals_dense() -> None:
    rng = np.random.default_rng(7)
    dense = rng.standard_normal((12, 9)) * (rng.random((12, 9)) < 0.3)
    coo = sparse.coo_matrix(dense)
    # a duplicate entry split in two must be summed, not counted twice
    row, col, data = coo.row, coo.col, coo.data
    dup = sparse.coo_matrix(
        (
            np.concatenate([data[:1] / 2, data[:1] / 2, data[1:]]),
            (np.concatenate([row[:1], row]), np.concatenate([col[:1], col])),
        ),
        shape=dense.shape,
    )
    ref = matrix_norm_bound(dense)
    for mat in (sparse.csr_matrix(dense), sparse.csc_array(dense), dup):
        got = matrix_norm_bound(mat)
        assert got.upper == pytest.approx(ref.upper, rel=1e-12)
        assert got.lower == pytest.approx(ref.lower, rel=1e-12)


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta:UserWarning")
def test_matrix_bound_of_torch_dense_and_sparse() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    dense = rng.standard_normal((6, 5)) * (rng.random((6, 5)) < 0.5)
    ref = matrix_norm_bound(dense)
    t = torch.from_numpy(dense)
    for mat in (t, t.float(), t.to_sparse(), t.to_sparse_csr()):
        got = matrix_norm_bound(mat)
        assert got.upper == pytest.approx(ref.upper, rel=1e-6)
        assert got.lower <= np.linalg.norm(dense, 2) <= got.upper


def test_matrix_bound_rejects_non_matrices() -> None:
    with pytest.raises(InputError, match="2-d"):
        matrix_norm_bound(np.ones(3))
    with pytest.raises(InputError, match="finite"):
        matrix_norm_bound(np.array([[1.0, np.inf]]))


def test_estimate_on_tensors_and_torch_matrices() -> None:
    torch = pytest.importorskip("torch")
    A = torch.from_numpy(with_singular_values(np.array([5.0, 2.0, 1.0]), 4, 3, seed=9))
    est = estimate_operator_norm(
        lambda x: A @ x, lambda y: A.T @ y, torch.zeros(3, dtype=torch.float64), tol=1e-10
    )
    assert est.lower <= 5.0 and est.lower == pytest.approx(5.0, rel=1e-9)
    est32 = estimate_operator_norm(
        lambda x: A.float() @ x, lambda y: A.float().T @ y, torch.zeros(3), tol=1e-6
    )
    assert est32.lower <= 5.0 and est32.lower == pytest.approx(5.0, rel=1e-5)
    cert = estimate_operator_norm(A, None, torch.zeros(3, dtype=torch.float64))
    assert cert.certified and cert.lower <= 5.0 <= cert.upper
    sp = estimate_operator_norm(A.to_sparse(), None, torch.zeros(3, dtype=torch.float64))
    assert sp.certified and sp.lower <= 5.0 <= sp.upper


def test_estimate_does_not_track_gradients() -> None:
    torch = pytest.importorskip("torch")
    w = torch.tensor([2.0, 1.0], requires_grad=True)
    est = estimate_operator_norm(lambda x: w * x, lambda y: w * y, torch.zeros(2))
    assert isinstance(est.lower, float)
    assert est.lower == pytest.approx(2.0, rel=1e-5)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    gap=st.sampled_from([0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3]),
    n=st.integers(4, 12),
)
def test_near_degenerate_and_tied_top_singular_values(seed: int, gap: float, n: int) -> None:
    # sigma_1 = 3 and sigma_2 = 3 (1 - gap): lower never exceeds the norm, and it comes within
    # the gap (any mix of the top pair is that good) or the tolerance, whichever is larger.
    sv = np.array([3.0, 3.0 * (1 - gap), 1.0, 0.5])
    A = with_singular_values(sv, n + 2, n, seed)
    true = float(np.linalg.norm(A, 2))
    est = estimate_operator_norm(*maps(A), np.zeros(n), iters=300, tol=1e-10, seed=seed)
    assert est.lower <= true
    assert (true - est.lower) / true <= max(gap, 1e-9)
    assert est.certified is False
    cert = estimate_operator_norm(A, None, np.zeros(n), iters=300, tol=1e-10, seed=seed)
    assert cert.certified and cert.lower <= true <= cert.upper


@pytest.mark.parametrize("dtype_name", ["float32", "complex64", "float64"])
def test_lower_stays_below_a_unitary_norm_in_low_precision(dtype_name: str) -> None:
    # The unitary DFT has norm exactly 1. Norms reduced in float32 over 2^16 entries overshoot by
    # several units of float32 roundoff, which once gave lower > 1 and refused upper_bound=1.
    torch = pytest.importorskip("torch")
    dtype = getattr(torch, dtype_name)
    n = 2**16

    def fwd(x):  # type: ignore[no-untyped-def]
        return torch.fft.fft(x, norm="ortho")

    def adj(y):  # type: ignore[no-untyped-def]
        z = torch.fft.ifft(y, norm="ortho")
        return z if dtype.is_complex else z.real

    for seed in range(5):
        est = estimate_operator_norm(fwd, adj, torch.zeros(n, dtype=dtype), seed=seed)
        assert est.lower <= 1.0 <= est.upper  # converged: the heuristic bracket holds too
        assert est.lower > 1.0 - 1e-5
        cert = estimate_operator_norm(
            fwd, adj, torch.zeros(n, dtype=dtype), seed=seed, upper_bound=1.0
        )
        assert cert.certified and cert.lower <= 1.0 == cert.upper


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]))
def test_heuristic_upper_brackets_a_well_separated_norm_in_either_precision(
    seed: int, dtype: type
) -> None:
    # sigma_2 / sigma_1 = 0.5: the iteration converges, so the heuristic bracket must hold; it
    # once left `upper` below the norm in float32, as lower was rounded down before the margin.
    A = with_singular_values(np.array([3.0, 1.5, 1.0, 0.2]), 7, 5, seed).astype(dtype)
    true = float(np.linalg.norm(A.astype(np.float64), 2))
    x0 = np.zeros(5, dtype)
    est = estimate_operator_norm(*maps(A), x0, seed=seed)
    assert est.certified is False
    assert est.lower <= true <= est.upper
    assert est.upper <= est.lower * (1 + 1e-4)
