"""ES-WMV's running variance finds a known knee with a bounded buffer."""

import pytest
import torch
from dsp_prior import FixedBudget, RunningVariance, ValidatedStop


@pytest.mark.parametrize("knee, window", [(120, 20), (300, 50)])
def test_running_variance_stop_finds_the_knee_of_a_synthetic_sequence(knee, window):
    # iterates whose fluctuation shrinks until `knee` and grows after it (DIP's fit-then-overfit)
    g = torch.Generator().manual_seed(knee)
    mon = RunningVariance(window=window, patience=100).monitor()
    t = 0
    while not mon.stopped:
        t += 1
        scale = 0.01 + abs(t - knee) / knee
        mon.update(0.5 + scale * torch.randn(1, 1, 8, 8, generator=g), t)
        assert len(mon.buffer) <= window
    # the window of least variance is centred on the knee: its last iterate is about window/2 later
    assert abs(mon.best_iteration - (knee + window // 2)) <= window // 2
    assert mon.stop_iteration == mon.best_iteration + 100


def test_running_variance_is_the_mean_windowed_variance():
    mon = RunningVariance(window=4, patience=10).monitor()
    xs = [
        torch.rand(1, 2, 3, 3, generator=torch.Generator().manual_seed(i), dtype=torch.float64)
        for i in range(9)
    ]
    for t, x in enumerate(xs, start=1):
        mon.update(x, t)
    stack = torch.stack(xs[-4:])
    assert abs(mon.value - float(stack.var(dim=0, unbiased=False).mean())) < 1e-14


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: FixedBudget(0), "iterations"),
        (lambda: ValidatedStop(-3), "iteration"),
        (lambda: RunningVariance(window=1), "window"),
        (lambda: RunningVariance(patience=0), "patience"),
    ],
)
def test_stopping_rules_refuse_bad_counts(build, match):
    with pytest.raises(ValueError, match=match):
        build()
