"""SAM-Med3D's 3-D prompt encoder: points, boxes and a low-resolution mask as decoder inputs.

Read for the layout: ``uni-medical/SAM-Med3D``, ``segment_anything/modeling/prompt_encoder3D.py``
(commit 7cead58) and its use in ``utils/infer_utils.py`` (commit 6ff3bfc); the design is 2-D SAM's
(Kirillov et al., *Segment Anything*, arXiv:2304.02643, section 3 and appendix A). The code is
ours; the parameter names and shapes follow SAM-Med3D so its checkpoints load.

**Positional encoding** (random Fourier features, Tancik et al. 2020). A point ``u`` in the unit
cube is mapped to ``v = 2 pi (2u - 1) G`` with a fixed Gaussian ``G`` of shape ``(3, F)``,
``F = dim // 3``, and encoded as ``[sin v, cos v, sin v]`` (SAM-Med3D repeats the sine so that
``3F`` channels fill the prompt width; 2-D SAM has ``[sin v, cos v]``). ``G`` is a buffer named
``pe_layer.positional_encoding_gaussian_matrix``, so it is saved and loaded with the weights.

**Points** are voxel indices ``(B, N, 3)`` in the array's axis order, as SAM-Med3D's click
sampler gives them (``argwhere``), inside the crop ``[0, S)`` (SAM-Med3D encodes points outside
it without a word; here they are refused); a point ``p`` is encoded at ``u = (p + 0.5) / S`` (voxel
centres, ``S`` the crop edge) and then gets a learned embedding by label: 1 (foreground)
``point_embeddings.1``, 0 (background) ``point_embeddings.0``; label -1 marks padding: its
positional part is dropped and ``not_a_point_embed`` is used alone. As in SAM, one padding point
is appended when no box is given.

**The image grid's encoding** (``dense_pe``) is the same function at the centres of the ``n³``
embedding cells, ``u = (idx + 0.5) / n``, with SAM-Med3D's axis order: the first coordinate runs
along the second array axis and the second along the first (2-D SAM's ``(x, y)`` order carried
into 3-D), the third along the third. SAM-Med3D's weights were trained with this order and with
points in array order, so both are kept as they are.

**Boxes** (``(B, 6)``: one corner then the opposite one, in voxel indices) are two corner points
with the learned corner embeddings ``point_embeddings.2`` and ``.3``, as in 2-D SAM. SAM-Med3D's
checkpoints hold only the two point-label embeddings (its box path is unused), so the corner
embeddings exist only with ``box_prompts=True`` and are then missing from such a checkpoint.

**Masks** (``(B, 1, 4n, 4n, 4n)``, the decoder's low-resolution logits from a previous round) are
embedded by ``mask_downscaling``: two stride-2 ``Conv3d`` with ``LayerNorm3d`` and GELU, then a
1×1×1 ``Conv3d`` to the prompt width; without a mask, ``no_mask_embed`` is broadcast over the grid.
"""

from __future__ import annotations

import math
import typing

import torch
from torch import Tensor, nn

from sciml_core import InputError

from ._sam3d import LayerNorm3d

__all__ = ["PositionEmbeddingRandom3D", "PromptEncoder3D"]


class PositionEmbeddingRandom3D(nn.Module):
    """Random Fourier features of points in the unit cube (SAM-Med3D's ``[sin, cos, sin]``).

    Args:
        num_pos_feats: ``F``, the number of random frequencies; the encoding has ``3F`` channels.
        scale: Standard deviation of the frequencies (SAM: 1).

    Shapes:
        forward: ``(..., 3)`` coordinates in ``[0, 1]`` -> ``(..., 3F)``.
    """

    def __init__(self, num_pos_feats: int, scale: float = 1.0) -> None:
        super().__init__()
        if not (math.isfinite(scale) and scale > 0):
            raise InputError(f"scale: the frequencies' standard deviation must be > 0; got {scale}")
        self.positional_encoding_gaussian_matrix: Tensor
        self.register_buffer(
            "positional_encoding_gaussian_matrix", scale * torch.randn(3, num_pos_feats)
        )

    def forward(self, unit: Tensor) -> Tensor:
        """Encode points given in the unit cube.

        Shapes:
            unit: ``(..., 3)`` -> ``(..., 3F)``.
        """
        g = self.positional_encoding_gaussian_matrix
        v = (2.0 * math.pi) * ((2.0 * unit.to(g.dtype) - 1.0) @ g)
        s = torch.sin(v)
        return torch.cat([s, torch.cos(v), s], dim=-1)

    def grid(self, n: int) -> Tensor:
        """The encoding at the centres of an ``n³`` grid, in SAM-Med3D's axis order.

        Shapes:
            returns ``(3F, n, n, n)``.
        """
        g = self.positional_encoding_gaussian_matrix
        c = (torch.arange(n, device=g.device, dtype=g.dtype) + 0.5) / n
        a0, a1, a2 = torch.meshgrid(c, c, c, indexing="ij")  # coordinate along array axis 0, 1, 2
        unit = torch.stack([a1, a0, a2], dim=-1)  # first coordinate along axis 1 (SAM's x)
        return self(unit).permute(3, 0, 1, 2)


