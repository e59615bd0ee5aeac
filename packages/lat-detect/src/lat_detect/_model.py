"""The transfer detector: frozen backbone, PPG proposals, RoIAlign, box head, SFF, predictor
over the concatenated label space (spec 2.2 step 3, 2.3, 2.5).

Unlike torchvision's ``RoIHeads``, nothing is sampled and no GT box is re-added: every PPG
proposal is trained. A proposal is foreground when its IoU (``match="iou"``) or its intersection
over the GT box's area (``"ioa"``) with a GT box of its own dataset is at least ``fg_iou``
(default 0.3: a box padded 20 % per side has IoU 0.51 with the tight one, and jitter pushes
correct loose boxes below 0.5); it then takes that box's label and regresses to it, learning the
dataset's box style. GT proposals are always foreground, matched to their own box.

Losses (spec 2.5): cross-entropy over all proposals with the logits outside the dataset's mask
set to ``-inf`` (``train_mask="dataset"``), plus smooth-L1 (beta 1/9, as torchvision's
``fastrcnn_loss``) on the foreground proposals' class-specific deltas, both divided by the
number of proposals; box coding weights ``(10, 10, 5, 5)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from sciml_core import InputError

from ._backbones import FeatureBackbone
from ._detector import IMAGE_MEAN, IMAGE_STD
from ._ppg import Proposals
from ._sff import ClampMode, ClassInput, ConfMode, SemanticFeatureFusion

__all__ = ["MATCHES", "LATModel", "LATOutput", "Match", "box_coder"]

Match = Literal["iou", "ioa"]
MATCHES: tuple[Match, ...] = get_args(Match)


def box_coder() -> object:
    """torchvision's (private) ``BoxCoder`` with the Fast R-CNN weights ``(10, 10, 5, 5)``."""
    from torchvision.models.detection._utils import BoxCoder

    return BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))


@dataclass(frozen=True)
class LATOutput:
    """Per-image output of :meth:`LATModel.forward`.

    Attributes:
        logits: ``(M, K + 1)`` masked class logits (``-inf`` outside the mask).
        boxes: ``(M, K + 1, 4)`` decoded boxes per class, in the input image's pixels.
    """

    logits: torch.Tensor
    boxes: torch.Tensor


