import pytest
import torch
from lat_detect import LATConfig, build_backbone, run_lat, train_detector
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


def _datasets(bench):
    return {"T": bench.target_train, "A": bench.sources["A"]}


def test_run_lat_refuses_a_backbone_beside_given_specialists(tiny_bench):
    with pytest.raises(InputError, match="backbone: the given specialists"):
        run_lat(
            _datasets(tiny_bench),
            "T",
            specialists={},
            backbone=build_backbone("tiny"),
            progress=False,
        )


def test_run_lat_starts_every_specialist_from_a_copy_of_the_given_backbone(tiny_bench):
    torch.manual_seed(7)
    given = build_backbone("tiny")
    before = {k: v.clone() for k, v in given.named_parameters()}
    # at a learning rate of 1e-9 one AdamW step moves no parameter by more than ~1e-9
    config = LATConfig(specialist_steps=1, specialist_lr=1e-9, transfer_steps=1)
    result = run_lat(_datasets(tiny_bench), "T", config=config, backbone=given, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in given.named_parameters())
    for det in result.specialists.values():
        assert det.backbone is not given
        for k, v in det.backbone.named_parameters():
            assert torch.allclose(v, before[k], atol=1e-6, rtol=0), k