class PromptEncoder3D(nn.Module):
    """SAM-Med3D's prompt encoder (parameter names and shapes as its ``PromptEncoder3D``).

    Args:
        embed_dim: Prompt width ``C`` (the image embedding's channels; divisible by 3).
        image_embedding_size: ``n``, the edge of the image embedding grid.
        input_image_size: ``S``, the edge of the input crop (points are voxel indices in it).
        mask_in_chans: Hidden channels of the mask downscaling (SAM-Med3D: 16).
        box_prompts: Create the two box-corner embeddings (not in SAM-Med3D's checkpoints).

    Shapes:
        forward: points ``(B, N, 3)`` with labels ``(B, N)``, boxes ``(B, 6)``, masks
        ``(B, 1, 4n, 4n, 4n)`` -> sparse ``(B, N', C)`` and dense ``(B, C, n, n, n)``, where
        ``N' = N + 1`` (a padding point) without boxes and ``N + 2`` with them.
    """

    def __init__(
        self,
        embed_dim: int,
        image_embedding_size: int,
        input_image_size: int,
        mask_in_chans: int,
        *,
        box_prompts: bool = False,
    ) -> None:
        super().__init__()
        if embed_dim % 3:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by 3 (sin, cos, sin)")
        self.embed_dim = embed_dim
        self.image_embedding_size = image_embedding_size
        self.input_image_size = input_image_size
        self.box_prompts = box_prompts
        self.pe_layer = PositionEmbeddingRandom3D(embed_dim // 3)
        n_embed = 4 if box_prompts else 2
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, embed_dim) for _ in range(n_embed))
        self.not_a_point_embed = nn.Embedding(1, embed_dim)
        self.mask_downscaling = nn.Sequential(
            nn.Conv3d(1, mask_in_chans // 4, kernel_size=2, stride=2),
            LayerNorm3d(mask_in_chans // 4),
            nn.GELU(),
            nn.Conv3d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2),
            LayerNorm3d(mask_in_chans),
            nn.GELU(),
            nn.Conv3d(mask_in_chans, embed_dim, kernel_size=1),
        )
        self.no_mask_embed = nn.Embedding(1, embed_dim)

    @property
    def mask_input_size(self) -> int:
        """Edge of a mask prompt (4× the embedding grid, the decoder's low-resolution output)."""
        return 4 * self.image_embedding_size

    def dense_pe(self) -> Tensor:
        """The image grid's positional encoding ``(1, C, n, n, n)``."""
        return self.pe_layer.grid(self.image_embedding_size)[None]

    def embed_points(self, points: Tensor, labels: Tensor, *, pad: bool) -> Tensor:
        """Positional encoding of voxel-index points plus their label's embedding.

        Shapes:
            points: ``(B, N, 3)``, labels: ``(B, N)`` -> ``(B, N + pad, C)``.
        """
        if pad:
            b = points.shape[0]
            points = torch.cat([points, points.new_zeros(b, 1, 3)], dim=1)
            labels = torch.cat([labels, labels.new_full((b, 1), -1)], dim=1)
        pe = self.pe_layer((points + 0.5) / self.input_image_size)
        lab = labels[..., None]
        out = torch.where(lab == -1, self.not_a_point_embed.weight, pe)
        out = out + (lab == 0) * self._label_weight(0)
        return out + (lab == 1) * self._label_weight(1)

    def _label_weight(self, i: int) -> Tensor:
        return typing.cast(nn.Embedding, self.point_embeddings[i]).weight

    def embed_boxes(self, boxes: Tensor) -> Tensor:
        """Two corner points per box with the corner embeddings.

        Shapes:
            boxes: ``(B, 6)`` -> ``(B, 2, C)``.
        """
        if not self.box_prompts:
            raise InputError(
                "boxes: this prompt encoder has no box-corner embeddings (SAM-Med3D's weights "
                "hold none); build it with box_prompts=True to use boxes"
            )
        pe = self.pe_layer((boxes.reshape(-1, 2, 3) + 0.5) / self.input_image_size)
        corners = torch.cat([self._label_weight(2), self._label_weight(3)])
        return pe + corners

    def forward(
        self,
        points: Tensor | None = None,
        labels: Tensor | None = None,
        boxes: Tensor | None = None,
        masks: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Sparse (point and box) and dense (mask) prompt embeddings.

        Shapes:
            points: ``(B, N, 3)`` voxel indices, labels: ``(B, N)`` in {-1, 0, 1},
            boxes: ``(B, 6)``, masks: ``(B, 1, 4n, 4n, 4n)`` ->
            ``((B, N', C), (B, C, n, n, n))``; ``B = 1`` when no prompt is given.

        Raises:
            InputError: wrong shapes, non-finite coordinates, points (other than padding) outside
                the crop ``[0, S)`` (SAM-Med3D accepts these silently and encodes them outside
                the unit cube), labels outside {-1, 0, 1}, prompts of different batch sizes,
                boxes without ``box_prompts``.
        """
        batch = _check_prompts(
            points, labels, boxes, masks, self.mask_input_size, self.input_image_size
        )
        w = self.no_mask_embed.weight
        sparse = [w.new_zeros(batch, 0, self.embed_dim)]
        if points is not None and labels is not None:
            lab = labels.to(torch.long)
            sparse.append(self.embed_points(points.to(w.dtype), lab, pad=boxes is None))
        if boxes is not None:
            sparse.append(self.embed_boxes(boxes.to(w.dtype)))
        n = self.image_embedding_size
        if masks is not None:
            dense = self.mask_downscaling(masks.to(w.dtype))
        else:
            dense = w.reshape(1, -1, 1, 1, 1).expand(batch, -1, n, n, n)
        return torch.cat(sparse, dim=1), dense


def _check_prompts(
    points: Tensor | None,
    labels: Tensor | None,
    boxes: Tensor | None,
    masks: Tensor | None,
    mask_size: int,
    size: int,
    *,
    mask_name: str = "masks",
) -> int:
    """Validate the prompts and return their batch size (1 when there are none).

    ``size`` is the crop edge ``S`` (points must lie in ``[0, S)``); ``mask_name`` is the
    caller's name for the mask argument (``Sam3D``'s ``mask_input``).
    """
    sizes: list[int] = []
    if (points is None) != (labels is None):
        raise InputError("points, labels: give both or neither")
    if points is not None and labels is not None:
        if points.ndim != 3 or points.shape[-1] != 3:
            raise InputError(f"points: expected (B, N, 3) voxel indices; got {tuple(points.shape)}")
        if tuple(labels.shape) != tuple(points.shape[:2]):
            raise InputError(
                f"labels: expected shape {tuple(points.shape[:2])} (one per point); "
                f"got {tuple(labels.shape)}"
            )
        if labels.is_complex() or labels.dtype == torch.bool:
            raise InputError(f"labels: expected integers in {{-1, 0, 1}}; got {labels.dtype}")
        # float labels are accepted when whole (SAM-Med3D's own inference builds float ones)
        bad = labels[(labels != -1) & (labels != 0) & (labels != 1)]
        if bad.numel():
            raise InputError(f"labels: expected values in {{-1, 0, 1}}; got {bad[0].item()}")
        if not torch.isfinite(points).all():
            raise InputError("points: coordinates must be finite")
        real = points[labels != -1]  # padding points (label -1) carry no position
        outside = real[((real < 0) | (real >= size)).any(dim=-1)]
        if outside.numel():
            raise InputError(
                f"points: voxel indices must lie in [0, {size}) on every axis (the crop); got "
                f"{tuple(outside[0].tolist())}"
            )
        sizes.append(points.shape[0])
    if boxes is not None:
        if boxes.ndim != 2 or boxes.shape[-1] != 6:
            raise InputError(f"boxes: expected (B, 6) corner pairs; got {tuple(boxes.shape)}")
        if not torch.isfinite(boxes).all():
            raise InputError("boxes: coordinates must be finite")
        sizes.append(boxes.shape[0])
    if masks is not None:
        want = (1, mask_size, mask_size, mask_size)
        if masks.ndim != 5 or tuple(masks.shape[1:]) != want:
            raise InputError(
                f"{mask_name}: expected (B, {', '.join(map(str, want))}); got {tuple(masks.shape)}"
            )
        sizes.append(masks.shape[0])
    if len(set(sizes)) > 1:
        raise InputError(f"points, boxes, {mask_name}: batch sizes differ ({sizes})")
    return sizes[0] if sizes else 1
