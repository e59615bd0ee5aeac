"""Claims 2 and 3: the telescoping identity, the ``k = 1`` control and the cost formula."""

from __future__ import annotations

import torch

from .._allocation import geometric_schedule
from .._baselines import SingleLevelTrainer
from .._cost import step_cost
from .._data import MultiLevelData
from .._estimator import mlmc_loss
from .._sampler import MLMCSampler
from .._trainer import MLMCTrainer
from .context import Context


def _loss(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return ((p - t) ** 2).mean(dim=(1, 2, 3))


def _cnn(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"),
        torch.nn.GELU(),
        torch.nn.Conv2d(4, 1, 3, padding=1, padding_mode="circular"),
    ).double()


def run(ctx: Context) -> None:
    """Float64, three steps: exact identities (no accuracy claim)."""
    g = torch.Generator().manual_seed(ctx.seed)
    x = torch.randn(64, 1, 16, 16, generator=g, dtype=torch.float64)
    y = torch.tanh(x) + 0.3 * x.roll(1, -1)
    data = MultiLevelData.from_fine(x, y, (4, 8, 16))
    model = _cnn(ctx.seed)
    batch = MLMCSampler(data, (16, 16, 16), pairing="nested", seed=ctx.seed).sample()
    params = list(model.parameters())
    ga = torch.autograd.grad(mlmc_loss(model, batch, _loss).value, params)
    fine = batch.levels[-1]
    gb = torch.autograd.grad(_loss(model(fine.x), fine.y).mean(), params)
    identity = max(float((a - b).abs().max()) for a, b in zip(ga, gb, strict=True))
    a, b = _cnn(ctx.seed), _cnn(ctx.seed)
    ta = MLMCTrainer(
        a,
        data,
        _loss,
        torch.optim.SGD(a.parameters(), 0.1),
        batch_sizes=geometric_schedule(3, 1, 8),
        pairing="nested",
        seed=ctx.seed,
    )
    tb = SingleLevelTrainer(
        b, x, y, _loss, torch.optim.SGD(b.parameters(), 0.1), batch_size=8, seed=ctx.seed
    )
    ta.fit(steps=3)
    tb.fit(steps=3)
    k1 = max(
        float((p - q).detach().abs().max())
        for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )
    ctx.result.add_claim(
        "telescoping identity and k = 1 equals single-fine (float64, 3 steps)",
        expected="max |difference| <= 1e-12",
        observed=f"identity {identity:.1e}, k = 1 parameters {k1:.1e}",
        holds=identity <= 1e-12 and k1 <= 1e-12,
    )
    sizes = (12, 6, 3)
    m = _cnn(ctx.seed)
    tc = MLMCTrainer(m, data, _loss, torch.optim.SGD(m.parameters(), 0.1), batch_sizes=sizes)
    tc.fit(steps=4)
    formula = 4 * sum(
        b * (n**2 + (m**2 if m else 0))
        for b, n, m in zip(sizes, (4, 8, 16), (0, 4, 8), strict=True)
    )
    ctx.result.add_claim(
        "cost units = sum_steps sum_l b_l (n_l^2 + n_(l-1)^2)",
        expected=formula,
        observed=tc.cost_units,
        holds=tc.cost_units == formula == 4 * step_cost((4, 8, 16), sizes, 2),
    )
