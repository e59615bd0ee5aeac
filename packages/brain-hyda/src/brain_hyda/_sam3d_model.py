"""SAM-Med3D's whole promptable model: image encoder, prompt encoder and mask decoder.

Read for the layout: ``uni-medical/SAM-Med3D``, ``segment_anything/build_sam3D.py`` and
``modeling/sam3D.py`` (commit 1ebf2fe), and ``utils/infer_utils.py`` (commit 6ff3bfc) for how a
crop is segmented from clicks: the encoder embeds a ``S³`` crop into ``C × n³`` (``n = S / 16``),
the prompt encoder embeds the clicks, the decoder predicts logits at ``4n`` per axis, and these
are resized trilinearly (``align_corners=False``) to the crop. SAM-Med3D's ``vit_b_ori`` builds
everything at prompt width ``C = 384`` (the encoder's neck width), ``mask_in_chans=16``, a
two-block decoder with 8 heads, MLP width 2048, three multimask outputs and an IoU head of width
256; SAM-Med3D's ``Sam3D`` keeps its pixel mean and standard deviation as non-persistent buffers,
so its checkpoints hold exactly ``image_encoder.*``, ``prompt_encoder.*`` and ``mask_decoder.*``,
which is this model's state dict. The code is ours; ``tests/test_sam3d_medim.py`` checks it
output for output against medim 0.1.2's copy of SAM-Med3D.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml_core import InputError

from ._sam3d import _SPECS, SAM3D_VARIANTS, ImageEncoder3D, Sam3DVariant, build_image_encoder
from ._sam3d_decoder import MaskDecoder3D
from ._sam3d_prompt import PromptEncoder3D, _check_prompts

__all__ = ["Sam3D", "build_sam3d"]

NoMaskEmbed = Literal["no_mask_embed"]
"""``mask_input="no_mask_embed"``: 2-D SAM's no-mask path (untrained in SAM-Med3D's weights)."""


@dataclass(frozen=True)
class _PromptSpec:
    mask_in_chans: int
    heads: int
    mlp_dim: int
    iou_hidden: int


_PROMPT_SPECS: dict[str, _PromptSpec] = {
    # SAM-Med3D's _build_sam3D_ori: prompt width 384 (= neck), mask_in_chans 16, 8 heads, 2048.
    "vit_b_ori": _PromptSpec(16, 8, 2048, 256),
    "small": _PromptSpec(16, 8, 512, 64),  # width 96
    "tiny": _PromptSpec(8, 4, 64, 32),  # width 24
}


class Sam3D(nn.Module):
    """Image encoder + prompt encoder + mask decoder, SAM-Med3D's ``Sam3D`` layout.

    Args:
        image_encoder: The 3-D ViT (its neck width is the prompt width ``C``).
        prompt_encoder: Embeds points, boxes and mask prompts at width ``C``.
        mask_decoder: The two-way transformer decoder at width ``C``.

    Shapes:
        forward: image ``(B, 1, S, S, S)``, points ``(B, N, 3)`` voxel indices (array axis order),
        labels ``(B, N)`` in {1 foreground, 0 background, -1 padding} -> mask logits
        ``(B, M, S, S, S)`` and predicted IoU ``(B, M)``; ``M = 1``, or 3 with
        ``multimask_output``.
    """

    def __init__(
        self,
        image_encoder: ImageEncoder3D,
        prompt_encoder: PromptEncoder3D,
        mask_decoder: MaskDecoder3D,
    ) -> None:
        super().__init__()
        self.image_encoder = image_encoder
        self.prompt_encoder = prompt_encoder
        self.mask_decoder = mask_decoder

    def decode(
        self,
        image_embedding: Tensor,
        points: Tensor | None = None,
        labels: Tensor | None = None,
        *,
        boxes: Tensor | None = None,
        mask_input: Tensor | NoMaskEmbed | None = None,
        multimask_output: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Low-resolution mask logits from an image embedding and prompts.

        An embedding of batch 1 serves every prompt set (several prompts on one image), and one
        prompt set (or none) serves every embedding.

        ``mask_input=None`` (the default) is SAM-Med3D's first click: a low-resolution mask of
        zeros, ``(B, 1, 4n, 4n, 4n)``, as its training (``train.py``) and inference
        (``infer_utils.py``) always pass one, so its checkpoints never trained ``no_mask_embed``.
        ``mask_input="no_mask_embed"`` opts into 2-D SAM's no-mask embedding instead (random in
        SAM-Med3D's checkpoints; for models trained that way). A tensor is the previous round's
        low-resolution logits.

        Shapes:
            image_embedding: ``(B or 1, C, n, n, n)``; points ``(B, N, 3)``, labels ``(B, N)``,
            boxes ``(B, 6)``, mask_input ``(B, 1, 4n, 4n, 4n)`` -> logits
            ``(B, M, 4n, 4n, 4n)`` and IoU ``(B, M)``.

        Raises:
            InputError: malformed prompts (points outside the crop ``[0, S)`` included), a
                ``mask_input`` of another shape or value, an ``image_embedding`` that is not
                ``(B, C, n, n, n)`` with ``B`` 1 or the prompts' batch.
        """
        masks = self._mask_prompt(mask_input, points, boxes, image_embedding)
        pe = self.prompt_encoder
        batch = _check_prompts(
            points, labels, boxes, masks, pe.mask_input_size, pe.input_image_size,
            mask_name="mask_input",
        )  # fmt: skip
        n, c = pe.image_embedding_size, pe.embed_dim
        e = image_embedding
        broadcast = batch == 1 or (e.ndim > 0 and e.shape[0] in (1, batch))
        if e.ndim != 5 or tuple(e.shape[1:]) != (c, n, n, n) or not broadcast:
            raise InputError(
                f"image_embedding: expected (B, {c}, {n}, {n}, {n}), the image encoder's output, "
                f"with B = 1 or the prompts' batch {batch}; got {tuple(e.shape)}"
            )
        sparse, dense = self.prompt_encoder(points, labels, boxes, masks)
        if sparse.shape[0] == 1 and image_embedding.shape[0] > 1:  # one prompt set (or none)
            sparse = sparse.expand(image_embedding.shape[0], -1, -1)
            dense = dense.expand(image_embedding.shape[0], -1, -1, -1, -1)
        return self.mask_decoder(
            image_embedding, self.prompt_encoder.dense_pe(), sparse, dense, multimask_output
        )

    def forward(
        self,
        image: Tensor,
        points: Tensor | None = None,
        labels: Tensor | None = None,
        *,
        boxes: Tensor | None = None,
        mask_input: Tensor | NoMaskEmbed | None = None,
        multimask_output: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Mask logits on the input grid and their predicted IoU, one prompt set per image.

        ``mask_input`` as in :meth:`decode`: by default zeros (SAM-Med3D's first click),
        ``"no_mask_embed"`` for the untrained no-mask embedding.

        Shapes:
            image: ``(B, 1, S, S, S)``; points ``(B, N, 3)``, labels ``(B, N)``, boxes
            ``(B, 6)``, mask_input ``(B, 1, 4n, 4n, 4n)`` -> ``((B, M, S, S, S), (B, M))``.

        Raises:
            InputError: a crop of the wrong shape, malformed prompts, or prompts whose batch
                differs from the image's.
        """
        self.image_encoder.check_input(image, argument="image")
        for name, t in (("points", points), ("boxes", boxes), ("mask_input", mask_input)):
            if isinstance(t, Tensor) and t.ndim >= 1 and t.shape[0] != image.shape[0]:
                raise InputError(
                    f"{name}: one prompt set per image expected ({image.shape[0]}); "
                    f"got batch {t.shape[0]} (use decode() for several prompts on one image)"
                )
        emb = self.image_encoder(image)  # after the cheap checks: no encoder run on bad prompts
        logits, iou = self.decode(
            emb,
            points,
            labels,
            boxes=boxes,
            mask_input=mask_input,
            multimask_output=multimask_output,
        )
        size = tuple(image.shape[-3:])
        return F.interpolate(logits, size=size, mode="trilinear", align_corners=False), iou

    def _mask_prompt(
        self,
        mask_input: Tensor | NoMaskEmbed | None,
        points: Tensor | None,
        boxes: Tensor | None,
        image_embedding: Tensor,
    ) -> Tensor | None:
        """The mask handed to the prompt encoder: zeros by default, None for no_mask_embed."""
        if isinstance(mask_input, Tensor):
            return mask_input
        if isinstance(mask_input, str) and mask_input == "no_mask_embed":
            return None
        if mask_input is not None:
            raise InputError(
                "mask_input: expected a (B, 1, 4n, 4n, 4n) tensor, None (zeros, SAM-Med3D's "
                f"first click) or 'no_mask_embed'; got {mask_input!r}"
            )
        batch = 1  # one zero mask serves every embedding, like one prompt set
        for t in (points, boxes):
            if t is not None and t.ndim >= 1:
                batch = t.shape[0]
                break
        m = self.prompt_encoder.mask_input_size
        return torch.zeros(
            batch, 1, m, m, m, dtype=image_embedding.dtype, device=image_embedding.device
        )


def build_sam3d(
    variant: Sam3DVariant = "vit_b_ori", img_size: int | None = None, *, box_prompts: bool = False
) -> Sam3D:
    """SAM-Med3D's whole model for a variant (random weights; load yours with the loader).

    ``"vit_b_ori"`` is SAM-Med3D's ``build_sam3D_vit_b_ori`` (128³ crop, encoder embed 768, prompt
    width 384); ``"small"`` (64³, width 96) and ``"tiny"`` (32³, width 24, 4 heads) keep the
    structure at sizes for the bench and the tests. ``img_size`` changes the crop (and the
    embedding grid); ``box_prompts`` adds the box-corner embeddings that SAM-Med3D's checkpoints
    lack (they are then reported missing by :func:`load_sam3d_weights`).

    Examples:
        >>> import torch
        >>> sam = build_sam3d("tiny")
        >>> logits, iou = sam(torch.zeros(1, 1, 32, 32, 32), torch.tensor([[[16.0, 16.0, 16.0]]]),
        ...                   torch.tensor([[1]]))
        >>> tuple(logits.shape), tuple(iou.shape)
        ((1, 1, 32, 32, 32), (1, 1))
    """
    if variant not in _SPECS:
        raise InputError(f"variant: expected one of {SAM3D_VARIANTS}; got {variant!r}")
    encoder = build_image_encoder(variant, img_size=img_size)
    spec, p = _SPECS[variant], _PROMPT_SPECS[variant]
    size = encoder.img_size
    prompt = PromptEncoder3D(
        spec.neck, size // spec.patch, size, p.mask_in_chans, box_prompts=box_prompts
    )
    decoder = MaskDecoder3D(
        transformer_dim=spec.neck,
        heads=p.heads,
        mlp_dim=p.mlp_dim,
        iou_head_hidden_dim=p.iou_hidden,
    )
    return Sam3D(encoder, prompt, decoder)
