"""The training loop and evaluation shared by ``train`` and ``reproduce``: one API for every
variant."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from torch import nn

from sciml_core import InputError, SeedLike, as_torch_generator, root_seed
from sciml_core.cli import progress

from ._constraints import Constraint, LinearConstraint, QuadraticConstraint, QuadraticMode
from ._correction import ConservationCorrection, Mode
from ._data import LawName
from ._fno import FNO
from ._grid import Rule
from ._loss import RelLpLoss
from ._metrics import conservation_error
from ._penalty import ConservationPenalty
from ._wrapper import ConservedOperator, posthoc_projection

Variant = Literal[
    "plain", "penalty", "posthoc", "projection", "adaptive", "rescale", "adaptive-rescale"
]
VARIANTS: tuple[Variant, ...] = get_args(Variant)
"""Every training variant (the baselines and the corrections)."""
LINEAR_VARIANTS: tuple[Variant, ...] = ("plain", "penalty", "posthoc", "projection", "adaptive")
"""The variants that apply to a linear law."""
QUADRATIC_VARIANTS: tuple[Variant, ...] = ("plain", "posthoc", "rescale", "adaptive-rescale")
"""The variants that apply to the quadratic ``norm`` law."""

Law = LawName
LAWS: tuple[Law, ...] = get_args(Law)
"""Named conservation laws: ``mass``, ``moments`` (0, 1, 2), ``norm`` (NLS), ``mean-zero``."""

Schedule = Literal["cosine", "constant"]
SCHEDULES: tuple[Schedule, ...] = get_args(Schedule)
"""Learning-rate schedules of :func:`train_model`: ``cosine`` (to zero over every step, the
default) or ``constant`` (``lr`` throughout)."""

TrainDirection = Literal["head", "net", "field", "lowrank"]
TRAIN_DIRECTIONS: tuple[TrainDirection, ...] = get_args(TrainDirection)
"""Directions a trained variant may use (``dense`` needs a fixed grid and is not offered)."""


class DivergenceError(InputError):
    """Training stopped because the loss became non-finite (NaN or inf).

    Raised by :func:`train_model` at the first step whose loss is not finite, instead of going
    on and returning NaN weights; usually the learning rate is too large for the data. An
    :class:`~sciml_core.InputError` (a ``ValueError``): the command line prints it as one line
    and exits with status 2.

    Attributes:
        epoch: the epoch of the step (1-based).
        step: the step within the epoch (1-based).
        loss: the non-finite loss value.
    """

    def __init__(self, message: str, *, epoch: int, step: int, loss: float) -> None:
        super().__init__(message)
        self.epoch, self.step, self.loss = epoch, step, loss


def _check_finite_data(name: str, t: torch.Tensor) -> None:
    """Refuse NaN or inf in a training array, naming the array and the count."""
    bad = int((~torch.isfinite(t)).sum())
    if bad:
        raise InputError(
            f"{name}: {bad} of {t.numel()} values are not finite (NaN or inf); training needs "
            "finite data"
        )


def _positive_int(value: object) -> bool:
    """An integer >= 1 (an integral float from a JSON config counts; bool, NaN and inf do not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value == int(value) and value >= 1


def make_laws(
    law: Law,
    *,
    rule: Rule = "periodic",
    lengths: float | Sequence[float] = 1.0,
    mode: QuadraticMode = "rescale",
) -> list[Constraint]:
    """The constraints of a named law (``mass``, ``moments``, ``norm``, ``mean-zero``).

    ``mass``: ``int u_out = int u_in`` on channel 0; ``moments``: ``int x^k u`` for ``k = 0, 1, 2``;
    ``norm``: ``int (Re^2 + Im^2)`` of channels (0, 1) from the input (NLS);
    ``mean-zero``: ``int u = 0``. ``mode`` is the quadratic scheme for ``norm``.
    """
    if law == "mass":
        return [LinearConstraint.mass(0, rule=rule, lengths=lengths)]
    if law == "moments":
        return [LinearConstraint.moments(2, rule=rule, lengths=lengths)]
    if law == "norm":
        return [QuadraticConstraint((0, 1), mode=mode, rule=rule, lengths=lengths)]
    if law == "mean-zero":
        return [LinearConstraint.mass(0, target=0.0, rule=rule, lengths=lengths)]
    raise InputError(f"law: expected one of {LAWS}, got {law!r}")


@dataclass
class TrainConfig:
    """Everything that defines one training run (stored in checkpoints and results)."""

    variant: Variant = "adaptive"
    law: Law | None = "mass"
    direction: TrainDirection | None = None
    penalty_weight: float = 1.0
    width: int = 32
    modes: int = 16
    layers: int = 4
    projection_width: int = 128
    epochs: int = 40
    batch: int = 20
    lr: float = 1e-3
    rule: Rule = "periodic"
    lengths: float = 1.0
    schedule: Schedule = "cosine"

    def check(self) -> TrainConfig:
        """Validate every field (``InputError`` naming the field); returns ``self``."""
        if self.variant not in VARIANTS:
            raise InputError(f"variant: expected one of {VARIANTS}, got {self.variant!r}")
        if self.schedule not in SCHEDULES:
            raise InputError(f"schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        if self.direction is not None and self.direction not in TRAIN_DIRECTIONS:
            raise InputError(
                f"direction: expected one of {TRAIN_DIRECTIONS} or None, got {self.direction!r}"
            )
        if self.law is None:
            if self.variant != "plain":
                raise InputError(
                    f"variant: without a conservation law only 'plain' applies, got "
                    f"{self.variant!r}"
                )
            return self
        if self.law not in LAWS:
            raise InputError(f"law: expected one of {LAWS}, got {self.law!r}")
        quad = self.law == "norm"
        allowed = QUADRATIC_VARIANTS if quad else LINEAR_VARIANTS
        if self.variant not in allowed:
            raise InputError(
                f"variant: {self.variant!r} does not apply to the {self.law!r} law; "
                f"expected one of {allowed}"
            )
        for name in ("width", "modes", "layers", "projection_width", "epochs", "batch"):
            if not _positive_int(getattr(self, name)):
                raise InputError(
                    f"{name}: expected a positive integer, got {getattr(self, name)!r}"
                )
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr: expected a finite learning rate > 0, got {self.lr!r}")
        if not (math.isfinite(self.penalty_weight) and self.penalty_weight >= 0):
            raise InputError(
                f"penalty_weight: expected a finite weight >= 0, got {self.penalty_weight!r}"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict."""
        return asdict(self)


def laws_of(cfg: TrainConfig) -> list[Constraint]:
    """The constraints of a config's law (none without a law)."""
    if cfg.law is None:
        return []
    mode: QuadraticMode = "adaptive" if cfg.variant == "adaptive-rescale" else "rescale"
    return make_laws(cfg.law, rule=cfg.rule, lengths=cfg.lengths, mode=mode)


def build_model(cfg: TrainConfig, dim: int, in_channels: int, out_channels: int) -> nn.Module:
    """The model of a variant: a plain FNO, or an FNO wrapped in a :class:`ConservedOperator`."""
    cfg.check()
    adaptive = cfg.variant in ("adaptive", "adaptive-rescale")
    direction = cfg.direction
    aux = 1 if adaptive and direction in (None, "head") else 0
    base = FNO(
        dim,
        in_channels,
        out_channels,
        modes=cfg.modes,
        width=cfg.width,
        n_layers=cfg.layers,
        projection_width=cfg.projection_width,
        aux_channels=aux,
    )
    if cfg.variant in ("plain", "penalty", "posthoc"):
        return base
    mode: Mode = "adaptive" if cfg.variant == "adaptive" else "projection"
    corr = ConservationCorrection(
        laws_of(cfg), mode=mode, direction=direction if adaptive else None
    )
    return ConservedOperator(base, corr)


def predict(model: nn.Module, x: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """Model output as the variant defines it (``posthoc`` projects the plain output)."""
    out = model(x)
    if cfg.variant == "posthoc":
        out = posthoc_projection(out, x, laws_of(cfg))
    return out


def train_model(
    model: nn.Module,
    cfg: TrainConfig,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seed: SeedLike = 0,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Adam on ``RelLpLoss`` (plus the penalty for ``penalty``); returns the history.

    The learning rate follows ``cfg.schedule``: ``cosine`` anneals it from ``cfg.lr`` to zero over
    every step (``CosineAnnealingLR``), ``constant`` keeps ``cfg.lr``. The history holds the mean
    training loss per epoch (``loss``), the learning rate after each epoch's last step (``lr``) and
    ``train_seconds``. ``posthoc`` trains the plain model (the projection is applied only at
    evaluation).

    Raises:
        InputError: ``x`` or ``y`` holds NaN or inf (the array and the count are named), a target
            sample is zero everywhere (the relative loss divides by its norm), or the config is
            invalid.
        DivergenceError: the loss became non-finite; the epoch and step are named and the model
            is left as it was before that step's update.
    """
    cfg.check()
    if x.shape[0] != y.shape[0] or x.shape[0] < 1:
        raise InputError(
            f"x, y: expected the same positive number of samples, got {x.shape[0]}, {y.shape[0]}"
        )
    _check_finite_data("x", x)
    _check_finite_data("y", y)
    zero = (y.reshape(y.shape[0], -1) == 0).all(dim=1).nonzero().flatten().tolist()
    if zero:
        raise InputError(
            f"y: {len(zero)} target sample(s) are zero everywhere (first: sample {zero[0]}); the "
            "relative L2 loss divides by the target's norm"
        )
    dtype = next(model.parameters()).dtype
    x, y = x.to(dtype), y.to(dtype)
    gen = as_torch_generator(root_seed(seed))
    loss_fn = RelLpLoss(rule=cfg.rule, lengths=cfg.lengths)
    penalty = (
        ConservationPenalty(laws_of(cfg), cfg.penalty_weight) if cfg.variant == "penalty" else None
    )
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps_per_epoch = math.ceil(x.shape[0] / cfg.batch)
    sched = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * steps_per_epoch)
        if cfg.schedule == "cosine"
        else None
    )
    history = []
    rates = []
    start = time.perf_counter()
    model.train()
    epochs = progress(
        range(cfg.epochs), desc=f"train {cfg.variant}", unit="epoch", disable=not show_progress
    )
    for epoch in epochs:
        perm = torch.randperm(x.shape[0], generator=gen)
        total = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * cfg.batch : (i + 1) * cfg.batch]
            xb, yb = x[idx], y[idx]
            try:
                out = model(xb)
            except InputError as err:
                if epoch == 0 and i == 0:  # before any update: a mistake in the set-up
                    raise
                # after updates the outputs come from the weights alone, e.g. a NaN direction s
                # that the correction refuses: the weights have blown up
                model.eval()
                what = f"the model's outputs became unusable ({err})"
                raise _diverged(cfg, epoch, i, steps_per_epoch, what, math.nan) from err
            loss = loss_fn(out, yb)
            if penalty is not None:
                loss = loss + penalty(out, xb, yb)
            value = float(loss.detach())
            if not math.isfinite(value):
                model.eval()
                what = f"the loss became {value}"
                raise _diverged(cfg, epoch, i, steps_per_epoch, what, value)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += value * len(idx)
        history.append(total / x.shape[0])
        rates.append(float(opt.param_groups[0]["lr"]))
    model.eval()
    return {"loss": history, "lr": rates, "train_seconds": time.perf_counter() - start}


def _diverged(
    cfg: TrainConfig, epoch: int, step: int, steps_per_epoch: int, what: str, loss: float
) -> DivergenceError:
    """The error of a diverged training at 0-based ``epoch`` and ``step``."""
    return DivergenceError(
        f"training diverged: {what} at epoch {epoch + 1} of {cfg.epochs}, step {step + 1} of "
        f"{steps_per_epoch} (variant {cfg.variant!r}, lr {cfg.lr:g}); try a smaller learning "
        "rate",
        epoch=epoch + 1,
        step=step + 1,
        loss=loss,
    )


@torch.no_grad()
def evaluate(
    model: nn.Module,
    cfg: TrainConfig,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    dtype: torch.dtype = torch.float32,
) -> dict[str, Any]:
    """Test metrics of a trained variant in ``dtype``: per-sample rel-L2 and conservation errors."""
    model = model.to(dtype)
    x, y = x.to(dtype), y.to(dtype)
    out = predict(model, x, cfg)
    rel = RelLpLoss(rule=cfg.rule, lengths=cfg.lengths, reduction="none")(out.double(), y.double())
    laws = laws_of(cfg)
    if not laws:
        return {"rel_l2": float(rel.mean()), "rel_l2_per_sample": rel.tolist(), "prediction": out}
    err = conservation_error(out, x, laws)
    return {
        "rel_l2": float(rel.mean()),
        "rel_l2_per_sample": rel.tolist(),
        "cons_max_abs": err["max_abs"],
        "cons_mean_abs": err["mean_abs"],
        "cons_max_rel": err["max_rel"],
        "cons_mean_rel": err["mean_rel"],
        "cons_per_sample_rel": err["relative"].max(dim=1).values.tolist(),
        "crmse": err["crmse"],
        "prediction": out,
    }


@torch.no_grad()
def rollout(
    model: nn.Module,
    cfg: TrainConfig,
    x0: torch.Tensor,
    ys: torch.Tensor,
    *,
    dtype: torch.dtype = torch.float32,
) -> dict[str, list[float]]:
    """Apply the model to its own output ``k`` times; compare with ``ys`` ``(B, k, C, *spatial)``.

    Returns per step the mean rel-L2 error and the max conservation drift relative to the initial
    input's conserved quantity (``|C u_k - b_0|`` over the §2.5 scale of ``u_k``).
    """
    model = model.to(dtype)
    laws = laws_of(cfg)
    x0 = x0.to(dtype)
    u = x0
    errors: list[float] = []
    drifts: list[float] = []
    for k in range(ys.shape[1]):
        u = predict(model, u, cfg)
        if u.shape[1] != x0.shape[1]:  # models whose input has extra channels cannot roll out
            raise InputError("x0: rollout needs a model whose output is its next input")
        ref = ys[:, k].to(dtype)
        errors.append(
            float(RelLpLoss(rule=cfg.rule, lengths=cfg.lengths)(u.double(), ref.double()))
        )
        drifts.append(conservation_error(u, x0, laws)["max_rel"])
    return {"rel_l2": errors, "drift": drifts}


def save_trained(
    path: str | os.PathLike[str],
    model: nn.Module,
    cfg: TrainConfig,
    *,
    dim: int,
    in_channels: int,
    out_channels: int,
    overwrite: bool = False,
) -> Path:
    """Checkpoint a trained variant (atomic; records package version and the full config)."""
    from sciml_core import save_checkpoint

    from .__about__ import __version__

    config = {
        "train": cfg.to_dict(),
        "dim": dim,
        "in_channels": in_channels,
        "out_channels": out_channels,
    }
    return save_checkpoint(
        path,
        model.state_dict(),
        config=config,
        package="fno-conserve",
        version=__version__,
        overwrite=overwrite,
    )


def load_trained(
    path: str | os.PathLike[str],
    *,
    map_location: str | torch.device = "cpu",
    argument: str = "path",
) -> tuple[nn.Module, TrainConfig]:
    """Rebuild a variant from :func:`save_trained`'s checkpoint (``weights_only=True`` loading).

    Read through :func:`sciml_core.load_checkpoint`: a missing, truncated or foreign file is one
    ``InputError`` naming ``argument`` and the file; a checkpoint written by another major.minor
    version of this package is refused naming both versions.
    """
    from sciml_core import load_checkpoint

    from .__about__ import __version__

    ckpt = load_checkpoint(
        path,
        package="fno-conserve",
        version=__version__,
        map_location=map_location,
        argument=argument,
    )
    conf = ckpt.config
    try:
        cfg = TrainConfig(**conf["train"]).check()
        model = build_model(cfg, conf["dim"], conf["in_channels"], conf["out_channels"])
        model.load_state_dict(ckpt.state_dict)
    except (KeyError, TypeError, RuntimeError, InputError) as err:
        raise InputError(
            f"{argument}: {str(path)!r} is not a model saved by fno-conserve train "
            f"({type(err).__name__}: {err})"
        ) from None
    return model.eval(), cfg
