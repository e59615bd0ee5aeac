import warnings

import pytest
import torch
from brain_hyda import HGNNConv, hgnn_propagate, knn_incidence, multi_incidence

from sciml_core import InputError


def _h(seed=0, v=7, e=5):
    g = torch.Generator().manual_seed(seed)
    h = (torch.rand(v, e, generator=g, dtype=torch.float64) < 0.4).double()
    h[torch.arange(v), torch.arange(v) % e] = 1.0  # every vertex in some hyperedge
    return h


@pytest.mark.parametrize("norm", ["mean", "sym"])
def test_hgnn_equals_dense_formula(norm, dense_propagation):
    h = _h()
    x = torch.randn(7, 3, dtype=torch.float64)
    w = torch.rand(5, dtype=torch.float64) + 0.5
    p = dense_propagation(h, w, norm)
    assert torch.allclose(hgnn_propagate(x, h, edge_weight=w, norm=norm), p @ x, atol=1e-12, rtol=0)


def test_mean_norm_is_row_stochastic():
    h = _h(1)
    p = hgnn_propagate(torch.eye(7, dtype=torch.float64), h, norm="mean")
    assert torch.allclose(p.sum(1), torch.ones(7, dtype=torch.float64), atol=1e-12)
    assert (p >= 0).all()


def test_sym_norm_spectrum_and_top_eigenvector():
    h = _h(2)
    p = hgnn_propagate(torch.eye(7, dtype=torch.float64), h, norm="sym")
    assert torch.allclose(p, p.T, atol=1e-12)
    ev = torch.linalg.eigvalsh(p)
    assert ev.min() > -1e-12 and ev.max() < 1 + 1e-12
    u = h.sum(1).sqrt()
    assert torch.allclose(p @ u, u, atol=1e-12)


@pytest.mark.parametrize("v,k", [(6, 1), (6, 3), (6, 6), (4, 9)])
def test_knn_hyperedge_holds_its_centre_and_min_k_v_vertices(v, k):
    z = torch.randn(v, 2, generator=torch.Generator().manual_seed(v + k))
    h = knn_incidence(z, k)
    assert torch.equal(torch.diag(h), torch.ones(v))
    assert torch.equal(h.sum(0), torch.full((v,), float(min(k, v))))


def test_knn_members_are_the_nearest():
    z = torch.tensor([[0.0], [1.0], [2.5], [10.0]])
    h = knn_incidence(z, 2)
    assert h[:, 3].nonzero().flatten().tolist() == [2, 3]
    assert h[:, 0].nonzero().flatten().tolist() == [0, 1]


def test_probabilistic_weights_follow_hibmatch_formula():
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    h = knn_incidence(z, 3, prob=True, m_prob=1.5)
    d = torch.cdist(z, z)
    for q in range(6):
        members = h[:, q].nonzero().flatten()
        expect = torch.exp(-(d[members, q] ** 2) / (1.5 * d[q].mean()) ** 2)
        assert torch.allclose(h[members, q], expect, atol=1e-12)
        assert h[q, q] == 1.0


def test_permuting_vertices_permutes_h():
    z = torch.randn(8, 3, generator=torch.Generator().manual_seed(4))
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(5))
    h = knn_incidence(z, 3)
    assert torch.equal(knn_incidence(z[perm], 3), h[perm][:, perm])


def test_dedup_merges_duplicate_hyperedges():
    z = torch.tensor([[0.0], [0.1], [5.0], [5.1]])
    h = multi_incidence([z, z], 2, dedup=False)
    assert h.shape[1] == 8
    merged = multi_incidence([z, z], 2)
    assert merged.shape[1] == 2  # {0, 1} and {2, 3}
    assert {tuple(c.nonzero().flatten().tolist()) for c in merged.T} == {(0, 1), (2, 3)}


def test_bad_k_is_refused():
    with pytest.raises(InputError, match="k"):
        knn_incidence(torch.randn(3, 2), 0)


def test_hgnnconv_applies_theta_after_propagation():
    conv = HGNNConv(3, 2, norm="mean").double()
    h, x = _h(), torch.randn(7, 3, dtype=torch.float64)
    assert torch.allclose(conv(x, h), conv.theta(hgnn_propagate(x, h)), atol=1e-12)


dhg = pytest.importorskip("dhg", reason="dhg not installed: its parity tests are skipped")


@pytest.mark.parametrize("k", [2, 3, 5])
def test_knn_hyperedges_equal_dhg(k):
    z = torch.randn(9, 3, generator=torch.Generator().manual_seed(k))
    theirs = {tuple(sorted(e)) for e in dhg.Hypergraph.from_feature_kNN(z, k=k).e[0]}
    h = multi_incidence([z], k)
    ours = {tuple(c.nonzero().flatten().tolist()) for c in h.T}
    assert ours == theirs


@pytest.mark.parametrize("norm", ["mean", "sym"])
def test_propagation_equals_dhg(norm):
    z = torch.randn(9, 3, generator=torch.Generator().manual_seed(7))
    x = torch.randn(9, 4, generator=torch.Generator().manual_seed(8))
    hg = dhg.Hypergraph.from_feature_kNN(z, k=3)
    h = torch.zeros(9, len(hg.e[0]))
    for j, e in enumerate(hg.e[0]):
        h[list(e), j] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dhg's sparse-CSR beta warning
        theirs = hg.smoothing_with_HGNN(x) if norm == "sym" else hg.v2v(x, aggr="mean")
    assert torch.allclose(hgnn_propagate(x, h, norm=norm), theirs, atol=1e-5)
