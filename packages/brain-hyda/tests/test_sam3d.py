import hashlib

import pytest
import torch
from brain_hyda import ViT3DTaps, build_image_encoder, load_sam3d_weights

from sciml_core import InputError

# SAM-Med3D's key patterns and shapes for vit_b_ori (segment_anything/build_sam3D.py,
# modeling/image_encoder3D.py): embed 768, 12 blocks, heads 12 (head dim 64), 8^3 tokens,
# window 14 (27 relative rows) except the global blocks 2, 5, 8, 11 (15 rows), neck 384.
VIT_B_ORI = {
    "patch_embed.proj.weight": (768, 1, 16, 16, 16),
    "patch_embed.proj.bias": (768,),
    "pos_embed": (1, 8, 8, 8, 768),
    "blocks.0.norm1.weight": (768,),
    "blocks.0.attn.qkv.weight": (2304, 768),
    "blocks.0.attn.qkv.bias": (2304,),
    "blocks.0.attn.proj.weight": (768, 768),
    "blocks.0.attn.rel_pos_d": (27, 64),
    "blocks.0.attn.rel_pos_h": (27, 64),
    "blocks.0.attn.rel_pos_w": (27, 64),
    "blocks.2.attn.rel_pos_d": (15, 64),
    "blocks.11.attn.rel_pos_w": (15, 64),
    "blocks.0.mlp.lin1.weight": (3072, 768),
    "blocks.0.mlp.lin2.weight": (768, 3072),
    "blocks.11.norm2.bias": (768,),
    "neck.0.weight": (384, 768, 1, 1, 1),
    "neck.1.weight": (384,),
    "neck.2.weight": (384, 384, 3, 3, 3),
    "neck.3.bias": (384,),
}


def test_vit_b_ori_has_sam_med3d_key_patterns_and_shapes():
    with torch.device("meta"):
        enc = build_image_encoder("vit_b_ori")
    shapes = {k: tuple(v.shape) for k, v in enc.state_dict().items()}
    assert {k: shapes[k] for k in VIT_B_ORI} == VIT_B_ORI
    # patch embed 2, pos 1, per block 15 (2 norms x 2, qkv 2, proj 2, 3 rel_pos, mlp 4), neck 6
    assert len(shapes) == 3 + 12 * 15 + 6


def _sam_checkpoint(path, encoder, *, prefix="module.", extra=True):
    """A file in SAM-Med3D's training layout: model_state_dict of the whole Sam3D."""
    state = {f"{prefix}image_encoder.{k}": v.clone() for k, v in encoder.state_dict().items()}
    if extra:
        state[f"{prefix}prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"] = torch.randn(
            3, 192
        )
        state[f"{prefix}mask_decoder.iou_token.weight"] = torch.randn(1, 384)
    torch.save({"epoch": 3, "model_state_dict": state, "optimizer_state_dict": {}}, path)
    return path


def _trained_tiny(seed=1, img_size=None):
    torch.manual_seed(seed)
    enc = build_image_encoder("tiny", img_size=img_size)
    with torch.no_grad():
        for p in enc.parameters():
            p.normal_(0.0, 0.05)
    return enc


def test_a_sam_med3d_layout_checkpoint_loads_with_the_expected_report(tmp_path):
    src = _trained_tiny()
    path = _sam_checkpoint(tmp_path / "sam_med3d.pth", src)
    dst = build_image_encoder("tiny")
    report = load_sam3d_weights(dst, path)
    keys = list(dst.state_dict())
    assert report.matched == tuple(keys)
    assert report.missing == () and report.shape_mismatch == () and report.unexpected == ()
    assert report.fraction == 1.0
    assert report.container == "model_state_dict"
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert all(torch.equal(dst.state_dict()[k], src.state_dict()[k]) for k in keys)


def test_wrong_sha256_is_refused_naming_both_digests(tmp_path):
    path = _sam_checkpoint(tmp_path / "a.pth", _trained_tiny())
    real = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(InputError) as err:
        load_sam3d_weights(build_image_encoder("tiny"), path, sha256="0" * 64)
    assert real in str(err.value) and "0" * 64 in str(err.value)


def test_a_decoder_only_file_raises_and_loads_nothing(tmp_path):
    path = tmp_path / "dec.pth"
    torch.save({"model_state_dict": {"mask_decoder.iou_token.weight": torch.randn(1, 24)}}, path)
    dst = build_image_encoder("tiny")
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(InputError, match="image_encoder"):
        load_sam3d_weights(dst, path)
    assert all(torch.equal(before[k], v) for k, v in dst.state_dict().items())


def test_another_encoder_is_refused_and_nothing_is_loaded(tmp_path):
    torch.manual_seed(0)
    other = build_image_encoder("small")  # other widths: every shape differs
    path = _sam_checkpoint(tmp_path / "small.pth", other)
    dst = build_image_encoder("tiny")
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(InputError, match="does not hold this SAM-3D encoder"):
        load_sam3d_weights(dst, path)
    assert all(torch.equal(before[k], v) for k, v in dst.state_dict().items())


