import copy

import pytest
import torch
from smoothprune import SmoothnessRegularizer, train_classifier
from torch import nn


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))


@pytest.mark.parametrize("penalty", [None, "second_order", "prox"])
def test_model_after_epoch_k_of_a_longer_run_is_the_k_epoch_model(penalty):
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(40, 1, 4, 4, generator=gen), torch.randint(0, 3, (40,), generator=gen)

    def reg(net):
        if penalty == "second_order":
            return SmoothnessRegularizer(net, second_order=1e-2)
        if penalty == "prox":
            return SmoothnessRegularizer(
                net, nuclear=1.0, second_order=0.0, nuclear_mode="prox", every=3
            )
        return None

    snapshots = {}
    long = _net()
    train_classifier(
        long,
        x,
        y,
        epochs=3,
        batch_size=16,
        regularizer=reg(long),
        on_epoch=lambda k, m: snapshots.__setitem__(k, copy.deepcopy(m.state_dict())),
    )
    assert sorted(snapshots) == [1, 2, 3]
    for k in (1, 2):
        short = _net()
        train_classifier(short, x, y, epochs=k, batch_size=16, regularizer=reg(short))
        for name, value in short.state_dict().items():
            assert torch.equal(value, snapshots[k][name]), (k, name)
