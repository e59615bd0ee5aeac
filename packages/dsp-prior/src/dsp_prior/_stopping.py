r"""Stopping rules of the DIP loop, and ES-WMV's running-variance monitor.

* :class:`FixedBudget` ``(n)``: stop after ``n`` iterations, the only rule under which the
  "no early stopping" claim is tested (the final iterate is the headline number).
* :class:`ValidatedStop` ``(n)``: a budget chosen on a validation image (the argmax of its PSNR
  curve) and applied unchanged to test images: the honest competitor of "no early stopping".
* :class:`RunningVariance` ``(window, patience)``: ES-WMV (Wang et al., "Early Stopping for Deep
  Image Prior", arXiv:2112.06074; code ``sun-umn/Early_Stopping_for_DIP``, defaults buffer 100,
  patience 1000), no reference image needed. With iterates :math:`x_t` and the window mean
  :math:`\bar x_t = \tfrac1W \sum_{j=0}^{W-1} x_{t-j}`,

  .. math:: \mathrm{VAR}_t = \frac1W \sum_{j=0}^{W-1} \frac1N \|x_{t-j} - \bar x_t\|^2

  (:math:`N` pixels); the rule keeps the iterate of the smallest :math:`\mathrm{VAR}_t` seen
  and stops once it has not decreased for ``patience`` consecutive iterations.
* :class:`Oracle`: the best PSNR against the truth, for evaluation only (needs ``oracle=True``
  in :func:`dsp_prior.fit`); every number it yields carries ``oracle`` in its name.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sciml_core import InputError


def _count(value: object, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True)
class FixedBudget:
    """Stop after ``iterations`` iterations (the final iterate is reported)."""

    iterations: int

    def __post_init__(self) -> None:
        _count(self.iterations, "iterations")


@dataclass(frozen=True)
class ValidatedStop:
    """Stop at ``iteration``, chosen on a validation image and applied unchanged elsewhere."""

    iteration: int

    def __post_init__(self) -> None:
        _count(self.iteration, "iteration")


@dataclass(frozen=True)
class RunningVariance:
    """ES-WMV: stop when the windowed variance of the iterates has not decreased for ``patience``.

    Attributes:
        window: iterates in the running window (ES-WMV's ``buffer_size``, 100).
        patience: iterations without a new minimum before stopping (ES-WMV's 1000).
        halt: end the loop when the rule fires (``False``: record the stop and go on, so one run
            gives both the ES-WMV estimate and the final iterate).
    """

    window: int = 100
    patience: int = 1000
    halt: bool = True

    def __post_init__(self) -> None:
        _count(self.window, "window", minimum=2)
        _count(self.patience, "patience")

    def monitor(self) -> VarianceMonitor:
        """A fresh :class:`VarianceMonitor` for one run."""
        return VarianceMonitor(self.window, self.patience)


@dataclass(frozen=True)
class Oracle:
    """Best PSNR against the truth over the logged iterates (evaluation only, ``oracle=True``)."""


StopRule = FixedBudget | ValidatedStop | RunningVariance | Oracle


class VarianceMonitor:
    r"""Running :math:`\mathrm{VAR}_t` of ES-WMV over the last ``window`` iterates.

    Keeps the window's iterates (``window x C x H x W`` values, on their device) and running
    sums :math:`\sum x`, :math:`\sum x^2` in float64, so each update costs :math:`O(N)`.

    Examples:
        >>> import torch
        >>> mon = RunningVariance(window=3, patience=2).monitor()
        >>> for t in range(1, 8):
        ...     _ = mon.update(torch.full((1, 1, 2, 2), float(min(t, 4))), t)
        >>> mon.best_iteration, mon.stopped
        (6, False)
    """

    def __init__(self, window: int, patience: int) -> None:
        self.window = _count(window, "window", minimum=2)
        self.patience = _count(patience, "patience")
        self.buffer: list[torch.Tensor] = []
        self._s1: torch.Tensor | None = None
        self._s2: torch.Tensor | None = None
        self.best_value = float("inf")
        self.best_iteration: int | None = None
        self.best_iterate: torch.Tensor | None = None
        self.wait = 0
        self.stopped = False
        self.stop_iteration: int | None = None
        self.value: float | None = None

    def update(self, x: torch.Tensor, iteration: int) -> bool:
        """Add iterate ``x`` (iteration ``iteration``); return whether the rule has fired."""
        x = x.detach()
        x64 = x.to(torch.float64)
        if self._s1 is None or self._s2 is None:
            self._s1, self._s2 = torch.zeros_like(x64), torch.zeros_like(x64)
        self.buffer.append(x.clone())
        self._s1 += x64
        self._s2 += x64 * x64
        if len(self.buffer) > self.window:
            old = self.buffer.pop(0).to(torch.float64)
            self._s1 -= old
            self._s2 -= old * old
        if len(self.buffer) < self.window:
            self.value = None
            return self.stopped
        mean = self._s1 / self.window
        self.value = float((self._s2 / self.window - mean * mean).clamp_min(0).mean())
        if self.stopped:
            return True
        if self.value < self.best_value:
            self.best_value, self.best_iteration = self.value, iteration
            self.best_iterate = x.clone()
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped, self.stop_iteration = True, iteration
        return self.stopped
