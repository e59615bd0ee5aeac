"""SAM-Med3D's two-way transformer mask decoder.

Read for the layout: ``uni-medical/SAM-Med3D``, ``segment_anything/modeling/mask_decoder3D.py``
(commit 1ebf2fe; it carries its own 3-D two-way transformer) and ``build_sam3D.py`` (same commit);
the design is 2-D SAM's decoder (Kirillov et al., *Segment Anything*, arXiv:2304.02643,
appendix A, "Lightweight mask decoder"). The code is ours; the parameter names and shapes follow
SAM-Med3D so its checkpoints load.

The decoder reads an image embedding ``E`` (``C × n³``, plus the dense prompt embedding), its
positional encoding ``P`` and a token sequence ``T = [iou token, K mask tokens, prompts]``. Each of
``depth`` two-way blocks runs, with post-norm residuals,

1. self-attention of the tokens (queries and keys get the tokens' initial embedding added, except
   in the first block, whose output replaces the tokens),
2. cross-attention tokens -> image (queries ``T + T0``, keys ``E + P``, values ``E``),
3. an MLP on the tokens (ReLU, width ``mlp_dim``),
4. cross-attention image -> tokens (queries ``E + P``, keys ``T + T0``, values ``T``), which
   updates the image embedding;

then a last token -> image attention and a LayerNorm. Cross-attentions project to ``C / 2``
channels (``attention_downsample_rate = 2``) to save compute on the ``n³`` image tokens.

The updated image embedding is upscaled 4× by two stride-2 ``ConvTranspose3d``
(``C -> C/4 -> C/8``, LayerNorm3d and GELU between, GELU after). Mask token ``k``'s output goes
through its own 3-layer MLP (a hypernetwork) to ``C/8`` weights, and mask ``k``'s logits are the
dot product of those weights with the upscaled embedding at every voxel. The IoU token's output
goes through a 3-layer MLP to one predicted IoU per mask. Mask 0 is the single-mask output;
masks ``1..K-1`` are the multimask outputs (SAM's ambiguity-aware set).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml_core import InputError

from ._sam3d import LayerNorm3d

__all__ = ["MaskDecoder3D", "TwoWayTransformer3D"]


class _Attention(nn.Module):
    """Multi-head attention with separate ``q/k/v`` projections to ``dim / downsample`` channels."""

    def __init__(self, dim: int, heads: int, downsample: int = 1) -> None:
        super().__init__()
        inner = dim // downsample
        if inner % heads:
            raise ValueError(f"{heads} heads do not divide the attention width {inner}")
        self.heads = heads
        self.q_proj = nn.Linear(dim, inner)
        self.k_proj = nn.Linear(dim, inner)
        self.v_proj = nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)

    def _split(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        return x.view(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Shapes: q ``(B, Nq, C)``, k and v ``(B, Nk, C)`` -> ``(B, Nq, C)``."""
        out = F.scaled_dot_product_attention(
            self._split(self.q_proj(q)), self._split(self.k_proj(k)), self._split(self.v_proj(v))
        )
        b, _, nq, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, nq, -1))


