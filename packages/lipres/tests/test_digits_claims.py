"""The pair ascent behind ``bound_is_respected_digits`` can fail: it finds a margin table that
understates a classifier's margins, and it never exceeds a correct one."""

import lipres
import pytest
import torch
from lipres._certify import _margin_lipschitz
from lipres._experiments.models import margin_ratio_ascent
from torch import nn

F64 = torch.float64


def _linear(seed):
    torch.manual_seed(seed)
    lin = nn.Linear(6, 4).double()
    w = lin.weight.detach()
    exact = torch.linalg.vector_norm(w[:, None, :] - w[None, :, :], dim=2)  # ||w_y - w_j||_2
    return lin, exact


@pytest.mark.parametrize("seed", [0, 1])
def test_margin_ascent_reaches_the_exact_table_of_a_linear_classifier(seed):
    """f_y - f_j of a linear map is ||w_y - w_j||-Lipschitz, attained along w_y - w_j: the
    ascent's ratio comes within 1 % of 1 and never above it."""
    lin, exact = _linear(seed)
    x = torch.rand(64, 6, dtype=F64)
    ratio = margin_ratio_ascent(lin, x, exact, n_iter=30, seed=seed)
    assert 0.99 <= ratio <= 1.0 + 1e-9
    assert lin.weight.dtype == F64  # returned to its own dtype


@pytest.mark.parametrize("factor", [0.5, 0.9])
def test_margin_ascent_exposes_an_understated_table(factor):
    lin, exact = _linear(0)
    x = torch.rand(64, 6, dtype=F64)
    ratio = margin_ratio_ascent(lin, x, exact * factor, n_iter=30, seed=0)
    assert ratio > 1.0 / factor * 0.99


@pytest.mark.parametrize("arch", lipres.ARCHITECTURES)
def test_certified_margin_table_is_not_beaten_on_a_trained_classifier(arch):
    torch.manual_seed(0)
    net = lipres.LipResNetClassifier(8, 3, 8, 2, architecture=arch)
    x = torch.rand(96, 8)
    lipres.fit_classifier(net, x, torch.arange(96) % 3, epochs=3, batch_size=32)
    ratio = margin_ratio_ascent(net, x, _margin_lipschitz(net, 3, None), n_iter=20, seed=0)
    assert 0.0 < ratio <= 1.0 + 1e-6
    assert next(net.parameters()).dtype == torch.float32  # the check leaves the model as it was
