"""Semantic Feature Fusion (SFF): class-aware, confidence-weighted attention between the
proposals of one image (spec 2.4; the equation from third-party notes, the marked choices ours).

For the ``M`` proposals of an image with box-head features ``h`` (``M x d``)::

    A   = (h W_Q)(h W_K)^T / sqrt(d_a)                                   (M x M)
    V_c = C W_c,   V_r = h W_r                                           (M x d)
    SA  = clamp_T(softmax_row(A)) V_c + softmax_row(S_c o A) V_r,        T = 1 / sqrt(N)
    h'  = h + SA            (residual=True; optional LayerNorm after)

* ``C`` (``M x (K+1)``): ``class_input="label"`` the proposal's one-hot label times its
  confidence (ours, default), or ``"scores"`` the detached class probabilities of the predictor.
* ``S_c[j]``: 1 for GT proposals, the pseudo-label score otherwise; ``(S_c o A)_ij = S_c[j] A_ij``
  (``conf_mode="multiply"``, as written) or ``A_ij + log S_c[j]`` (``"log"``: a score below 1
  then always lowers the weight, where multiplying a negative logit raises it).
* ``clamp_T`` caps every row maximum at ``T`` (``N`` datasets): ``"rescale"`` multiplies row
  ``i`` by ``min(1, T / max_j P_ij)`` (keeps ratios), ``"truncate"`` takes ``min(P_ij, T)``;
  rows are not renormalised.
* ``overlap_mask=True``: attention only between overlapping proposals (IoU > 0; self kept).
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
from torch import nn

from sciml_core import InputError

from ._ppg import Proposals

__all__ = [
    "CLAMP_MODES",
    "CLASS_INPUTS",
    "CONF_MODES",
    "ClampMode",
    "ClassInput",
    "ConfMode",
    "SemanticFeatureFusion",
    "clamp_rows",
]

ClampMode = Literal["rescale", "truncate"]
CLAMP_MODES: tuple[ClampMode, ...] = get_args(ClampMode)
ConfMode = Literal["multiply", "log"]
CONF_MODES: tuple[ConfMode, ...] = get_args(ConfMode)
ClassInput = Literal["label", "scores"]
CLASS_INPUTS: tuple[ClassInput, ...] = get_args(ClassInput)


def clamp_rows(p: torch.Tensor, cap: float, mode: ClampMode) -> torch.Tensor:
    """Cap every row maximum of ``p`` at ``cap`` (``"rescale"`` or ``"truncate"``).

    Examples:
        >>> p = torch.tensor([[0.9, 0.1], [0.5, 0.5]])
        >>> torch.allclose(clamp_rows(p, 0.6, "rescale")[0], torch.tensor([0.6, 0.6 / 9]))
        True
        >>> clamp_rows(p, 0.6, "truncate").tolist()
        [[0.6000000238418579, 0.10000000149011612], [0.5, 0.5]]
    """
    if mode == "truncate":
        return p.clamp(max=cap)
    if mode == "rescale":
        row_max = p.amax(dim=-1, keepdim=True).clamp_min(1e-12)
        return p * (cap / row_max).clamp(max=1.0)
    raise ValueError(f"clamp mode must be one of {CLAMP_MODES}; got {mode!r}")


class SemanticFeatureFusion(nn.Module):
    """Class-aware, confidence-weighted attention between proposals (module docstring).

    Args:
        dim: Feature size ``d`` of the box head.
        num_classes: ``K`` (foreground classes of the concatenated space).
        num_datasets: ``N``; the row cap is ``T = 1 / sqrt(N)``.
        attn_dim: ``d_a`` (default ``d``).
        clamp_mode, conf_mode, class_input, overlap_mask, residual, norm: see the module docstring.

    Examples:
        >>> sff = SemanticFeatureFusion(8, 3, 2)
        >>> boxes, labels = torch.tensor([[0.0, 0, 4, 4], [2, 2, 6, 6]]), torch.tensor([1, 3])
        >>> conf, is_gt = torch.tensor([1.0, 0.7]), torch.tensor([True, False])
        >>> props = Proposals(boxes, labels, conf, is_gt, torch.tensor([0, -1]))
        >>> out, info = sff(torch.randn(2, 8), props)
        >>> out.shape, bool(info["clamped"].amax(dim=1).le(2 ** -0.5 + 1e-7).all())
        (torch.Size([2, 8]), True)
    """

    def __init__(
        self,
        dim: int,
        num_classes: int,
        num_datasets: int,
        *,
        attn_dim: int | None = None,
        clamp_mode: ClampMode = "rescale",
        conf_mode: ConfMode = "multiply",
        class_input: ClassInput = "label",
        overlap_mask: bool = False,
        residual: bool = True,
        norm: bool = False,
    ) -> None:
        super().__init__()
        for name, value, allowed in (
            ("clamp_mode", clamp_mode, CLAMP_MODES),
            ("conf_mode", conf_mode, CONF_MODES),
            ("class_input", class_input, CLASS_INPUTS),
        ):
            if value not in allowed:
                raise InputError(f"{name}: expected one of {list(allowed)}; got {value!r}")
        if num_datasets < 1 or num_classes < 1 or dim < 1:
            raise InputError(
                f"SFF needs dim, num_classes, num_datasets >= 1; got {dim}, {num_classes}, "
                f"{num_datasets}"
            )
        da = attn_dim or dim
        self.dim, self.attn_dim = dim, da
        self.num_classes, self.num_datasets = num_classes, num_datasets
        self.cap = 1.0 / math.sqrt(num_datasets)
        self.clamp_mode: ClampMode = clamp_mode
        self.conf_mode: ConfMode = conf_mode
        self.class_input: ClassInput = class_input
        self.overlap_mask = overlap_mask
        self.residual = residual
        self.w_q = nn.Linear(dim, da, bias=False)
        self.w_k = nn.Linear(dim, da, bias=False)
        self.w_c = nn.Linear(num_classes + 1, dim, bias=False)
        self.w_r = nn.Linear(dim, dim, bias=False)
        self.norm = nn.LayerNorm(dim) if norm else nn.Identity()

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, num_classes={self.num_classes}, num_datasets={self.num_datasets}, "
            f"clamp_mode={self.clamp_mode!r}, conf_mode={self.conf_mode!r}, "
            f"class_input={self.class_input!r}"
        )

    def forward(
        self, h: torch.Tensor, proposals: Proposals, class_probs: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Fuse the proposals' features.

        Args:
            h: Box-head features of one image's proposals.
            proposals: Their labels, confidences and GT flags.
            class_probs: Class probabilities (needed for ``class_input="scores"``).

        Shapes:
            h: ``(M, d)``; class_probs: ``(M, K + 1)``; returns ``h'`` ``(M, d)`` and ``info``
            with ``"softmax"``, ``"clamped"``, ``"weighted"`` attention matrices ``(M, M)``.
        """
        m = h.shape[0]
        if m == 0:
            empty = h.new_zeros((0, 0))
            return h, {"softmax": empty, "clamped": empty, "weighted": empty}
        if self.class_input == "label":
            c = torch.zeros(m, self.num_classes + 1, dtype=h.dtype, device=h.device)
            c[torch.arange(m, device=h.device), proposals.labels.to(h.device)] = proposals.conf.to(
                h
            )
        else:
            if class_probs is None:
                raise ValueError("class_input='scores' needs class_probs")
            c = class_probs.detach().to(h)
        a = self.w_q(h) @ self.w_k(h).T / math.sqrt(self.attn_dim)
        conf = proposals.conf.to(h)
        s = torch.where(proposals.is_gt.to(h.device), torch.ones_like(conf), conf)
        weighted = (
            a * s[None, :]
            if self.conf_mode == "multiply"
            else a + torch.log(s.clamp_min(1e-12))[None, :]
        )
        if self.overlap_mask:
            from torchvision.ops import box_iou

            overlap = box_iou(proposals.boxes, proposals.boxes).to(h.device) > 0
            overlap |= torch.eye(m, dtype=torch.bool, device=h.device)
            a = a.masked_fill(~overlap, float("-inf"))
            weighted = weighted.masked_fill(~overlap, float("-inf"))
        p = torch.softmax(a, dim=1)
        clamped = clamp_rows(p, self.cap, self.clamp_mode)
        q = torch.softmax(weighted, dim=1)
        sa = clamped @ self.w_c(c) + q @ self.w_r(h)
        out = h + sa if self.residual else sa
        return self.norm(out), {"softmax": p, "clamped": clamped, "weighted": q}