def test_another_crop_size_lists_position_tables_and_resizes_only_when_asked(tmp_path):
    src = _trained_tiny(img_size=48)  # 6^3 tokens: other pos_embed and global rel_pos
    path = _sam_checkpoint(tmp_path / "crop48.pth", src)
    with pytest.raises(InputError, match="resize_pos_embed"):
        load_sam3d_weights(build_image_encoder("tiny"), path)
    dst = build_image_encoder("tiny")
    report = load_sam3d_weights(dst, path, resize_pos_embed=True)
    assert report.fraction == 1.0 and report.shape_mismatch == ()
    assert "pos_embed" in report.matched and "blocks.1.attn.rel_pos_d" in report.matched
    assert tuple(dst.pos_embed.shape) == (1, 4, 4, 4, 48)
    assert torch.equal(dst.blocks[0].attn.qkv.weight, src.blocks[0].attn.qkv.weight)


def test_a_pickled_module_is_refused(tmp_path):
    path = tmp_path / "module.pth"
    torch.save(build_image_encoder("tiny"), path)
    with pytest.raises(InputError):
        load_sam3d_weights(build_image_encoder("tiny"), path)


def test_window_attention_stays_inside_its_window():
    # tiny: 4^3 tokens, window 3 -> padded to 6^3, 8 windows; changing a token in the first
    # window must not change block 0's output in a token of another window
    enc = _trained_tiny()
    t = torch.randn(1, 4, 4, 4, 48)
    t2 = t.clone()
    t2[0, 0, 0, 0] += 3.0 * torch.randn(48)  # (a constant shift would vanish in LayerNorm)
    a, b = enc.blocks[0](t), enc.blocks[0](t2)
    assert torch.allclose(a[0, 3, 3, 3], b[0, 3, 3, 3], atol=1e-6)
    assert not torch.allclose(a[0, 1, 1, 1], b[0, 1, 1, 1], atol=1e-4)
    g1, g2 = enc.blocks[1](t), enc.blocks[1](t2)  # block 1 is global
    assert not torch.allclose(g1[0, 3, 3, 3], g2[0, 3, 3, 3], atol=1e-4)


@pytest.mark.parametrize("pyramid,sizes", [(False, [4, 4]), (True, [8, 4])])
def test_vit_taps_give_maps_finest_first(pyramid, sizes):
    taps = ViT3DTaps(build_image_encoder("tiny"), (1, 2), pyramid=pyramid)
    maps = taps(torch.randn(2, 1, 32, 32, 32))
    assert [m.shape[-1] for m in maps] == sizes and all(m.shape[1] == 48 for m in maps)


def test_a_crop_of_another_size_is_refused():
    with pytest.raises(InputError, match="32"):
        build_image_encoder("tiny")(torch.randn(1, 1, 16, 16, 16))


def test_a_crop_not_divisible_by_the_patch_is_refused():
    with pytest.raises(InputError, match="not divisible by the patch size 8"):
        build_image_encoder("tiny", img_size=36)


def test_relative_positions_are_placed_as_sam_med3d_places_them():
    # SAM-Med3D's add_decomposed_rel_pos broadcasts its three terms onto the 7-d logits
    # (qd, qh, qw, kd, kh, kw) as: q(qd,qh,qw).Td[qd-kw] + q(qd,qh,kd).Th[qh-kw]
    # + q(qd,qh,kh).Tw[kh-kw] (offsets + n - 1); its checkpoints were trained with exactly this.
    from brain_hyda._sam3d import _Attention

    torch.manual_seed(0)
    n, c = 3, 4
    attn = _Attention(c, 1, n)
    with torch.no_grad():
        for t in (attn.rel_pos_d, attn.rel_pos_h, attn.rel_pos_w):
            t.normal_()
    x = torch.randn(1, n, n, n, c)
    q, k, v = attn.qkv(x)[0].split(c, dim=-1)  # (n, n, n, c) each
    td, th, tw = attn.rel_pos_d, attn.rel_pos_h, attn.rel_pos_w
    cells = [(a, b, e) for a in range(n) for b in range(n) for e in range(n)]
    logits = torch.empty(len(cells), len(cells))
    for i, (qd, qh, qw) in enumerate(cells):
        for j, (kd, kh, kw) in enumerate(cells):
            logits[i, j] = (
                q[qd, qh, qw] @ k[kd, kh, kw] / c**0.5
                + q[qd, qh, qw] @ td[qd - kw + n - 1]
                + q[qd, qh, kd] @ th[qh - kw + n - 1]
                + q[qd, qh, kh] @ tw[kh - kw + n - 1]
            )
    ref = attn.proj(logits.softmax(-1) @ v.reshape(-1, c)).reshape(1, n, n, n, c)
    assert torch.allclose(attn(x), ref, atol=1e-5)
