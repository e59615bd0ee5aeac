import pytest
import torch
from lat_detect import train_detector
from torch import nn

from sciml_core import InputError


class _Diverging(nn.Module):
    """Returns a NaN loss from the third call on, like a detector at far too high a rate."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
        self.calls = 0

    def forward(self, images, targets):
        self.calls += 1
        bad = torch.tensor(float("nan")) if self.calls >= 3 else torch.tensor(0.0)
        return {"loss": (self.w * 0).sum() + bad}


def test_a_non_finite_loss_stops_training_naming_the_step(tiny_bench):
    with pytest.raises(InputError, match="step 2"):
        train_detector(_Diverging(), tiny_bench.target_train, steps=5, progress=False)


@pytest.mark.parametrize(
    "kwargs,match", [({"schedule": "both"}, "schedule"), ({"steps": -1}, "steps")]
)
def test_bad_training_options_are_input_errors(tiny_bench, kwargs, match):
    with pytest.raises(InputError, match=match):
        train_detector(_Diverging(), tiny_bench.target_train, **{"steps": 1, **kwargs})
