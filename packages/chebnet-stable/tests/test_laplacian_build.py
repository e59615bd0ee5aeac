"""The cold path's sort-free pieces equal the sorted reference: the CSR with its diagonal merged
by counting, and coalescing that skips already sorted edge lists."""

import pytest
import torch
from chebnet_testing import er_edge_index

from chebnet_stable import ScaledLaplacian
from chebnet_stable._laplacian import _coalesce, _csr, _csr_with_diagonal


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
