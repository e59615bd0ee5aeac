"""The 3-D ViT image encoder in SAM-Med3D's parameter layout, and its weight loader.

The encoder is a plain 3-D vision transformer (Dosovitskiy et al.) in the ViTDet form that
SAM-Med3D and SAM-Brain3D use: a strided ``Conv3d`` patch embedding, an absolute position
embedding of shape ``(1, D/p, H/p, W/p, E)``, ``depth`` pre-norm blocks whose attention adds
decomposed relative positions along the three axes (MViTv2),

.. math::
    A_{ij} = \\frac{q_i \\cdot k_j}{\\sqrt{d_h}} + q_i \\cdot R^d_{d_i - d_j}
             + q_i \\cdot R^h_{h_i - h_j} + q_i \\cdot R^w_{w_i - w_j}

in MViTv2's intent. SAM-Med3D's code (``image_encoder3D.py``, ``add_decomposed_rel_pos``; the
same in medim 0.1.2) broadcasts the three terms onto other axes of the 7-d logits
``(q_d, q_h, q_w, k_d, k_h, k_w)``, and its checkpoints were trained with what it computes:

.. math::
    A_{ij} = \\frac{q_i \\cdot k_j}{\\sqrt{d_h}}
             + q_{(d_i, h_i, w_i)} \\cdot R^d_{d_i - w_j}
             + q_{(d_i, h_i, d_j)} \\cdot R^h_{h_i - w_j}
             + q_{(d_i, h_i, h_j)} \\cdot R^w_{h_j - w_j},

which is what this encoder computes (``q_{(a, b, c)}`` is the query at that grid position; the
grid is cubic), so a checkpoint's trained ``rel_pos_*`` tables act as they did in training. With
the tables at zero (their initialisation) both forms are the plain attention.

The blocks in ``global_blocks`` attend globally, the others within non-overlapping windows of
``window`` tokens per axis (the token grid is zero-padded up to a multiple of the window, so
SAM-Med3D's 8³ tokens become one 14³ window), then a neck ``Conv3d(E, N, 1) -> LayerNorm3d ->
Conv3d(N, N, 3) -> LayerNorm3d``. Every parameter has SAM-Med3D's name (``patch_embed.proj.weight``,
``blocks.3.attn.rel_pos_d``, ``neck.0.weight``, ...), so a SAM-Med3D or SAM-Brain3D checkpoint's
``image_encoder.`` sub-tree loads with :func:`load_sam3d_weights`. The code is ours, written from
the architecture's description and a reading of SAM-Med3D's ``image_encoder3D.py`` (commit
1ebf2fe) and medim 0.1.2's copy; names, shapes, LayerNorm eps 1e-6 and the relative-position
placement above follow SAM-Med3D (``tests/test_sam3d_medim.py`` checks outputs against medim).
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml_core import InputError, LoadReport, load_pretrained

__all__ = [
    "SAM3D_PARTS",
    "SAM3D_VARIANTS",
    "ImageEncoder3D",
    "LayerNorm3d",
    "Sam3DVariant",
    "SamPart",
    "ViT3DTaps",
    "build_image_encoder",
    "count_parameters",
    "load_sam3d_weights",
]

Sam3DVariant = Literal["vit_b_ori", "small", "tiny"]
SAM3D_VARIANTS: tuple[Sam3DVariant, ...] = typing.get_args(Sam3DVariant)


@dataclass(frozen=True)
class _Spec:
    img_size: int
    patch: int
    embed: int
    depth: int
    heads: int
    window: int
    global_blocks: tuple[int, ...]
    neck: int


_SPECS: dict[str, _Spec] = {
    # SAM-Med3D's build_sam3D_vit_b_ori: 128³ crop, patch 16, embed 768, 12 blocks.
    "vit_b_ori": _Spec(128, 16, 768, 12, 12, 14, (2, 5, 8, 11), 384),
    "small": _Spec(64, 16, 192, 4, 4, 14, (1, 3), 96),
    "tiny": _Spec(32, 8, 48, 2, 3, 3, (1,), 24),
}


class LayerNorm3d(nn.Module):
    """LayerNorm over the channel axis of a ``(B, C, D, H, W)`` map (eps 1e-6, as SAM-Med3D).

    Shapes:
        x: ``(B, C, D, H, W)`` -> ``(B, C, D, H, W)``.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        """Normalise each voxel's channel vector, then scale and shift.

        Shapes:
            x: ``(B, C, D, H, W)`` -> ``(B, C, D, H, W)``.
        """
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        y = (x - mu) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None, None] * y + self.bias[:, None, None, None]


