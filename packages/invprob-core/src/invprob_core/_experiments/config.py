"""Every size, budget and seed offset of ``invprob-core reproduce``: one frozen dataclass per mode.

The fields above ``validation`` differ between the modes and are listed, in this order, in the
``budgets`` table of ``result.json``; the fields from ``validation`` on are the same in both modes.
Seeds: every study draws from ``root_seed(seed) + offset`` with the offsets of :class:`SeedOffsets`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

_SAME_IN_BOTH_MODES = {"budget_table": False}


@dataclass(frozen=True)
class SeedOffsets:
    """Offsets added to ``root_seed(seed)``; ``k`` is the index of the noise level, ``j`` the draw.

    Attributes:
        ct_train: CT training phantoms, the MSE-trained denoiser's batches, the critics' weight
            initialisation (``torch.manual_seed``) and their training batches.
        ct_validation: the 4 validation phantoms.
        ct_test: the test phantoms.
        ct_train_noise: noise on the training sinograms of level ``k``: ``+ level_stride * k``.
        ct_validation_noise: noise on the validation sinograms: ``+ level_stride * k``.
        ct_test_noise: noise on the test sinograms: ``+ level_stride * k``.
        level_stride: distance between the noise seeds of consecutive levels.
        convergence_train: phantoms the convergence plot's Wiener denoiser is fitted on.
        convergence_truth: the convergence plot's one phantom.
        convergence_ct_noise: noise draw ``j`` of the CT sweep: ``+ j``.
        convergence_blur_noise: noise draw ``j`` of the deblurring sweep: ``+ j``.
        deblur_noise: noise of the deblurring example.
        deblur_train: phantoms the deblurring example's Wiener denoiser is fitted on.
        shipped_validation: validation phantoms of the shipped-critic study.
        shipped_test: its test phantoms.
        shipped_validation_noise: noise on its validation sinograms: ``+ level_stride * k``.
        shipped_test_noise: noise on its test sinograms: ``+ level_stride * k``.
    """

    ct_train: int = 0
    ct_validation: int = 1
    ct_test: int = 2
    ct_train_noise: int = 3
    ct_validation_noise: int = 4
    ct_test_noise: int = 5
    level_stride: int = 10
    convergence_train: int = 10
    convergence_truth: int = 11
    convergence_ct_noise: int = 110
    convergence_blur_noise: int = 210
    deblur_noise: int = 20
    deblur_train: int = 21
    shipped_validation: int = 40
    shipped_test: int = 41
    shipped_validation_noise: int = 42
    shipped_test_noise: int = 43


@dataclass(frozen=True)
class ShippedAR:
    """The AR study with the critic shipped in the package (:mod:`.ar_shipped`).

    Its image size, angles and noise levels are the critic's (read from its checkpoint: 64x64,
    60 angles, 3 % / 5 %); these are the evaluation budgets.

    Attributes:
        test: test phantoms.
        recon_steps: gradient-descent budget of AR and its controls (each stopping index and
            lambda factor is chosen on the validation phantoms within it; the full run's
            validated AR stops at 3 % / 5 % were 23 / 9 steps, the gradient-normalised
            control's 44 / 24).
        gd_steps: budget of gradient descent on the data term, whose validated stop comes later
            (full run: 49 / 27 steps).
        tv_iters: PDHG iterations of TV.
    """

    test: int
    recon_steps: int
    gd_steps: int
    tv_iters: int

    def __str__(self) -> str:
        """The budgets as one ``budgets`` table cell.

        Examples:
            >>> str(ShippedAR(test=8, recon_steps=50, gd_steps=100, tv_iters=200))
            'shipped critic; test=8, recon_steps=50, gd_steps=100, tv_iters=200'
        """
        fields = ", ".join(f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self))
        return f"shipped critic; {fields}"


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one ``reproduce`` mode (``QUICK`` or ``FULL``).

    Attributes:
        n: CT image side (pixels).
        angles: CT projection angles in ``[0, pi)``.
        etas: relative Gaussian noise levels of the CT table; the critics are trained on their
            pooled FBP artefacts (training image ``i`` carries level ``etas[i % len(etas)]``).
        train: CT training phantoms (denoisers and critics).
        test: CT test phantoms.
        critic_steps: training steps of each critic trained in the run (AR and ACR; only ACR
            where ``shipped_ar`` is set).
        recon_steps: gradient-descent budget of AR, ACR and their controls (the stopping index
            is chosen on validation phantoms within it).
        tv_iters: PDHG iterations of TV (CT table and deblurring example).
        mse_steps: gradient steps of the MSE-trained circulant denoiser.
        mse_images: training phantoms the MSE-trained denoiser is fitted on (the first ones).
        mse_batch: its minibatch size (None: all ``mse_images`` every step).
        conv_n: image side of the convergent-regularisation plot.
        deblur_n: image side of the deblurring example.
        shipped_ar: where set (``--quick``), the CT table trains only ACR and the AR claims are
            measured with the shipped critic at its own size (:class:`ShippedAR`); None (full):
            the CT table trains AR itself.
        validation: validation phantoms every CT parameter is chosen on.
        critic_batch: critic training batch size.
        denoiser_sigma: noise level the linear denoisers are fitted at.
        conv_angles: angles of the convergent-regularisation plot's CT operator.
        conv_train: phantoms its Wiener denoiser is fitted on.
        conv_draws: noise draws per noise level of the convergence plot.
        deblur_train: phantoms the deblurring example's Wiener denoiser is fitted on.
        seeds: seed offsets of every random draw.
    """

    n: int
    angles: int
    etas: tuple[float, ...]
    train: int
    test: int
    critic_steps: int
    recon_steps: int
    tv_iters: int
    mse_steps: int
    mse_images: int
    mse_batch: int | None
    conv_n: int
    deblur_n: int
    shipped_ar: ShippedAR | None
    validation: int = field(default=4, metadata=_SAME_IN_BOTH_MODES)
    critic_batch: int = field(default=16, metadata=_SAME_IN_BOTH_MODES)
    denoiser_sigma: float = field(default=0.05, metadata=_SAME_IN_BOTH_MODES)
    conv_angles: int = field(default=30, metadata=_SAME_IN_BOTH_MODES)
    conv_train: int = field(default=200, metadata=_SAME_IN_BOTH_MODES)
    conv_draws: int = field(default=5, metadata=_SAME_IN_BOTH_MODES)
    deblur_train: int = field(default=64, metadata=_SAME_IN_BOTH_MODES)
    seeds: SeedOffsets = field(default_factory=SeedOffsets, metadata=_SAME_IN_BOTH_MODES)

    def budget_rows(self) -> list[list[Any]]:
        """Rows ``[setting, value]`` of the ``budgets`` table: the fields that differ by mode.

        Examples:
            >>> QUICK.budget_rows()[:3]
            [['n', 32], ['angles', 30], ['etas', '0.03, 0.05']]
        """
        rows: list[list[Any]] = []
        for f in dataclasses.fields(self):
            if not f.metadata.get("budget_table", True):
                continue
            v = getattr(self, f.name)
            if isinstance(v, ShippedAR):
                rows.append([f.name, str(v)])
            elif f.name == "shipped_ar":
                rows.append([f.name, "none: AR trained in the run"])
            elif v is None:
                rows.append([f.name, "all"])
            elif isinstance(v, tuple):
                rows.append([f.name, ", ".join(map(str, v))])
            else:
                rows.append([f.name, v])
        return rows


QUICK = Config(
    n=32,
    angles=30,
    etas=(0.03, 0.05),
    train=512,
    test=8,
    critic_steps=150,
    recon_steps=60,
    tv_iters=200,
    mse_steps=150,
    mse_images=64,
    mse_batch=None,
    conv_n=32,
    deblur_n=64,
    shipped_ar=ShippedAR(test=8, recon_steps=50, gd_steps=100, tv_iters=200),
)
"""``--quick``: 32x32 CT, 2 noise levels, ACR trained 150 steps; AR with the shipped critic at
64x64."""

FULL = Config(
    n=64,
    angles=60,
    etas=(0.01, 0.03, 0.05),
    train=2000,
    test=32,
    critic_steps=2000,
    recon_steps=100,
    tv_iters=500,
    mse_steps=500,
    mse_images=2000,
    mse_batch=64,
    conv_n=64,
    deblur_n=128,
    shipped_ar=None,
)
"""The full laptop-scale run: 64x64 CT, 3 noise levels, 2000 critic steps (about an hour)."""


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or the full run (False).

    Examples:
        >>> config_for(True) is QUICK, config_for(False).n
        (True, 64)
    """
    return QUICK if quick else FULL