class LATModel(nn.Module):
    """The transfer detector of the module docstring.

    Args:
        backbone: Feature extractor (stride ``backbone.stride``); frozen by default.
        num_classes: ``K`` of the concatenated space.
        num_datasets: ``N`` (SFF's row cap ``1 / sqrt(N)``).
        sff: Use Semantic Feature Fusion (False: the ablation).
        freeze_backbone: Keep the backbone's weights and BatchNorm statistics fixed.
        fg_iou: Foreground threshold in ``(0, 1)``.
        match: ``"iou"`` or ``"ioa"``.
        roi_size: RoIAlign output size.
        head_dim: Box-head width.
        clamp_mode, conf_mode, class_input, overlap_mask: SFF options.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        backbone: FeatureBackbone,
        *,
        num_classes: int,
        num_datasets: int,
        sff: bool = True,
        freeze_backbone: bool = True,
        fg_iou: float = 0.3,
        match: Match = "iou",
        roi_size: int = 7,
        head_dim: int = 256,
        clamp_mode: ClampMode = "rescale",
        conf_mode: ConfMode = "multiply",
        class_input: ClassInput = "label",
        overlap_mask: bool = False,
    ) -> None:
        super().__init__()
        from torchvision.models.detection.faster_rcnn import TwoMLPHead

        if not 0.0 < fg_iou < 1.0:
            raise InputError(f"fg_iou: expected a number in (0, 1); got {fg_iou}")
        if match not in MATCHES:
            raise InputError(f"match: expected one of {list(MATCHES)}; got {match!r}")
        self.backbone = backbone
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            for p in backbone.parameters():
                p.requires_grad_(False)
        self.num_classes = num_classes
        self.fg_iou = float(fg_iou)
        self.match: Match = match
        self.roi_size = roi_size
        self.head = TwoMLPHead(backbone.out_channels * roi_size * roi_size, head_dim)
        self.sff = (
            SemanticFeatureFusion(
                head_dim,
                num_classes,
                num_datasets,
                clamp_mode=clamp_mode,
                conf_mode=conf_mode,
                class_input=class_input,
                overlap_mask=overlap_mask,
            )
            if sff
            else None
        )
        self.cls_score = nn.Linear(head_dim, num_classes + 1)
        self.bbox_pred = nn.Linear(head_dim, (num_classes + 1) * 4)
        self.register_buffer("mean", torch.tensor(IMAGE_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGE_STD).view(3, 1, 1), persistent=False)
        self._coder = box_coder()

    def train(self, mode: bool = True) -> LATModel:
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        return self

    def _features(self, images: list[torch.Tensor]) -> torch.Tensor:
        h = max(int(i.shape[1]) for i in images)
        w = max(int(i.shape[2]) for i in images)
        batch = images[0].new_zeros((len(images), 3, h, w))
        for k, img in enumerate(images):
            batch[k, :, : img.shape[1], : img.shape[2]] = (img - self.mean) / self.std
        if self.freeze_backbone:
            with torch.no_grad():
                return self.backbone(batch)
        return self.backbone(batch)

    def targets(
        self, proposals: Proposals, gt_boxes: torch.Tensor, gt_labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fast R-CNN targets: ``(labels (M,), matched GT box (M, 4))``; label 0 = background."""
        from torchvision.ops import box_area, box_iou

        m = len(proposals)
        labels = torch.zeros(m, dtype=torch.long)
        matched = proposals.boxes.clone()
        if gt_boxes.shape[0] == 0 or m == 0:
            return labels, matched
        if self.match == "iou":
            q = box_iou(proposals.boxes, gt_boxes)
        else:
            lt = torch.maximum(proposals.boxes[:, None, :2], gt_boxes[None, :, :2])
            rb = torch.minimum(proposals.boxes[:, None, 2:], gt_boxes[None, :, 2:])
            inter = (rb - lt).clamp(min=0).prod(dim=2)
            q = inter / box_area(gt_boxes)[None, :]
        best, idx = q.max(dim=1)
        idx = torch.where(proposals.is_gt, proposals.gt_index.clamp(min=0), idx)
        fg = (best >= self.fg_iou) | proposals.is_gt
        labels[fg] = gt_labels[idx[fg]].long()
        matched[fg] = gt_boxes[idx[fg]].float()
        return labels, matched

    def forward(
        self,
        images: list[torch.Tensor],
        proposals: list[Proposals],
        masks: torch.Tensor,
        targets: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> dict[str, torch.Tensor] | list[LATOutput]:
        """Losses (with ``targets``) or per-image outputs.

        Args:
            images: ``B`` images ``(3, H_b, W_b)`` in ``[0, 1]``.
            proposals: One :class:`Proposals` per image (from the PPG).
            masks: ``(B, K + 1)`` bool: the ids allowed for each image (its dataset's ids in
                training, the target's at transfer; background always).
            targets: ``(boxes (N_b, 4), internal labels (N_b,))`` per image: train mode.

        Shapes:
            returns ``{"loss_classifier", "loss_box_reg"}`` (scalars) or ``B`` outputs with
            ``logits (M_b, K + 1)`` and ``boxes (M_b, K + 1, 4)``.
        """
        from torchvision.ops import roi_align

        feats = self._features(images)
        device = feats.device
        rois = [p.boxes.to(device).float() for p in proposals]
        pooled = roi_align(
            feats,
            rois,
            output_size=self.roi_size,
            spatial_scale=1.0 / self.backbone.stride,
            sampling_ratio=2,
        )
        h_all = self.head(pooled)
        logits_all, deltas_all = [], []
        start = 0
        for b, p in enumerate(proposals):
            h = h_all[start : start + len(p)]
            start += len(p)
            if self.sff is not None:
                probs = None
                if self.sff.class_input == "scores":
                    probs = torch.softmax(
                        self.cls_score(h).masked_fill(~masks[b].to(device), float("-inf")), dim=1
                    )
                h, _ = self.sff(h, p, probs)
            logits_all.append(
                self.cls_score(h).masked_fill(~masks[b].to(device)[None, :], float("-inf"))
            )
            deltas_all.append(self.bbox_pred(h))
        if targets is not None:
            return self._losses(proposals, logits_all, deltas_all, targets)
        out = []
        for p, logits, deltas in zip(proposals, logits_all, deltas_all, strict=True):
            m = len(p)
            if m == 0:
                out.append(LATOutput(logits, deltas.new_zeros((0, self.num_classes + 1, 4))))
                continue
            boxes = self._coder.decode_single(deltas.reshape(m, -1), rois_of(p, device))  # type: ignore[attr-defined]
            out.append(LATOutput(logits, boxes.reshape(m, self.num_classes + 1, 4)))
        return out

    def _losses(
        self,
        proposals: list[Proposals],
        logits_all: list[torch.Tensor],
        deltas_all: list[torch.Tensor],
        targets: list[tuple[torch.Tensor, torch.Tensor]],
    ) -> dict[str, torch.Tensor]:
        device = logits_all[0].device if logits_all else torch.device("cpu")
        labels, regs, logits, deltas = [], [], [], []
        for p, lg, dl, (gb, gl) in zip(proposals, logits_all, deltas_all, targets, strict=True):
            lab, matched = self.targets(p, gb.float().cpu(), gl.cpu())
            labels.append(lab)
            regs.append(self._coder.encode_single(matched, p.boxes.float()) if len(p) else matched)  # type: ignore[attr-defined]
            logits.append(lg)
            deltas.append(dl)
        lab = torch.cat(labels).to(device)
        total = max(int(lab.numel()), 1)
        logit = torch.cat(logits)
        if lab.numel() and bool(torch.isinf(logit[torch.arange(len(lab)), lab]).any()):
            raise ValueError("a target label lies outside its image's mask")
        loss_cls = F.cross_entropy(logit, lab, reduction="sum") / total
        fg = torch.nonzero(lab > 0).flatten()
        delta = torch.cat(deltas).reshape(lab.numel(), -1, 4)
        reg = torch.cat(regs).to(device)
        loss_box = (
            F.smooth_l1_loss(delta[fg, lab[fg]], reg[fg], beta=1.0 / 9, reduction="sum") / total
        )
        return {"loss_classifier": loss_cls, "loss_box_reg": loss_box}


def rois_of(p: Proposals, device: torch.device) -> torch.Tensor:
    """The proposal boxes as float on ``device``."""
    return p.boxes.to(device).float()
