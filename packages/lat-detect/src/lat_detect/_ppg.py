"""The Privileged Proposal Generator (PPG): proposals from labels, not from an RPN (spec 2.3).

For an image of dataset ``n`` with ground-truth boxes ``B`` and the pseudo-labels other
datasets' specialists put on it, the PPG returns, with no parameters and no gradients:

* each GT box, dropped with probability ``drop`` (one always survives with ``keep_one``), and
  jittered: every edge moves by ``eps_k w`` (x edges) or ``eps_k h`` (y edges) with
  ``eps_k ~ U(-j, j)``, then is clipped to the image with at least 1 px of size. Hence
  ``IoU(box', box) >= ((1 - 2j) / (1 + 2j))^2`` (0.52 at ``j = 0.08``);
* every pseudo-label box unchanged, with its label and score.

GT proposals carry confidence 1 and their own GT index (they are always foreground); pseudo-label
proposals carry their score. At transfer time ``train=False``: no jitter, no drop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sciml_core import InputError

__all__ = ["PrivilegedProposalGenerator", "Proposals"]


@dataclass(frozen=True)
class Proposals:
    """Proposals of one image.

    Attributes:
        boxes: ``(M, 4)`` ``xyxy``.
        labels: ``(M,)`` internal ids of the concatenated space (GT: its dataset's ids).
        conf: ``(M,)`` 1 for GT proposals, the pseudo-label score otherwise.
        is_gt: ``(M,)`` bool.
        gt_index: ``(M,)`` the GT box a GT proposal came from, -1 for pseudo-labels.
    """

    boxes: torch.Tensor
    labels: torch.Tensor
    conf: torch.Tensor
    is_gt: torch.Tensor
    gt_index: torch.Tensor

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


class PrivilegedProposalGenerator:
    """Jittered, partly dropped GT boxes plus pseudo-label boxes (module docstring).

    Args:
        jitter: ``j`` in ``[0, 0.5)``: the largest edge move as a fraction of the box side.
        drop: Probability in ``[0, 1)`` of removing each GT box.
        keep_one: Keep at least one GT box when an image has any.

    Examples:
        >>> ppg = PrivilegedProposalGenerator(jitter=0.1, drop=0.0)
        >>> gt = torch.tensor([[10.0, 10.0, 40.0, 30.0]])
        >>> gen = torch.Generator().manual_seed(0)
        >>> p = ppg(gt, torch.tensor([2]), image_size=(96, 96), generator=gen)
        >>> from torchvision.ops import box_iou
        >>> bool(box_iou(p.boxes, gt)[0, 0] >= ((1 - 0.2) / (1 + 0.2)) ** 2)
        True
    """

    def __init__(self, *, jitter: float = 0.08, drop: float = 0.15, keep_one: bool = True) -> None:
        if not 0.0 <= jitter < 0.5:
            raise InputError(f"jitter: expected a number in [0, 0.5); got {jitter}")
        if not 0.0 <= drop < 1.0:
            raise InputError(f"drop: expected a number in [0, 1); got {drop}")
        self.jitter = float(jitter)
        self.drop = float(drop)
        self.keep_one = bool(keep_one)

    def __repr__(self) -> str:
        return (
            f"PrivilegedProposalGenerator(jitter={self.jitter}, drop={self.drop}, "
            f"keep_one={self.keep_one})"
        )

    @torch.no_grad()
    def __call__(
        self,
        gt_boxes: torch.Tensor,
        gt_labels: torch.Tensor,
        pseudo: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
        *,
        image_size: tuple[int, int],
        generator: torch.Generator | None = None,
        train: bool = True,
    ) -> Proposals:
        """Proposals of one image.

        Args:
            gt_boxes: ``(N, 4)`` ``xyxy``.
            gt_labels: ``(N,)`` internal ids.
            pseudo: ``(boxes (P, 4), labels (P,), scores (P,))`` or None.
            image_size: ``(H, W)``.
            generator: Source of the jitter and drop randomness.
            train: Jitter and drop (True) or pass GT through unchanged (transfer time).

        Shapes:
            returns ``M = N' + P`` proposals, ``N'`` the surviving GT boxes.
        """
        h, w = image_size
        n = int(gt_boxes.shape[0])
        keep = torch.ones(n, dtype=torch.bool)
        boxes = gt_boxes.float().clone()
        if train and n:
            if self.drop > 0:
                keep = torch.rand(n, generator=generator) >= self.drop
                if self.keep_one and not bool(keep.any()):
                    keep[int(torch.randint(n, (1,), generator=generator))] = True
            if self.jitter > 0:
                eps = (torch.rand((n, 4), generator=generator) * 2 - 1) * self.jitter
                bw = boxes[:, 2] - boxes[:, 0]
                bh = boxes[:, 3] - boxes[:, 1]
                boxes = boxes + eps * torch.stack([bw, bh, bw, bh], dim=1)
                boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
                boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
                boxes[:, 2] = torch.maximum(boxes[:, 2], boxes[:, 0] + 1).clamp(max=w)
                boxes[:, 0] = torch.minimum(boxes[:, 0], boxes[:, 2] - 1)
                boxes[:, 3] = torch.maximum(boxes[:, 3], boxes[:, 1] + 1).clamp(max=h)
                boxes[:, 1] = torch.minimum(boxes[:, 1], boxes[:, 3] - 1)
        idx = torch.nonzero(keep).flatten()
        parts_b = [boxes[idx]]
        parts_l = [gt_labels[idx].long()]
        parts_c = [torch.ones(len(idx))]
        parts_g = [torch.ones(len(idx), dtype=torch.bool)]
        parts_i = [idx.long()]
        if pseudo is not None and pseudo[0].shape[0]:
            pb, pl, ps = pseudo
            parts_b.append(pb.float())
            parts_l.append(pl.long())
            parts_c.append(ps.float())
            parts_g.append(torch.zeros(len(pl), dtype=torch.bool))
            parts_i.append(torch.full((len(pl),), -1, dtype=torch.long))
        return Proposals(
            torch.cat(parts_b).reshape(-1, 4),
            torch.cat(parts_l),
            torch.cat(parts_c),
            torch.cat(parts_g),
            torch.cat(parts_i),
        )
