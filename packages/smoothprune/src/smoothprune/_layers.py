r"""Factorised ``Linear`` and ``Conv2d`` layers: two thin layers in place of one dense layer.

With :math:`\mathrm{mat}(W) = U \Sigma V^\top` (:func:`smoothprune._svd.svd`) and the rank-``r``
truncation :math:`W_r = U_r \Sigma_r V_r^\top`:

* :class:`LowRankLinear`: ``Linear(I -> r)`` with weight :math:`A = \Sigma_r^{1/2} V_r^\top`,
  then ``Linear(r -> O)`` with weight :math:`B = U_r \Sigma_r^{1/2}` and the bias, so
  :math:`y = B A x + b = W_r x + b`. Parameters :math:`r(I + O) + O`.
* :class:`LowRankConv2d` (``scheme="channel"``): ``Conv2d(I -> r, k_h x k_w)`` with the dense
  layer's stride, padding, dilation and padding mode and weight :math:`A` reshaped to
  ``r x I x k_h x k_w``, then a ``1 x 1`` ``Conv2d(r -> O)`` with weight :math:`B` and the bias:
  exactly the convolution with :math:`W_r`, since a ``1 x 1`` convolution mixes channels at
  each pixel and commutes with the first. Parameters :math:`r(I k_h k_w + O) + O`.
* :class:`SpatialLowRankConv2d` (``scheme="spatial"``, Jaderberg et al. 2014, Tai et al. 2016):
  :math:`M[(i,p),(o,q)] = W[o,i,p,q]`, an :math:`(I k_h) \times (O k_w)` matrix, factorised as
  a ``k_h x 1`` convolution ``I -> r`` (weight :math:`U_r \Sigma_r^{1/2}`; stride, padding and
  dilation along the height) then a ``1 x k_w`` convolution ``r -> O`` (weight
  :math:`\Sigma_r^{1/2} V_r^\top`; along the width). The first acts on columns one at a time, so
  it commutes with the width padding (zeros, reflect, replicate, circular are all index maps per
  axis). Parameters :math:`r(I k_h + O k_w) + O`.

At full rank each is the dense layer up to rounding (tested to 1e-10 in float64). Factorising
pays only below the break-even rank :math:`r^* = \text{dense} / \text{cost per rank}`, e.g.
:math:`O I k_h k_w / (I k_h k_w + O)`.

``split`` places :math:`\Sigma`: ``"balanced"`` (:math:`\Sigma^{1/2}` on both, default),
``"left"`` (on the second layer), ``"right"`` (on the first).
"""

from __future__ import annotations

import typing
from typing import Literal

import torch
from torch import nn

from sciml_core import InputError

from ._svd import copy_bias, layer_weight, svd

__all__ = [
    "SCHEMES",
    "SPLITS",
    "LowRankConv2d",
    "LowRankLinear",
    "Scheme",
    "SpatialLowRankConv2d",
    "Split",
    "layer_matrix",
]

Scheme = Literal["channel", "spatial"]
SCHEMES: tuple[Scheme, ...] = typing.get_args(Scheme)
Split = Literal["balanced", "left", "right"]
SPLITS: tuple[Split, ...] = typing.get_args(Split)


def _check_rank(rank: int, max_rank: int, name: str = "rank") -> int:
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= max_rank:
        raise InputError(
            f"{name} must be an int in [1, {max_rank}] (the maximum rank); got {rank!r}"
        )
    return rank


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise InputError(f"split must be one of {SPLITS}; got {split!r}")


def _check_conv(conv: nn.Conv2d) -> None:
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be an nn.Conv2d; got {type(conv).__name__}")
    if conv.groups != 1:
        raise InputError(
            "conv: grouped and depthwise convolutions cannot be factorised; "
            f"got groups={conv.groups}"
        )


