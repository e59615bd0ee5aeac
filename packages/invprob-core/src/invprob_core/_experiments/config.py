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
        critic_steps: training steps of each critic (AR and ACR).
        recon_steps: gradient-descent budget of AR, ACR and their controls (the stopping index
            is chosen on validation phantoms within it).
        tv_iters: PDHG iterations of TV (CT table and deblurring example).
        mse_steps: gradient steps of the MSE-trained circulant denoiser.
        mse_images: training phantoms the MSE-trained denoiser is fitted on (the first ones).
        mse_batch: its minibatch size (None: all ``mse_images`` every step).
        conv_n: image side of the convergent-regularisation plot.
        deblur_n: image side of the deblurring example.
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
            if v is None:
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
)
"""``--quick``: 32x32 CT, 2 noise levels, 150 critic steps (about 75 s on one thread)."""

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
)
"""The full laptop-scale run: 64x64 CT, 3 noise levels, 2000 critic steps (about an hour)."""


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or the full run (False).

    Examples:
        >>> config_for(True) is QUICK, config_for(False).n
        (True, 64)
    """
    return QUICK if quick else FULL
