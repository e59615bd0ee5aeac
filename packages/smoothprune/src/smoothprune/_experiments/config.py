"""Every number a run depends on, one frozen dataclass per mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .._models import Arch

Mode = Literal["quick", "full"]


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one ``reproduce`` mode.

    Attributes:
        mode: ``"quick"`` (under a minute on one quiet CPU thread) or ``"full"`` (the
            laptop-scale run).
        models: Architectures of the digits study, in order.
        epochs: Training epochs per run. Quick uses 7 (measured on the 2-core machine at load
            5-6: 52 s of CPU time in all, about 18 s per training run; at 8 epochs 63 s, at 6
            the smooth model lost 4.5 points of full accuracy and
            ``smooth_full_accuracy_cost`` failed).
        plain_weight_decays: The plain control's weight-decay grid (tuned, spec section 6.2).
        second_order: ``{model: λ₂ grid}`` of the smooth (Δ² along ``out``) runs.
        seeds: Seed offsets; the first one tunes, the rest reuse the chosen values.
        keep: Per-layer budgets evaluated (fraction of each layer's weights).
        params: Global budgets evaluated (fraction of the compressible weights).
        channels: Channel-pruning fractions evaluated.
        unstructured: Unstructured-pruning fractions evaluated.
        n_train: Training samples (the last ``n_val`` of the 4 500 validate).
        n_val: Validation samples used for every choice.
        cifar_epochs: Epochs of the opt-in CIFAR-10 case.
        cifar_subset: Training images of the CIFAR-10 case (0: all).
    """

    mode: Mode
    models: tuple[Arch, ...]
    epochs: int
    plain_weight_decays: tuple[float, ...]
    second_order: dict[str, tuple[float, ...]]
    seeds: tuple[int, ...]
    keep: tuple[float, ...]
    params: tuple[float, ...]
    channels: tuple[float, ...]
    unstructured: tuple[float, ...]
    n_train: int = 4000
    n_val: int = 500
    cifar_epochs: int = 1
    cifar_subset: int = 0


QUICK = Config(
    mode="quick",
    models=("smallcnn",),
    epochs=7,
    plain_weight_decays=(5e-4,),
    second_order={"smallcnn": (3e-3,)},
    seeds=(0,),
    keep=(0.3, 0.1),
    params=(0.3, 0.1),
    channels=(0.5,),
    unstructured=(0.9,),
    cifar_epochs=1,
    cifar_subset=0,
)
FULL = Config(
    mode="full",
    models=("smallcnn", "gapcnn"),
    epochs=12,
    plain_weight_decays=(5e-4, 5e-3, 5e-2),
    second_order={"smallcnn": (1e-3, 3e-3, 1e-2), "gapcnn": (1e-4, 3e-4, 1e-3)},
    seeds=(0, 1, 2),
    keep=(0.3, 0.1, 0.05),
    params=(0.5, 0.3, 0.2, 0.1, 0.05),
    channels=(0.3, 0.5),
    unstructured=(0.7, 0.9),
    cifar_epochs=30,
    cifar_subset=0,
)


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or ``--full`` (False)."""
    return QUICK if quick else FULL
