"""Masked unitary Fourier transform (MRI), real images to complex k-space."""

from __future__ import annotations

from typing import Literal

import torch

from sciml_core import InputError

from ._operator import LinearOperator, Shape, check_tensor


class MaskedFourier(LinearOperator):
    r"""Undersampled unitary DFT :math:`y = m \odot \mathcal{F} x` for real images.

    :math:`\mathcal{F}` is the orthonormal 2-D DFT (``norm="ortho"``). The range is complex and
    the adjoint is taken for the real inner product :math:`\mathrm{Re}\langle\cdot,\cdot\rangle`:
    :math:`A^* y = \mathrm{Re}\,\mathcal{F}^{-1}(m \odot y)`, so ``A* A`` is real-symmetric and
    :math:`\|A\| \le \max|m|`.

    Args:
        mask: real ``(H, W)`` sampling weights (0/1), in unshifted FFT order.
        norm: ``"ortho"`` (the only normalisation in v0.1).
        real_input: ``True`` (real images; v0.1).

    Shapes:
        x: ``(..., H, W)`` real -> ``(..., H, W)`` complex.

    Examples:
        >>> import torch
        >>> A = MaskedFourier(torch.ones(4, 4))
        >>> x = torch.randn(1, 4, 4, dtype=torch.float64)
        >>> bool(torch.allclose(A.adjoint(A(x)), x))
        True
    """

    complex_range = True
    mask: torch.Tensor  # (H, W), a non-persistent buffer

    def __init__(
        self, mask: torch.Tensor, norm: Literal["ortho"] = "ortho", real_input: bool = True
    ) -> None:
        if isinstance(mask, torch.Tensor) and mask.dtype == torch.bool:
            mask = mask.to(torch.float64)
        check_tensor(mask, "mask")
        if mask.ndim != 2:
            raise InputError(f"mask: expected shape (H, W), got {tuple(mask.shape)}")
        if norm != "ortho":
            raise InputError(f"norm: expected 'ortho', got {norm!r}")
        if not real_input:
            raise InputError("real_input: only real images are supported in v0.1")
        super().__init__(tuple(mask.shape), tuple(mask.shape))
        self.register_buffer("mask", mask.detach().clone(), persistent=False)
        self._cache: dict[tuple[object, ...], torch.Tensor] = {}

    def _m(self, ref: torch.Tensor) -> torch.Tensor:
        dtype = ref.real.dtype if ref.is_complex() else ref.dtype
        key = (ref.device, dtype)
        if key not in self._cache:
            self._cache[key] = self.mask.to(ref.device, dtype)
        return self._cache[key]

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        return self._m(x) * torch.fft.fft2(x, norm="ortho")

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        return torch.fft.ifft2(self._m(y) * y, norm="ortho").real

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        r""":math:`A^* y = \mathrm{Re}\,\mathcal F^{-1}(m \odot y)`.

        Shapes:
            y: ``(..., H, W)`` complex -> ``(..., H, W)`` real.
        """
        check_tensor(y, "y", allow_complex=True)
        return super().adjoint(y)

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        return float(self.mask.abs().max())
