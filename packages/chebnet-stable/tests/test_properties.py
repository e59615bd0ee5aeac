"""Property-based checks (Hypothesis) of the laws the certified scaling guarantees."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chebnet_stable import ScaledLaplacian, cheb_basis, lambda_max_bound


@st.composite
def weighted_graphs(draw):
    n = draw(st.integers(2, 12))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    mask = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    weights = draw(st.lists(st.floats(0.01, 10.0), min_size=len(pairs), max_size=len(pairs)))
    edges = [(p, w) for p, m, w in zip(pairs, mask, weights, strict=True) if m]
    if not edges:
        edges = [((0, 1), 1.0)]
    src = [i for (i, _), _ in edges] + [j for (_, j), _ in edges]
    dst = [j for (_, j), _ in edges] + [i for (i, _), _ in edges]
    w = [x for _, x in edges] * 2
    return torch.tensor([src, dst]), torch.tensor(w, dtype=torch.float64), n


def _true_lambda_max(ei, w, n, normalization):
    a = np.zeros((n, n))
    np.add.at(a, (ei[0].numpy(), ei[1].numpy()), w.numpy())
    d = a.sum(1)
    if normalization is None:
        return float(np.linalg.eigvalsh(np.diag(d) - a)[-1])
    dis = np.where(d > 0, 1 / np.sqrt(np.where(d > 0, d, 1)), 0.0)
    return float(np.linalg.eigvalsh(np.eye(n) - dis[:, None] * a * dis[None, :])[-1])


@settings(max_examples=40)
@given(weighted_graphs(), st.sampled_from(["sym", "rw", None]))
def test_certified_upper_bounds_hold_and_lowers_stay_below(graph, normalization):
    ei, w, n = graph
    true = _true_lambda_max(ei, w, n, normalization)
    for method in ("analytic", "exact", "lanczos", "power"):
        est = lambda_max_bound((ei, w, n), normalization=normalization, method=method, iters=5)
        assert float(est.lower[0]) <= true + 1e-9 * max(1.0, true)
        if bool(est.certified[0]):
            assert float(est.upper[0]) >= true - 1e-9 * max(1.0, true)


@settings(max_examples=30)
@given(weighted_graphs(), st.sampled_from(["sym", None]), st.integers(1, 40))
def test_chebyshev_terms_never_amplify_under_the_certified_scaling(graph, normalization, K):
    """spec(L̂) ⊆ [-1, 1] and L̂ symmetric, so ‖T_k(L̂) x‖ ≤ ‖x‖ for every k."""
    ei, w, n = graph
    lap = ScaledLaplacian.from_graph((ei, w, n), normalization=normalization, dtype=torch.float64)
    x = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(K))
    for tk in cheb_basis(lap, x, K):
        assert float(tk.norm()) <= float(x.norm()) * (1 + 1e-9)