class _ReluMLP(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.lin2(F.relu(self.lin1(x)))


class _TwoWayBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_dim: int, downsample: int, first: bool) -> None:
        super().__init__()
        self.first = first
        self.self_attn = _Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn_token_to_image = _Attention(dim, heads, downsample)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = _ReluMLP(dim, mlp_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.norm4 = nn.LayerNorm(dim)
        self.cross_attn_image_to_token = _Attention(dim, heads, downsample)

    def forward(
        self, tokens: Tensor, image: Tensor, token_pe: Tensor, image_pe: Tensor
    ) -> tuple[Tensor, Tensor]:
        if self.first:  # the prompts' own embedding is the positional part: no residual here
            tokens = self.norm1(self.self_attn(tokens, tokens, tokens))
        else:
            q = tokens + token_pe
            tokens = self.norm1(tokens + self.self_attn(q, q, tokens))
        q, k = tokens + token_pe, image + image_pe
        tokens = self.norm2(tokens + self.cross_attn_token_to_image(q, k, image))
        tokens = self.norm3(tokens + self.mlp(tokens))
        q = tokens + token_pe
        image = self.norm4(image + self.cross_attn_image_to_token(k, q, tokens))
        return tokens, image


class TwoWayTransformer3D(nn.Module):
    """Tokens and image tokens attend to each other in ``depth`` blocks (see the module docstring).

    Shapes:
        forward: image ``(B, C, n, n, n)``, image_pe ``(B, C, n, n, n)``, tokens ``(B, T, C)``
        -> tokens ``(B, T, C)`` and image tokens ``(B, n³, C)``.
    """

    def __init__(self, depth: int, dim: int, heads: int, mlp_dim: int, downsample: int = 2) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            _TwoWayBlock(dim, heads, mlp_dim, downsample, first=i == 0) for i in range(depth)
        )
        self.final_attn_token_to_image = _Attention(dim, heads, downsample)
        self.norm_final_attn = nn.LayerNorm(dim)

    def forward(self, image: Tensor, image_pe: Tensor, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """Run the two-way blocks and the final token -> image attention.

        Shapes:
            image, image_pe: ``(B, C, n, n, n)``; tokens: ``(B, T, C)`` ->
            ``((B, T, C), (B, n³, C))``.
        """
        img = image.flatten(2).transpose(1, 2)
        pe = image_pe.flatten(2).transpose(1, 2)
        t = tokens
        for layer in self.layers:
            t, img = layer(t, img, tokens, pe)
        t = t + self.final_attn_token_to_image(t + tokens, img + pe, img)
        return self.norm_final_attn(t), img


class _MLP(nn.Module):
    """``layers.0 .. layers.{L-1}``: Linear layers with ReLU between (SAM's ``MLP``)."""

    def __init__(self, dim_in: int, hidden: int, dim_out: int, depth: int) -> None:
        super().__init__()
        widths = [dim_in] + [hidden] * (depth - 1) + [dim_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class MaskDecoder3D(nn.Module):
    """SAM-Med3D's mask decoder (parameter names and shapes as its ``MaskDecoder3D``).

    Args:
        transformer_dim: ``C``, the prompt and image-embedding width (divisible by 8).
        num_multimask_outputs: Masks of the multimask output (``K = this + 1`` mask tokens).
        heads: Attention heads of the two-way transformer (SAM-Med3D: 8).
        mlp_dim: Hidden width of the transformer's token MLP (SAM-Med3D: 2048).
        depth: Two-way blocks (SAM-Med3D: 2).
        iou_head_depth: Layers of the IoU head (3).
        iou_head_hidden_dim: Hidden width of the IoU head (SAM-Med3D: 256).

    Shapes:
        forward: image embedding ``(B or 1, C, n, n, n)``, image_pe ``(1, C, n, n, n)``,
        sparse prompts ``(B, N, C)``, dense prompts ``(B, C, n, n, n)`` -> mask logits
        ``(B, M, 4n, 4n, 4n)`` and IoU predictions ``(B, M)``; ``M = 1``, or ``K - 1`` with
        ``multimask_output``. An image embedding of batch 1 serves every prompt set.

    Raises:
        InputError: ``transformer_dim`` not a positive multiple of 8, or ``heads`` not dividing
            both ``transformer_dim`` and its half.
    """

    def __init__(
        self,
        *,
        transformer_dim: int,
        num_multimask_outputs: int = 3,
        heads: int = 8,
        mlp_dim: int = 2048,
        depth: int = 2,
        iou_head_depth: int = 3,
        iou_head_hidden_dim: int = 256,
    ) -> None:
        super().__init__()
        c = transformer_dim
        if c <= 0 or c % 8:
            raise InputError(
                f"transformer_dim: must be a positive multiple of 8 (C/4, C/8 upscaling); got {c}"
            )
        if heads <= 0 or c % heads or (c // 2) % heads:
            raise InputError(
                f"heads, transformer_dim: {heads} heads must divide transformer_dim {c} (self "
                f"attention) and its half {c // 2} (the downsampled cross attentions)"
            )
        self.transformer_dim = c
        self.num_mask_tokens = num_multimask_outputs + 1
        self.transformer = TwoWayTransformer3D(depth, c, heads, mlp_dim)
        self.iou_token = nn.Embedding(1, c)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, c)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose3d(c, c // 4, kernel_size=2, stride=2),
            LayerNorm3d(c // 4),
            nn.GELU(),
            nn.ConvTranspose3d(c // 4, c // 8, kernel_size=2, stride=2),
            nn.GELU(),
        )
        self.output_hypernetworks_mlps = nn.ModuleList(
            _MLP(c, c, c // 8, 3) for _ in range(self.num_mask_tokens)
        )
        self.iou_prediction_head = _MLP(
            c, iou_head_hidden_dim, self.num_mask_tokens, iou_head_depth
        )

    def forward(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
        multimask_output: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Mask logits at ``4n`` per axis and their predicted IoU, one set per prompt set.

        Shapes:
            image_embeddings: ``(B or 1, C, n, n, n)``; image_pe: ``(1, C, n, n, n)``;
            sparse_prompt_embeddings: ``(B, N, C)``; dense_prompt_embeddings:
            ``(B, C, n, n, n)`` -> ``((B, M, 4n, 4n, 4n), (B, M))``.
        """
        masks, iou = self.predict_masks(
            image_embeddings, image_pe, sparse_prompt_embeddings, dense_prompt_embeddings
        )
        keep = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, keep], iou[:, keep]

    def predict_masks(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """Every mask token's logits and IoU (``M = K``); see :meth:`forward`."""
        b = sparse_prompt_embeddings.shape[0]
        if image_embeddings.shape[0] not in (1, b):
            raise InputError(
                f"image_embeddings: batch {image_embeddings.shape[0]} is neither 1 nor the "
                f"prompts' batch {b}"
            )
        out = torch.cat([self.iou_token.weight, self.mask_tokens.weight])
        tokens = torch.cat([out.expand(b, -1, -1), sparse_prompt_embeddings], dim=1)
        src = image_embeddings.expand(b, -1, -1, -1, -1) + dense_prompt_embeddings
        pos = image_pe.expand(b, -1, -1, -1, -1)
        _, c, n0, n1, n2 = src.shape
        hs, img = self.transformer(src, pos, tokens)
        iou_out, mask_out = hs[:, 0], hs[:, 1 : 1 + self.num_mask_tokens]
        up = self.output_upscaling(img.transpose(1, 2).reshape(b, c, n0, n1, n2))
        hyper = torch.stack(
            [mlp(mask_out[:, k]) for k, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1
        )  # (B, K, C/8)
        masks = torch.einsum("bkc,bcxyz->bkxyz", hyper, up)
        return masks, self.iou_prediction_head(iou_out)
