import math

import pytest
import torch
from lat_detect import Proposals, SemanticFeatureFusion
from lat_detect._sff import CLAMP_MODES, clamp_rows

from sciml_core import InputError

K, D = 5, 16


def _sff(**kw) -> SemanticFeatureFusion:
    torch.manual_seed(0)
    return SemanticFeatureFusion(D, K, 3, **kw).double()


def _features(m: int) -> torch.Tensor:
    return torch.randn(m, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


@pytest.mark.parametrize("mode", CLAMP_MODES)
def test_rows_sum_to_one_before_the_clamp_and_are_capped_after(mode, sff_proposals):
    _, info = _sff(clamp_mode=mode)(_features(12), sff_proposals(12))
    assert torch.allclose(info["softmax"].sum(1), torch.ones(12, dtype=torch.float64), atol=1e-6)
    assert bool((info["clamped"].amax(1) <= 1 / math.sqrt(3) + 1e-7).all())


@pytest.mark.parametrize("mode", CLAMP_MODES)
def test_rows_already_under_the_cap_are_unchanged(mode):
    p = torch.full((3, 4), 0.25, dtype=torch.float64)
    assert torch.equal(clamp_rows(p, 0.5, mode), p)


def test_truncate_is_the_elementwise_minimum():
    p = torch.softmax(torch.randn(6, 6, dtype=torch.float64) * 3, 1)
    assert torch.equal(
        clamp_rows(p, 0.4, "truncate"), torch.minimum(p, torch.tensor(0.4, dtype=torch.float64))
    )


def test_rescale_keeps_ratios_within_a_row():
    p = torch.softmax(torch.randn(6, 6, dtype=torch.float64) * 3, 1)
    q = clamp_rows(p, 0.4, "rescale")
    assert torch.allclose(q / q[:, :1], p / p[:, :1], atol=1e-12)


@pytest.mark.parametrize("conf_mode", ["multiply", "log"])
def test_sff_is_permutation_equivariant(conf_mode, sff_proposals):
    sff = _sff(conf_mode=conf_mode)
    h, p = _features(9), sff_proposals(9)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(2))
    q = Proposals(p.boxes[perm], p.labels[perm], p.conf[perm], p.is_gt[perm], p.gt_index[perm])
    out, _ = sff(h, p)
    out_perm, _ = sff(h[perm], q)
    assert torch.allclose(out[perm], out_perm, atol=1e-12)


def test_a_single_proposal_works(sff_proposals):
    out, info = _sff()(_features(1), sff_proposals(1))
    assert out.shape == (1, D) and info["clamped"].shape == (1, 1)


def test_overlap_mask_zeroes_disjoint_pairs():
    boxes = torch.tensor([[0.0, 0, 10, 10], [5, 5, 15, 15], [50, 50, 60, 60]])
    p = Proposals(
        boxes,
        torch.tensor([1, 2, 3]),
        torch.ones(3),
        torch.ones(3, dtype=torch.bool),
        torch.arange(3),
    )
    _, info = _sff(overlap_mask=True)(_features(3), p)
    for key in ("softmax", "weighted"):
        assert info[key][0, 2] == 0 and info[key][2, 0] == 0 and info[key][2, 1] == 0
        assert info[key][2, 2] == 1


def test_log_conf_mode_matches_its_formula(sff_proposals):
    sff = _sff(conf_mode="log")
    h, p = _features(7), sff_proposals(7)
    _, info = sff(h, p)
    a = sff.w_q(h) @ sff.w_k(h).T / math.sqrt(D)
    s = torch.where(p.is_gt, torch.ones(7), p.conf).double()
    assert torch.allclose(info["weighted"], torch.softmax(a + torch.log(s)[None, :], 1), atol=1e-12)


def test_multiply_conf_mode_matches_its_formula(sff_proposals):
    sff = _sff()
    h, p = _features(7), sff_proposals(7)
    _, info = sff(h, p)
    a = sff.w_q(h) @ sff.w_k(h).T / math.sqrt(D)
    s = torch.where(p.is_gt, torch.ones(7), p.conf).double()
    assert torch.allclose(info["weighted"], torch.softmax(a * s[None, :], 1), atol=1e-12)


def test_output_is_the_residual_plus_both_attention_terms(sff_proposals):
    sff = _sff()
    h, p = _features(5), sff_proposals(5)
    out, info = sff(h, p)
    c = torch.zeros(5, K + 1, dtype=torch.float64)
    c[torch.arange(5), p.labels] = p.conf.double()
    expected = h + info["clamped"] @ sff.w_c(c) + info["weighted"] @ sff.w_r(h)
    assert torch.allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("kw", [{"clamp_mode": "x"}, {"conf_mode": "x"}, {"class_input": "x"}])
def test_unknown_string_options_are_input_errors(kw):
    with pytest.raises(InputError):
        SemanticFeatureFusion(D, K, 2, **kw)
