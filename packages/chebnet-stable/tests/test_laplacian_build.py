"""The cold path's pieces equal their references: the CSR with its diagonal merged by counting,
coalescing that skips already sorted edge lists, the radix-sorted and torch-sorted builds, the
exact symmetry check and the feature check."""

import pytest
import torch
from chebnet_testing import er_edge_index

from chebnet_stable import ChebConv, ScaledLaplacian
from chebnet_stable import _laplacian as laplacian
from chebnet_stable._laplacian import _coalesce, _csr, _csr_with_diagonal
from sciml_core import InputError


def _graphs():
    star = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])  # rows left- or right-only
    isolated = torch.tensor([[1, 2], [2, 1]])  # nodes 0 and 3 have no edge
    return [
        pytest.param(er_edge_index(30, 0.2, 0), 30, id="er"),
        pytest.param(star, 4, id="star"),
        pytest.param(isolated, 4, id="isolated-nodes"),
        pytest.param(torch.zeros(2, 0, dtype=torch.long), 3, id="no-edges"),
    ]


@pytest.mark.parametrize(("ei", "n"), _graphs())
def test_csr_with_merged_diagonal_equals_the_sorted_build(ei, n):
    lap = ScaledLaplacian.from_graph((ei, None, n), dtype=torch.float64)
    src, dst, val, diag = lap._src, lap._dst, lap._val, lap._diag
    fast = _csr_with_diagonal(src, dst, val, diag, n)
    ar = torch.arange(n)
    ref = _csr(torch.cat([src, ar]), torch.cat([dst, ar]), torch.cat([val, diag]), n)
    assert fast is not None
    assert torch.equal(fast.crow_indices(), ref.crow_indices())
    assert torch.equal(fast.col_indices(), ref.col_indices())
    assert torch.equal(fast.values(), ref.values())
    assert torch.equal(fast.to_dense(), lap.to_dense())


def test_csr_fast_path_refuses_unsorted_entries():
    src, dst = torch.tensor([1, 0]), torch.tensor([0, 1])
    assert _csr_with_diagonal(src, dst, torch.ones(2), torch.ones(2), 2) is None


def test_coalescing_a_sorted_list_returns_it_and_an_unsorted_one_sorts_and_sums():
    ei = er_edge_index(20, 0.3, 1)
    w = torch.rand(ei.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref_ei, ref_w, ref_key = _coalesce(ei.flip(1), w.flip(0), 20)  # reversed: needs the sort
    assert bool((ref_key[1:] > ref_key[:-1]).all())
    again = _coalesce(ref_ei, ref_w, 20)
    assert again[0] is ref_ei and again[1] is ref_w  # already sorted: no work
    dup = torch.cat([ei, ei[:, :3]], dim=1)
    dup_w = torch.cat([w, w[:3]])
    out_ei, out_w, _ = _coalesce(dup, dup_w, 20)
    dense = torch.zeros(20, 20, dtype=torch.float64).index_put_(
        (dup[0], dup[1]), dup_w, accumulate=True
    )
    assert torch.equal(
        torch.zeros(20, 20, dtype=torch.float64).index_put_((out_ei[0], out_ei[1]), out_w), dense
    )


def _layouts():
    """Undirected graphs in the edge orders users pass: [E, flip(E)], sorted, shuffled; with and
    without weights; with duplicate edges (summed)."""
    ei = er_edge_index(40, 0.15, 3)
    half = ei.shape[1] // 2
    gen = torch.Generator().manual_seed(1)
    perm = torch.randperm(ei.shape[1], generator=gen)
    w_half = torch.rand(half, dtype=torch.float64, generator=gen) + 0.1
    w = torch.cat([w_half, w_half])
    order = torch.argsort(ei[0] * 40 + ei[1])
    dup = torch.cat([ei, ei[:, :4], ei[:, half : half + 4]], dim=1)  # 4 edges twice, both ways
    return [
        pytest.param(ei, None, id="flip-layout"),
        pytest.param(ei[:, order], None, id="sorted"),
        pytest.param(ei[:, perm], None, id="shuffled"),
        pytest.param(ei[:, perm], w[perm], id="shuffled-weighted"),
        pytest.param(dup, None, id="duplicates"),
        pytest.param(dup[:, torch.randperm(dup.shape[1], generator=gen)], None, id="dup-shuffled"),
    ]


def _dense_reference(ei, w, n, normalization):
    """L̂ from the dense adjacency (duplicates summed), the textbook formula."""
    w = torch.ones(ei.shape[1], dtype=torch.float64) if w is None else w
    a = torch.zeros(n, n, dtype=torch.float64).index_put_((ei[0], ei[1]), w, accumulate=True)
    deg = a.sum(1)
    if normalization is None:
        lap = torch.diag(deg) - a
        return 2.0 * lap / (2.0 * deg.max()) - torch.eye(n, dtype=torch.float64)
    dis = torch.where(deg > 0, deg.rsqrt(), torch.zeros_like(deg))
    return -dis[:, None] * a * dis[None, :]  # 2(I - D^-1/2 A D^-1/2)/2 - I


@pytest.mark.parametrize("radix", [True, False], ids=["radix-sort", "torch-sort"])
@pytest.mark.parametrize("normalization", ["sym", None])
@pytest.mark.parametrize(("ei", "w"), _layouts())
def test_every_edge_order_builds_the_dense_reference(monkeypatch, ei, w, normalization, radix):
    """Coalescing (duplicates summed, also without weights) and the symmetry check give the
    textbook L̂ whatever the edge order, on the numpy radix path and the torch.sort path."""
    if not radix:
        monkeypatch.setattr(laplacian, "_RADIX_NODES", 0)
    lap = ScaledLaplacian.from_graph((ei, w, 40), normalization=normalization, dtype=torch.float64)
    assert lap.symmetric
    ref = _dense_reference(ei, w, 40, normalization)
    assert torch.allclose(lap.to_dense(), ref, rtol=0, atol=1e-14)


@pytest.mark.parametrize("radix", [True, False], ids=["radix-sort", "torch-sort"])
@pytest.mark.parametrize("defect", ["missing-mirror", "mirror-weight"])
def test_the_symmetry_check_is_exact(monkeypatch, defect, radix):
    """One edge without its mirror, or a mirror of another weight (beyond 1e-12), is directed."""
    if not radix:
        monkeypatch.setattr(laplacian, "_RADIX_NODES", 0)
    ei = er_edge_index(30, 0.2, 5)
    w = torch.ones(ei.shape[1], dtype=torch.float64)
    if defect == "missing-mirror":
        ei, w = ei[:, 1:], w[1:]
    else:
        w[0] = 1.0 + 1e-9
    perm = torch.randperm(ei.shape[1], generator=torch.Generator().manual_seed(2))
    with pytest.raises(InputError, match="directed"):
        ScaledLaplacian.from_graph((ei[:, perm], w[perm], 30))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_features_checked_exactly_for_nan_and_inf(bad):
    """The cold path's feature check refuses NaN/inf and accepts finite features whose sum
    overflows (the sum is only a shortcut)."""
    ei = er_edge_index(10, 0.4, 0)
    conv = ChebConv(2, 2, K=2)
    big = torch.full((10, 2), 3e38)
    assert conv(big, (ei, None, 10)).shape == (10, 2)
    big[3, 1] = bad
    with pytest.raises(InputError, match="x: node features contain NaN or inf"):
        conv(big, (ei, None, 10))