class _PatchEmbed(nn.Module):
    def __init__(self, patch: int, embed: int) -> None:
        super().__init__()
        self.proj = nn.Conv3d(1, embed, kernel_size=patch, stride=patch)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).permute(0, 2, 3, 4, 1)  # (B, d, h, w, E)


class _MLP(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.lin2(F.gelu(self.lin1(x)))


def _relative_table(size: int, table: Tensor) -> Tensor:
    """``(size, size, C)``: row ``i - j + size - 1`` of ``table`` (resized when lengths differ)."""
    length = 2 * size - 1
    if table.shape[0] != length:
        table = F.interpolate(table.T[None], size=length, mode="linear")[0].T
    idx = torch.arange(size, device=table.device)
    return table[idx[:, None] - idx[None, :] + size - 1]


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int, grid: int) -> None:
        super().__init__()
        self.heads = heads
        head_dim = dim // heads
        self.scale = head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.rel_pos_d = nn.Parameter(torch.zeros(2 * grid - 1, head_dim))
        self.rel_pos_h = nn.Parameter(torch.zeros(2 * grid - 1, head_dim))
        self.rel_pos_w = nn.Parameter(torch.zeros(2 * grid - 1, head_dim))

    def forward(self, x: Tensor) -> Tensor:
        b, d, h, w, c = x.shape
        n = d * h * w
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = (t.reshape(b * self.heads, n, -1) for t in qkv.unbind(0))
        logits = (q * self.scale) @ k.transpose(-2, -1)
        qg = q.reshape(b * self.heads, d, h, w, -1)
        rd = torch.einsum("bdhwc,dkc->bdhwk", qg, _relative_table(d, self.rel_pos_d))
        rh = torch.einsum("bdhwc,hkc->bdhwk", qg, _relative_table(h, self.rel_pos_h))
        rw = torch.einsum("bdhwc,wkc->bdhwk", qg, _relative_table(w, self.rel_pos_w))
        # SAM-Med3D's placement of the three terms (see the module docstring), on the 7-d view
        # (batch, query d, h, w, key d, h, w); it needs a cubic grid, which every crop gives.
        if not d == h == w:
            raise ValueError(f"SAM-Med3D's relative positions need a cubic grid; got {d, h, w}")
        logits = logits.view(b * self.heads, d, h, w, d, h, w)
        logits = logits + rd[:, :, :, :, None, None, :]  # q(qd,qh,qw) . T_d[qd - kw]
        logits = logits + rh[:, :, :, None, :, None, :]  # q(qd,qh,kd) . T_h[qh - kw]
        logits = logits + rw[:, :, :, None, None, :, :]  # q(qd,qh,kh) . T_w[kh - kw]
        attn = logits.view(b * self.heads, n, n).softmax(-1)
        out = (attn @ v).view(b, self.heads, d, h, w, -1).permute(0, 2, 3, 4, 1, 5)
        return self.proj(out.reshape(b, d, h, w, c))


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, window: int, grid: int) -> None:
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)  # SAM-Med3D's norm_layer
        self.attn = _Attention(dim, heads, window if window > 0 else grid)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = _MLP(dim, 4 * dim)

    def forward(self, x: Tensor) -> Tensor:
        y = self.norm1(x)
        if self.window > 0:
            b, d, h, w, c = y.shape
            s = self.window
            pads = [(-n) % s for n in (d, h, w)]
            y = F.pad(y, (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
            dp, hp, wp = d + pads[0], h + pads[1], w + pads[2]
            y = y.view(b, dp // s, s, hp // s, s, wp // s, s, c).permute(0, 1, 3, 5, 2, 4, 6, 7)
            y = self.attn(y.reshape(-1, s, s, s, c))
            y = y.view(b, dp // s, hp // s, wp // s, s, s, s, c).permute(0, 1, 4, 2, 5, 3, 6, 7)
            y = y.reshape(b, dp, hp, wp, c)[:, :d, :h, :w]
        else:
            y = self.attn(y)
        x = x + y
        return x + self.mlp(self.norm2(x))


class ImageEncoder3D(nn.Module):
    """SAM-Med3D's 3-D ViT image encoder (parameter names and shapes as SAM-Med3D's).

    Args:
        img_size: Edge of the cubic input crop.
        patch: Patch edge (the token grid is ``img_size / patch`` per axis).
        embed: Token width ``E``.
        depth: Number of transformer blocks.
        heads: Attention heads per block.
        window: Window edge of the windowed blocks (tokens).
        global_blocks: 0-based indices of the blocks with global attention.
        neck: Output channels of the neck.

    Shapes:
        forward: ``(B, 1, S, S, S)`` -> ``(B, neck, S/p, S/p, S/p)``.
    """

    def __init__(
        self,
        *,
        img_size: int,
        patch: int,
        embed: int,
        depth: int,
        heads: int,
        window: int,
        global_blocks: tuple[int, ...],
        neck: int,
    ) -> None:
        super().__init__()
        if img_size % patch:
            raise InputError(
                f"img_size: the crop {img_size} is not divisible by the patch size {patch}"
            )
        self.img_size, self.patch, self.embed_dim = img_size, patch, embed
        grid = img_size // patch
        self.patch_embed = _PatchEmbed(patch, embed)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid, grid, grid, embed))
        self.blocks = nn.ModuleList(
            _Block(embed, heads, 0 if i in global_blocks else window, grid) for i in range(depth)
        )
        self.neck = nn.Sequential(
            nn.Conv3d(embed, neck, 1, bias=False),
            LayerNorm3d(neck),
            nn.Conv3d(neck, neck, 3, padding=1, bias=False),
            LayerNorm3d(neck),
        )

    def check_input(self, x: Tensor, *, argument: str = "x") -> None:
        """Refuse a crop that is not ``(B, 1, S, S, S)`` (InputError naming ``argument``)."""
        if x.ndim != 5 or x.shape[1] != 1 or any(s != self.img_size for s in x.shape[2:]):
            raise InputError(
                f"{argument}: expected (B, 1, {self.img_size}, {self.img_size}, {self.img_size}); "
                f"got {tuple(x.shape)}"
            )

    def tokens(self, x: Tensor, taps: tuple[int, ...] = ()) -> tuple[Tensor, list[Tensor]]:
        """Run the blocks; return the last tokens ``(B, d, h, w, E)`` and those after ``taps``."""
        self.check_input(x)
        t = self.patch_embed(x) + self.pos_embed
        tapped = []
        for i, block in enumerate(self.blocks, start=1):
            t = block(t)
            if i in taps:
                tapped.append(t)
        return t, tapped

    def forward(self, x: Tensor) -> Tensor:
        """The neck's embedding of a crop.

        Shapes:
            x: ``(B, 1, S, S, S)`` -> ``(B, neck, S/p, S/p, S/p)``.
        """
        t, _ = self.tokens(x)
        return self.neck(t.permute(0, 4, 1, 2, 3))


def build_image_encoder(
    variant: Sam3DVariant = "vit_b_ori", *, img_size: int | None = None
) -> ImageEncoder3D:
    """The image encoder of a SAM-Med3D variant (random weights; load yours with the loader).

    ``"vit_b_ori"`` is SAM-Med3D's ``build_sam3D_vit_b_ori`` encoder (embed 768, 12 blocks, 128³,
    patch 16, neck 384; 92.9 M parameters). **Naming trap:** SAM-Med3D's own ``vit_b`` is another
    model (embed 384 at 256³), not offered here. ``"small"`` (embed 192, depth 4, 64³) serves the
    bench, ``"tiny"`` (embed 48, depth 2, 32³, patch 8, window 3 so padding is exercised) the tests.

    Examples:
        >>> enc = build_image_encoder("tiny")
        >>> tuple(enc(torch.zeros(1, 1, 32, 32, 32)).shape)
        (1, 24, 4, 4, 4)
        >>> enc.blocks[0].attn.rel_pos_d.shape[0], enc.blocks[1].attn.rel_pos_d.shape[0]
        (5, 7)
    """
    if variant not in _SPECS:
        raise InputError(f"variant: expected one of {SAM3D_VARIANTS}; got {variant!r}")
    s = _SPECS[variant]
    size = s.img_size if img_size is None else int(img_size)
    return ImageEncoder3D(
        img_size=size,
        patch=s.patch,
        embed=s.embed,
        depth=s.depth,
        heads=s.heads,
        window=s.window,
        global_blocks=s.global_blocks,
        neck=s.neck,
    )


SamPart = Literal["image_encoder", "all"]
SAM3D_PARTS: tuple[SamPart, ...] = typing.get_args(SamPart)


def _resizable(key: str, prefix: str) -> bool:
    if not key.startswith(prefix):
        return False
    key = key[len(prefix) :]
    return key == "pos_embed" or key.rsplit(".", 1)[-1] in ("rel_pos_d", "rel_pos_h", "rel_pos_w")


def load_sam3d_weights(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    part: SamPart = "image_encoder",
    resize_pos_embed: bool = False,
    min_matched: float = 0.99,
) -> LoadReport:
    """Load a SAM-Med3D / SAM-Brain3D checkpoint into an image encoder or a whole ``Sam3D``.

    ``sciml_core.load_pretrained`` with SAM-Med3D's defaults: the ``model_state_dict`` container
    unwrapped, wrapper prefixes (``module.``, ``_orig_mod.``, ``model.``, ``backbone.``, in any
    order) stripped, and at least ``min_matched`` (0.99) of the target's state-dict entries
    matched by name and shape, and no entry of another shape or of another kind of dtype (an
    integer tensor for a float parameter), or nothing is loaded (the target is left bit for bit
    as it was; the error names the entries). Stricter than ``load_pretrained``, which loads
    around such entries (and than the package spec, section 5.5, which lists and skips them).
    ``part="image_encoder"`` selects the file's ``image_encoder.`` sub-tree and loads it into
    ``model`` (an :class:`ImageEncoder3D`, or a ``Sam3D``'s encoder);
    ``part="all"`` loads the whole file into a ``Sam3D`` (``image_encoder.*``,
    ``prompt_encoder.*``, ``mask_decoder.*``; keys as in the report). A checkpoint made for another
    crop size has other ``pos_embed`` and ``rel_pos_*`` shapes: they are shape mismatches, so the
    file is refused (the error suggests the flag), unless ``resize_pos_embed=True``, which
    resamples them (trilinear for ``pos_embed``, linear for ``rel_pos_*``) and loads them; the
    returned report then lists them in ``matched`` and ``cast`` records nothing about them. The
    tables are read through ``load_pretrained`` too (same unwrapping and renaming); if they
    cannot be resampled (another embedding or head width), the model is restored and the file
    refused.

    Raises:
        InputError: an unknown ``part``, ``part="all"`` for a bare encoder, a missing or
            unreadable file, a wrong SHA-256, a file that does not hold this model (too few
            entries match, or an entry has another shape or dtype kind; counts and keys named),
            position tables that cannot be resampled (the message names ``path``).
    """
    if part not in SAM3D_PARTS:
        raise InputError(f"part: expected one of {SAM3D_PARTS}; got {part!r}")
    inner = getattr(model, "image_encoder", None)
    if part == "all":
        if not all(hasattr(model, a) for a in ("image_encoder", "prompt_encoder", "mask_decoder")):
            raise InputError(
                f"part: 'all' loads a whole Sam3D (build_sam3d); got a {type(model).__name__}"
            )
        target, prefix, select, what = model, "image_encoder.", None, "SAM-3D model"
    else:
        target = inner if isinstance(inner, ImageEncoder3D) else model
        if not isinstance(target, ImageEncoder3D):
            raise TypeError(
                f"model must be an ImageEncoder3D or a Sam3D; got {type(model).__name__}"
            )
        prefix, select, what = "", "image_encoder", "SAM-3D encoder"
    before = {k: v.detach().clone() for k, v in target.state_dict().items()}
    report = load_pretrained(target, path, sha256=sha256, select=select, min_matched=0.0)
    resizable = [m for m in report.shape_mismatch if _resizable(m.key, prefix)]
    matched_after = len(report.matched) + (len(resizable) if resize_pos_embed else 0)
    total = len(report.matched) + len(report.missing) + len(report.shape_mismatch)
    total += len(report.dtype_mismatch)
    fraction = matched_after / max(total, 1)
    # an entry of another shape or another kind of dtype means another architecture or a damaged
    # file: loading around it would leave a randomly initialised tensor in a "pretrained" model
    unresolved = [m for m in report.shape_mismatch if not (resize_pos_embed and m in resizable)]
    if fraction < min_matched or unresolved or report.dtype_mismatch:
        # load_pretrained loaded the matching part already: put the module back as it was.
        target.load_state_dict(before)
        missing = ", ".join(report.missing[:10]) or "none"
        other = (
            ", ".join(
                f"{m.key} {tuple(m.file_shape)} in the file, {tuple(m.module_shape)} here"
                for m in unresolved[:5]
            )
            or "none"
        )
        kinds = (
            ", ".join(
                f"{d.key} {d.file_dtype} in the file, {d.module_dtype} here"
                for d in report.dtype_mismatch[:5]
            )
            or "none"
        )
        only_positions = (
            bool(resizable) and len(resizable) == len(unresolved) and not report.dtype_mismatch
        )
        raise InputError(
            f"path: '{path}' does not hold this {what}: {len(report.matched)} of "
            f"{total} entries match ({fraction:.1%}; at least {min_matched:.0%} and no entry "
            f"of another shape or dtype kind needed); first missing: {missing}; of another "
            f"shape ({len(unresolved)}): {other}; of another dtype kind "
            f"({len(report.dtype_mismatch)}): {kinds}"
            + ("; another crop size? pass resize_pos_embed=True" if only_positions else "")
        )
    if resize_pos_embed and resizable:
        try:
            entries = [(m.key, tuple(m.file_shape)) for m in resizable]
            _load_resized(target, path, report.sha256, select, entries)
        except BaseException as err:
            target.load_state_dict(before)  # nothing of this file stays in the model
            if not isinstance(err, Exception) or isinstance(err, MemoryError):
                raise
            cause = str(err) if isinstance(err, InputError) else f"{type(err).__name__}: {err}"
            raise InputError(
                f"path: cannot resample the position tables of '{path}' "
                f"(resize_pos_embed=True); nothing was loaded: {cause}"
            ) from None
        report = LoadReport(
            matched=report.matched + tuple(m.key for m in resizable),
            missing=report.missing,
            unexpected=report.unexpected,
            shape_mismatch=tuple(m for m in report.shape_mismatch if not _resizable(m.key, prefix)),
            fraction=fraction,
            sha256=report.sha256,
            container=report.container,
            cast=report.cast,
            dtype_mismatch=report.dtype_mismatch,
        )
    return report


def _load_resized(
    target: nn.Module,
    path: str | os.PathLike[str],
    sha256: str,
    select: str | None,
    entries: list[tuple[str, tuple[int, ...]]],
) -> None:
    """Read the file's position tables and copy them, resampled, into ``target``.

    The tables are read by ``load_pretrained`` itself into a holder module that has the file's
    shapes under the target's names, so the file is unwrapped and renamed exactly as for the
    other entries (any order of ``module.``, ``_orig_mod.``, ``model.``, ``backbone.``;
    ``select``), ``.safetensors`` included, and the same file (``sha256``) is read.
    """
    own = target.state_dict()
    holder = nn.Module()
    for key, file_shape in entries:
        *parents, leaf = key.split(".")
        node = holder
        for name in parents:
            child = node._modules.get(name)
            if child is None:
                child = nn.Module()
                node.add_module(name, child)
            node = child
        node.register_buffer(leaf, torch.empty(file_shape, dtype=own[key].dtype))
    load_pretrained(holder, path, sha256=sha256, select=select, min_matched=1.0)
    found = holder.state_dict()
    with torch.no_grad():
        for key, _ in entries:
            src, dst = found[key], own[key]
            if key.rsplit(".", 1)[-1] == "pos_embed":
                if src.ndim != 5 or src.shape[0] != 1 or src.shape[-1] != dst.shape[-1]:
                    raise ValueError(
                        f"{key}: expected (1, d, h, w, {dst.shape[-1]}); got {tuple(src.shape)}"
                    )
                moved = F.interpolate(
                    src.permute(0, 4, 1, 2, 3),
                    size=tuple(dst.shape[1:4]),
                    mode="trilinear",
                    align_corners=False,
                ).permute(0, 2, 3, 4, 1)
            else:
                if src.ndim != 2 or src.shape[1] != dst.shape[1]:
                    raise ValueError(f"{key}: expected (L, {dst.shape[1]}); got {tuple(src.shape)}")
                moved = F.interpolate(src.T[None], size=dst.shape[0], mode="linear")[0].T
            if moved.shape != dst.shape:
                raise ValueError(f"{key}: resampled to {tuple(moved.shape)}, not {dst.shape}")
            dst.copy_(moved)


class ViT3DTaps(nn.Module):
    """A :class:`ImageEncoder3D` as a multi-scale encoder: token maps after chosen blocks.

    With ``pyramid=True`` the ``i``-th of ``n`` taps is upsampled (trilinear) by
    ``2^(n-1-i)``, so the maps go from fine to coarse like a CNN's; otherwise all taps share the
    token grid. The encoder is used as it is (the caller freezes it).

    Args:
        encoder: The ViT.
        blocks: 1-based block indices whose outputs are tapped (default: every block).
        pyramid: Upsample the taps into a pyramid.

    Shapes:
        forward: ``(B, 1, S, S, S)`` -> list of ``(B, E, d_i, d_i, d_i)``, finest first.
    """

    def __init__(
        self,
        encoder: ImageEncoder3D,
        blocks: tuple[int, ...] | None = None,
        *,
        pyramid: bool = False,
    ) -> None:
        super().__init__()
        depth = len(encoder.blocks)
        taps = tuple(range(1, depth + 1)) if blocks is None else tuple(blocks)
        if not taps or any(not 1 <= b <= depth for b in taps) or list(taps) != sorted(set(taps)):
            raise InputError(f"blocks: expected increasing indices in [1, {depth}]; got {blocks}")
        self.encoder = encoder
        self.blocks = taps
        self.pyramid = pyramid
        self.channels = tuple(encoder.embed_dim for _ in taps)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Token maps after the tapped blocks, channels first.

        Shapes:
            x: ``(B, 1, S, S, S)`` -> list of ``(B, E, ...)``, finest first.
        """
        _, tapped = self.encoder.tokens(x, self.blocks)
        maps = [t.permute(0, 4, 1, 2, 3) for t in tapped]
        if self.pyramid:
            n = len(maps)
            maps = [
                F.interpolate(m, scale_factor=2 ** (n - 1 - i), mode="trilinear")
                if i < n - 1
                else m
                for i, m in enumerate(maps)
            ]
        return maps


def count_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalars in ``module``'s parameters (only those with ``requires_grad``).

    Examples:
        >>> count_parameters(build_image_encoder("vit_b_ori")) > 90_000_000
        True
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