def _halves(s: torch.Tensor, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Scalings of (left factor U, right factor Vh) by the singular values."""
    if split == "balanced":
        return s.sqrt(), s.sqrt()
    if split == "left":
        return s, torch.ones_like(s)
    return torch.ones_like(s), s


def layer_matrix(layer: nn.Module, scheme: Scheme = "channel") -> torch.Tensor:
    """The matrix a layer's factorisation is an SVD of (``mat(W)``, or ``M`` for ``"spatial"``)."""
    w = layer_weight(layer).detach()
    if scheme == "spatial" and w.ndim == 4:
        o, i, kh, kw = w.shape
        return w.permute(1, 2, 0, 3).reshape(i * kh, o * kw)
    return w.reshape(w.shape[0], -1)


class LowRankLinear(nn.Module):
    r"""``Linear(I -> r)`` then ``Linear(r -> O)``: the rank-``r`` layer :math:`y = B A x + b`.

    Args:
        in_features: ``I``.
        out_features: ``O``.
        rank: ``r``, in ``[1, min(I, O)]``.
        bias: Whether the second layer has a bias.

    Shapes:
        - input: ``(*, I)``
        - output: ``(*, O)``

    Examples:
        >>> dense = nn.Linear(6, 4).double()
        >>> low = LowRankLinear.from_dense(dense, rank=4)
        >>> x = torch.randn(3, 6, dtype=torch.float64)
        >>> bool(torch.allclose(low(x), dense(x), atol=1e-12))
        True
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rank: int,
        *,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.rank = _check_rank(rank, min(in_features, out_features))
        self.first = nn.Linear(in_features, rank, bias=False, device=device, dtype=dtype)
        self.second = nn.Linear(rank, out_features, bias=bias, device=device, dtype=dtype)

    @classmethod
    def from_dense(cls, linear: nn.Linear, rank: int, split: Split = "balanced") -> LowRankLinear:
        """The rank-``rank`` truncation of ``linear`` (its device and dtype)."""
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"linear must be an nn.Linear; got {type(linear).__name__}")
        _check_split(split)
        w = linear.weight
        out = cls(
            linear.in_features,
            linear.out_features,
            rank,
            bias=linear.bias is not None,
            device=w.device,
            dtype=w.dtype,
        )
        u, s, vh = svd(w.detach())
        left, right = _halves(s[:rank], split)
        with torch.no_grad():
            out.first.weight.copy_(right[:, None] * vh[:rank])
            out.second.weight.copy_(u[:, :rank] * left)
            if linear.bias is not None:
                out.second.bias.copy_(linear.bias)
        return out

    def to_dense(self) -> nn.Linear:
        """The equivalent ``nn.Linear`` (weight ``B A``)."""
        first, second = self.first.weight, self.second.weight
        dense = nn.Linear(
            first.shape[1],
            second.shape[0],
            bias=self.second.bias is not None,
            device=first.device,
            dtype=first.dtype,
        )
        with torch.no_grad():
            dense.weight.copy_(second @ first)
            copy_bias(dense, self.second.bias)
        return dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the two layers.

        Shapes:
            - x: ``(*, I)``
            - returns: ``(*, O)``
        """
        return self.second(self.first(x))

    def extra_repr(self) -> str:
        return f"rank={self.rank}"


def _conv_kwargs(conv: nn.Conv2d) -> dict[str, typing.Any]:
    return {
        "stride": conv.stride,
        "padding": conv.padding,
        "dilation": conv.dilation,
        "padding_mode": conv.padding_mode,
        "device": conv.weight.device,
        "dtype": conv.weight.dtype,
    }


class LowRankConv2d(nn.Module):
    r"""``Conv2d(I -> r, k_h x k_w)`` then ``Conv2d(r -> O, 1 x 1)`` (``scheme="channel"``).

    Built with :meth:`from_dense` (the truncated SVD of a dense layer) or :meth:`like` (an empty
    shell of the same shape, to load a saved state dict into).

    Shapes:
        - input: ``(N, I, H, W)``
        - output: ``(N, O, H', W')``, as the dense layer's.

    Examples:
        >>> dense = nn.Conv2d(3, 5, 3, padding=1).double()
        >>> low = LowRankConv2d.from_dense(dense, rank=5)
        >>> x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
        >>> bool(torch.allclose(low(x), dense(x), atol=1e-12))
        True
    """

    def __init__(self, first: nn.Conv2d, second: nn.Conv2d) -> None:
        super().__init__()
        self.rank = first.out_channels
        self.first = first
        self.second = second

    @classmethod
    def like(cls, conv: nn.Conv2d, rank: int) -> LowRankConv2d:
        """An uninitialised rank-``rank`` shell with ``conv``'s shape and options."""
        _check_conv(conv)
        o, i, kh, kw = conv.weight.shape
        _check_rank(rank, min(o, i * kh * kw))
        kwargs = _conv_kwargs(conv)
        first = nn.Conv2d(i, rank, (kh, kw), bias=False, **kwargs)
        second = nn.Conv2d(
            rank, o, 1, bias=conv.bias is not None, device=kwargs["device"], dtype=kwargs["dtype"]
        )
        return cls(first, second)

    @classmethod
    def from_dense(cls, conv: nn.Conv2d, rank: int, split: Split = "balanced") -> LowRankConv2d:
        """The rank-``rank`` truncation of ``conv`` (its device and dtype)."""
        _check_split(split)
        out = cls.like(conv, rank)
        o, i, kh, kw = conv.weight.shape
        u, s, vh = svd(layer_matrix(conv))
        left, right = _halves(s[:rank], split)
        with torch.no_grad():
            out.first.weight.copy_((right[:, None] * vh[:rank]).reshape(rank, i, kh, kw))
            out.second.weight.copy_((u[:, :rank] * left).reshape(o, rank, 1, 1))
            copy_bias(out.second, conv.bias)
        return out

    def to_dense(self) -> nn.Conv2d:
        """The equivalent ``nn.Conv2d`` (weight ``B A`` reshaped)."""
        a, b = self.first.weight, self.second.weight
        r, i, kh, kw = a.shape
        dense = nn.Conv2d(
            i, b.shape[0], (kh, kw), bias=self.second.bias is not None, **_conv_kwargs(self.first)
        )
        with torch.no_grad():
            dense.weight.copy_((b.reshape(-1, r) @ a.reshape(r, -1)).reshape(-1, i, kh, kw))
            copy_bias(dense, self.second.bias)
        return dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the two convolutions.

        Shapes:
            - x: ``(N, I, H, W)``
            - returns: ``(N, O, H', W')``
        """
        return self.second(self.first(x))

    def extra_repr(self) -> str:
        return f"rank={self.rank}, scheme='channel'"


def _split_padding(conv: nn.Conv2d) -> tuple[typing.Any, typing.Any]:
    if isinstance(conv.padding, str):  # "same" / "valid" apply per axis alike
        return conv.padding, conv.padding
    ph, pw = conv.padding
    return (ph, 0), (0, pw)


class SpatialLowRankConv2d(nn.Module):
    r"""A ``k_h x 1`` convolution ``I -> r``, then a ``1 x k_w`` one ``r -> O`` (``"spatial"``).

    Shapes:
        - input: ``(N, I, H, W)``
        - output: ``(N, O, H', W')``, as the dense layer's.

    Examples:
        >>> dense = nn.Conv2d(2, 4, (3, 2), padding=1, padding_mode="circular").double()
        >>> low = SpatialLowRankConv2d.from_dense(dense, rank=6)   # full rank min(2*3, 4*2)
        >>> x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
        >>> bool(torch.allclose(low(x), dense(x), atol=1e-12))
        True
    """

    def __init__(self, first: nn.Conv2d, second: nn.Conv2d) -> None:
        super().__init__()
        self.rank = first.out_channels
        self.first = first
        self.second = second

    @classmethod
    def like(cls, conv: nn.Conv2d, rank: int) -> SpatialLowRankConv2d:
        """An uninitialised rank-``rank`` shell with ``conv``'s shape and options."""
        _check_conv(conv)
        o, i, kh, kw = conv.weight.shape
        _check_rank(rank, min(i * kh, o * kw))
        pad_h, pad_w = _split_padding(conv)
        common: dict[str, typing.Any] = {
            "padding_mode": conv.padding_mode,
            "device": conv.weight.device,
            "dtype": conv.weight.dtype,
        }
        first = nn.Conv2d(
            i,
            rank,
            (kh, 1),
            stride=(conv.stride[0], 1),
            padding=pad_h,
            dilation=(conv.dilation[0], 1),
            bias=False,
            **common,
        )
        second = nn.Conv2d(
            rank,
            o,
            (1, kw),
            stride=(1, conv.stride[1]),
            padding=pad_w,
            dilation=(1, conv.dilation[1]),
            bias=conv.bias is not None,
            **common,
        )
        return cls(first, second)

    @classmethod
    def from_dense(
        cls, conv: nn.Conv2d, rank: int, split: Split = "balanced"
    ) -> SpatialLowRankConv2d:
        """The rank-``rank`` truncation of ``M`` (module docstring) as two 1-d convolutions."""
        _check_split(split)
        out = cls.like(conv, rank)
        o, i, kh, kw = conv.weight.shape
        u, s, vh = svd(layer_matrix(conv, "spatial"))
        left, right = _halves(s[:rank], split)
        with torch.no_grad():
            # first[r, i, p, 0] = (U S^1/2)[(i, p), r]
            out.first.weight.copy_((u[:, :rank] * left).T.reshape(rank, i, kh, 1))
            # second[o, r, 0, q] = (S^1/2 Vh)[r, (o, q)]
            b = (right[:, None] * vh[:rank]).reshape(rank, o, kw).permute(1, 0, 2)
            out.second.weight.copy_(b.reshape(o, rank, 1, kw))
            copy_bias(out.second, conv.bias)
        return out

    def to_dense_weight(self) -> torch.Tensor:
        """The dense weight ``O x I x k_h x k_w`` the two convolutions apply."""
        a = self.first.weight[..., 0]  # r, I, kh
        b = self.second.weight[:, :, 0, :]  # O, r, kw
        return torch.einsum("rip,orq->oipq", a, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the two convolutions.

        Shapes:
            - x: ``(N, I, H, W)``
            - returns: ``(N, O, H', W')``
        """
        return self.second(self.first(x))

    def extra_repr(self) -> str:
        return f"rank={self.rank}, scheme='spatial'"
