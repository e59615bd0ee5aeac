"""The training API refuses what would give NaN weights: non-finite data, zero targets, non-finite
hyper-parameters, and a loss that becomes non-finite (``DivergenceError``, epoch and step named);
user files read through the core readers name the argument."""

import math

import numpy as np
import pytest
import torch

from fno_conserve import (
    DivergenceError,
    TrainConfig,
    build_model,
    generate,
    load_dataset,
    load_trained,
    train_model,
)
from fno_conserve._train import VARIANTS
from sciml_core import InputError

QUADRATIC = ("rescale", "adaptive-rescale")


@pytest.fixture(scope="module")
def burgers():
    data = generate("burgers", 24, 32, seed=0, show_progress=False, t_final=0.1)
    return data["x"].float(), data["y"].float()


@pytest.fixture(scope="module")
def nls():
    data = generate("nls", 16, 32, seed=0, show_progress=False, t_final=0.1)
    return data["x"].float(), data["y"].float()


def _setup(variant, data, **kw):
    law = "norm" if variant in QUADRATIC else "mass"
    cfg = TrainConfig(variant=variant, law=law, width=8, modes=4, layers=2, epochs=3, batch=8, **kw)
    torch.manual_seed(0)
    return cfg, build_model(cfg, 1, data[0].shape[1], data[1].shape[1])


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_non_finite_loss_stops_training_naming_the_epoch_and_step(burgers, nls, variant):
    data = nls if variant in QUADRATIC else burgers
    cfg, model = _setup(variant, data, lr=1e8)
    with pytest.raises(DivergenceError, match=r"epoch \d+ of 3, step \d+ of \d+") as info:
        train_model(model, cfg, *data, show_progress=False)
    assert info.value.epoch >= 1 and info.value.step >= 1
    assert not math.isfinite(info.value.loss)


def test_divergence_is_an_input_error():
    """The CLI prints it as one line with exit 2; a library user catches a ValueError."""
    assert issubclass(DivergenceError, InputError) and issubclass(DivergenceError, ValueError)


@pytest.mark.parametrize("array", ["x", "y"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_training_refuses_non_finite_data_naming_the_array_and_count(burgers, array, bad):
    x, y = (t.clone() for t in burgers)
    (x if array == "x" else y)[2, 0, :4] = bad
    cfg, model = _setup("plain", burgers, lr=1e-3)
    with pytest.raises(InputError, match=rf"^{array}: 4 of \d+ values are not finite"):
        train_model(model, cfg, x, y, show_progress=False)


def test_training_refuses_a_target_that_is_zero_everywhere(burgers):
    x, y = (t.clone() for t in burgers)
    y[5] = 0.0
    cfg, model = _setup("plain", burgers, lr=1e-3)
    with pytest.raises(InputError, match="sample 5"):
        train_model(model, cfg, x, y, show_progress=False)


@pytest.mark.parametrize(
    "field,value",
    [
        ("lr", math.nan),
        ("lr", math.inf),
        ("lr", 0.0),
        ("penalty_weight", math.nan),
        ("penalty_weight", math.inf),
        ("penalty_weight", -1.0),
        ("epochs", -1),
        ("epochs", math.nan),
        ("width", 0),
        ("batch", 2.5),
    ],
)
def test_train_config_refuses_a_bad_hyper_parameter_naming_it(field, value):
    with pytest.raises(InputError, match=f"^{field}:"):
        TrainConfig(**{field: value}).check()


def test_train_config_accepts_an_integral_float_from_a_json_config():
    assert TrainConfig(epochs=3.0).check().epochs == 3.0  # type: ignore[arg-type]


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_load_dataset_refuses_a_truncated_file_naming_the_argument(tmp_path, cut):
    from fno_conserve import save_dataset

    path = tmp_path / "d.npz"
    save_dataset(path, generate("heat", 4, 16, seed=0, show_progress=False))
    path.write_bytes(path.read_bytes()[: int(cut * path.stat().st_size)])
    with pytest.raises(InputError, match=r"^--data: .*d\.npz"):
        load_dataset(path, argument="--data")


def test_load_dataset_refuses_an_archive_of_another_layout(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, meta=np.array("[]"), x_0=np.zeros(3))
    with pytest.raises(InputError, match="not a dataset written by fno-conserve"):
        load_dataset(path)


def test_load_trained_refuses_a_truncated_checkpoint_naming_the_argument(tmp_path):
    from fno_conserve import save_trained

    cfg = TrainConfig(variant="plain", width=4, modes=2, layers=1)
    path = tmp_path / "model.pt"
    save_trained(path, build_model(cfg, 1, 1, 1), cfg, dim=1, in_channels=1, out_channels=1)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InputError, match=r"^--checkpoint: .*model\.pt"):
        load_trained(path, argument="--checkpoint")


def _trained_rates(burgers, **kw):
    x, y = burgers
    cfg = TrainConfig(variant="plain", width=4, modes=2, layers=1, epochs=3, batch=12, **kw)
    torch.manual_seed(0)
    model = build_model(cfg.check(), 1, 1, 1)
    hist = train_model(model, cfg, x, y, seed=0, show_progress=False)
    return hist["lr"], model


def test_cosine_schedule_anneals_the_rate_to_zero_over_every_step(burgers):
    rates, _ = _trained_rates(burgers, lr=1e-2, schedule="cosine")
    steps, total = 2, 6  # 24 samples in batches of 12, 3 epochs
    want = [1e-2 * (1 + math.cos(math.pi * steps * (e + 1) / total)) / 2 for e in range(3)]
    assert rates == pytest.approx(want, abs=1e-12)


def test_constant_schedule_keeps_the_rate(burgers):
    rates, _ = _trained_rates(burgers, lr=1e-2, schedule="constant")
    assert rates == [1e-2] * 3


def test_cosine_is_the_default_schedule(burgers):
    """The default trains bit for bit as an explicit ``cosine`` (0.2.0's only schedule), and
    differently from ``constant``."""
    _, default = _trained_rates(burgers, lr=1e-2)
    _, cosine = _trained_rates(burgers, lr=1e-2, schedule="cosine")
    _, constant = _trained_rates(burgers, lr=1e-2, schedule="constant")
    for a, b in zip(default.parameters(), cosine.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not all(
        torch.equal(a, c) for a, c in zip(default.parameters(), constant.parameters(), strict=True)
    )


def test_train_config_refuses_an_unknown_schedule_naming_it():
    with pytest.raises(InputError, match=r"^schedule: expected one of"):
        TrainConfig(schedule="linear").check()  # type: ignore[arg-type]
