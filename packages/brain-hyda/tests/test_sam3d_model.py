import hashlib

import pytest
import torch
from brain_hyda import (
    MaskDecoder3D,
    PositionEmbeddingRandom3D,
    build_sam3d,
    count_parameters,
    load_sam3d_weights,
)

from sciml_core import InputError

# SAM-Med3D's prompt encoder and mask decoder for vit_b_ori, written from
# segment_anything/build_sam3D.py (_build_sam3D_ori: prompt_embed_dim 384, mask_in_chans 16,
# num_multimask_outputs 3, iou_head_depth 3, iou_head_hidden_dim 256),
# modeling/prompt_encoder3D.py (pe_layer with 384 // 3 = 128 frequencies, two point embeddings,
# mask_downscaling Conv3d(1, 4, 2) LN Conv3d(4, 16, 2) LN Conv3d(16, 384, 1)) and
# modeling/mask_decoder3D.py (TwoWayTransformer3D depth 2, mlp 2048, 8 heads, cross attention
# at 384 / 2 = 192; ConvTranspose3d 384 -> 96 -> 48; hypernetwork MLPs 384 -> 384 -> 384 -> 48).
C, HALF, MLP, IOU_HIDDEN, MASKS = 384, 192, 2048, 256, 4


def _linear(prefix, n_in, n_out):
    return {f"{prefix}.weight": (n_out, n_in), f"{prefix}.bias": (n_out,)}


def _norm(prefix, n):
    return {f"{prefix}.weight": (n,), f"{prefix}.bias": (n,)}


def _attention(prefix, inner):
    out = {}
    for p in ("q_proj", "k_proj", "v_proj"):
        out |= _linear(f"{prefix}.{p}", C, inner)
    return out | _linear(f"{prefix}.out_proj", inner, C)


def _sam_med3d_prompt_and_decoder():
    pe = "prompt_encoder."
    f = {
        pe + "pe_layer.positional_encoding_gaussian_matrix": (3, 128),
        pe + "point_embeddings.0.weight": (1, C),
        pe + "point_embeddings.1.weight": (1, C),
        pe + "not_a_point_embed.weight": (1, C),
        pe + "mask_downscaling.0.weight": (4, 1, 2, 2, 2),
        pe + "mask_downscaling.0.bias": (4,),
        pe + "mask_downscaling.3.weight": (16, 4, 2, 2, 2),
        pe + "mask_downscaling.3.bias": (16,),
        pe + "mask_downscaling.6.weight": (C, 16, 1, 1, 1),
        pe + "mask_downscaling.6.bias": (C,),
        pe + "no_mask_embed.weight": (1, C),
    }
    f |= _norm(pe + "mask_downscaling.1", 4) | _norm(pe + "mask_downscaling.4", 16)
    md = "mask_decoder."
    for i in range(2):
        layer = f"{md}transformer.layers.{i}."
        f |= _attention(layer + "self_attn", C)
        f |= _attention(layer + "cross_attn_token_to_image", HALF)
        f |= _attention(layer + "cross_attn_image_to_token", HALF)
        f |= _linear(layer + "mlp.lin1", C, MLP) | _linear(layer + "mlp.lin2", MLP, C)
        for n in range(1, 5):
            f |= _norm(f"{layer}norm{n}", C)
    f |= _attention(md + "transformer.final_attn_token_to_image", HALF)
    f |= _norm(md + "transformer.norm_final_attn", C)
    f[md + "iou_token.weight"] = (1, C)
    f[md + "mask_tokens.weight"] = (MASKS, C)
    f[md + "output_upscaling.0.weight"] = (C, C // 4, 2, 2, 2)  # ConvTranspose3d: (in, out, k³)
    f[md + "output_upscaling.0.bias"] = (C // 4,)
    f |= _norm(md + "output_upscaling.1", C // 4)
    f[md + "output_upscaling.3.weight"] = (C // 4, C // 8, 2, 2, 2)
    f[md + "output_upscaling.3.bias"] = (C // 8,)
    for k in range(MASKS):
        h = f"{md}output_hypernetworks_mlps.{k}.layers."
        f |= _linear(h + "0", C, C) | _linear(h + "1", C, C) | _linear(h + "2", C, C // 8)
    h = md + "iou_prediction_head.layers."
    f |= _linear(h + "0", C, IOU_HIDDEN) | _linear(h + "1", IOU_HIDDEN, IOU_HIDDEN)
    return f | _linear(h + "2", IOU_HIDDEN, MASKS)


SAM_MED3D_PROMPT_AND_DECODER = _sam_med3d_prompt_and_decoder()


@pytest.fixture(scope="module")
def vit_b_ori():
    with torch.device("meta"):
        return build_sam3d("vit_b_ori")


def test_vit_b_ori_prompt_encoder_and_decoder_have_sam_med3d_keys_and_shapes(vit_b_ori):
    shapes = {k: tuple(v.shape) for k, v in vit_b_ori.state_dict().items()}
    ours = {k: s for k, s in shapes.items() if not k.startswith("image_encoder.")}
    assert ours == SAM_MED3D_PROMPT_AND_DECODER
    # the encoder sub-tree is the encoder's own layout (pinned in test_sam3d.py); nothing else
    assert len(shapes) - len(ours) == 3 + 12 * 15 + 6


def test_vit_b_ori_prompt_encoder_and_decoder_parameter_count(vit_b_ori):
    # from SAM-Med3D's definitions; the Gaussian matrix is a buffer, not a parameter
    lin = lambda i, o: i * o + o  # noqa: E731
    attn = lambda inner: 3 * lin(C, inner) + lin(inner, C)  # noqa: E731
    prompt = 3 * C + (4 * 8 + 4) + 2 * 4 + (16 * 4 * 8 + 16) + 2 * 16 + lin(16, C) + C
    block = attn(C) + 2 * attn(HALF) + lin(C, MLP) + lin(MLP, C) + 4 * 2 * C
    decoder = 2 * block + attn(HALF) + 2 * C + C + MASKS * C
    decoder += C * (C // 4) * 8 + C // 4 + 2 * (C // 4) + (C // 4) * (C // 8) * 8 + C // 8
    decoder += MASKS * (2 * lin(C, C) + lin(C, C // 8))
    decoder += lin(C, IOU_HIDDEN) + lin(IOU_HIDDEN, IOU_HIDDEN) + lin(IOU_HIDDEN, MASKS)
    assert (prompt, decoder) == (8_668, 7_575_636)  # the arithmetic above, evaluated
    assert count_parameters(vit_b_ori.prompt_encoder) == prompt
    assert count_parameters(vit_b_ori.mask_decoder) == decoder


def _random_tiny(seed=1, **kw):
    torch.manual_seed(seed)
    sam = build_sam3d("tiny", **kw)
    with torch.no_grad():
        for p in sam.parameters():
            p.normal_(0.0, 0.1)
    return sam.eval()


def _sam_checkpoint(path, state, prefix="module."):
    """SAM-Med3D's training layout: model_state_dict of the whole Sam3D, DDP prefix."""
    weights = {f"{prefix}{k}": v.clone() for k, v in state.items()}
    torch.save({"epoch": 3, "model_state_dict": weights, "optimizer_state_dict": {}}, path)
    return path


def test_a_whole_sam_med3d_layout_checkpoint_loads_with_the_expected_report(tmp_path):
    src = _random_tiny()
    path = _sam_checkpoint(tmp_path / "sam_med3d.pth", src.state_dict())
    dst = build_sam3d("tiny")
    report = load_sam3d_weights(dst, path, part="all")
    keys = tuple(dst.state_dict())
    assert report.matched == keys and report.fraction == 1.0
    assert report.missing == () and report.unexpected == () and report.shape_mismatch == ()
    assert report.container == "model_state_dict"
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert all(torch.equal(dst.state_dict()[k], src.state_dict()[k]) for k in keys)
    assert any(k.startswith("prompt_encoder.pe_layer.") for k in keys)  # the buffer travels too


def test_part_image_encoder_loads_only_the_encoder_of_a_whole_model(tmp_path):
    src = _random_tiny()
    path = _sam_checkpoint(tmp_path / "sam_med3d.pth", src.state_dict())
    dst = build_sam3d("tiny")
    decoder_before = {k: v.clone() for k, v in dst.mask_decoder.state_dict().items()}
    report = load_sam3d_weights(dst, path)
    assert report.matched == tuple(dst.image_encoder.state_dict())
    assert torch.equal(dst.image_encoder.pos_embed, src.image_encoder.pos_embed)
    assert all(torch.equal(decoder_before[k], v) for k, v in dst.mask_decoder.state_dict().items())


@pytest.mark.parametrize(
    "key",
    ["mask_decoder.iou_token.weight", "prompt_encoder.mask_downscaling.6.weight"],
)
def test_an_entry_of_another_shape_is_refused_naming_it_and_nothing_loads(tmp_path, key):
    state = _random_tiny().state_dict()
    state[key] = torch.zeros(*state[key].shape[:-1], state[key].shape[-1] + 1)
    path = _sam_checkpoint(tmp_path / "bad.pth", state)
    dst = build_sam3d("tiny")
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(InputError, match=key.replace(".", r"\.")):
        load_sam3d_weights(dst, path, part="all")
    assert all(torch.equal(before[k], v) for k, v in dst.state_dict().items())


def test_a_whole_model_of_another_crop_size_loads_only_with_resize_pos_embed(tmp_path):
    src = _random_tiny(img_size=48)  # 6^3 tokens: other pos_embed and global rel_pos shapes
    path = _sam_checkpoint(tmp_path / "crop48.pth", src.state_dict())
    with pytest.raises(InputError, match="resize_pos_embed"):
        load_sam3d_weights(build_sam3d("tiny"), path, part="all")
    dst = build_sam3d("tiny")
    report = load_sam3d_weights(dst, path, part="all", resize_pos_embed=True)
    assert report.fraction == 1.0 and report.shape_mismatch == ()
    assert "image_encoder.pos_embed" in report.matched
    assert tuple(dst.image_encoder.pos_embed.shape) == (1, 4, 4, 4, 48)
    assert torch.equal(dst.mask_decoder.iou_token.weight, src.mask_decoder.iou_token.weight)


@pytest.mark.parametrize("part", ["all", "image_encoder"])
@pytest.mark.parametrize("prefix", ["backbone.", "_orig_mod.module.", "module._orig_mod."])
def test_another_crop_size_resizes_whatever_wrapper_prefixes_the_file_carries(
    tmp_path, prefix, part
):
    src = _random_tiny(img_size=48)
    path = _sam_checkpoint(tmp_path / "crop48.pth", src.state_dict(), prefix=prefix)
    dst = build_sam3d("tiny")
    report = load_sam3d_weights(dst, path, part=part, resize_pos_embed=True)
    assert report.fraction == 1.0 and report.shape_mismatch == ()
    want = torch.nn.functional.interpolate(
        src.image_encoder.pos_embed.permute(0, 4, 1, 2, 3), size=(4, 4, 4), mode="trilinear"
    ).permute(0, 2, 3, 4, 1)
    assert torch.allclose(dst.image_encoder.pos_embed, want, atol=1e-6)
    enc = dst.image_encoder.blocks[1].attn
    assert torch.equal(enc.qkv.weight, src.image_encoder.blocks[1].attn.qkv.weight)


def test_a_safetensors_file_of_another_crop_size_resizes(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    src = _random_tiny(img_size=48)
    path = tmp_path / "crop48.safetensors"
    safetensors_torch.save_file({k: v.contiguous() for k, v in src.state_dict().items()}, path)
    dst = build_sam3d("tiny")
    report = load_sam3d_weights(dst, path, part="all", resize_pos_embed=True)
    assert report.fraction == 1.0
    assert torch.equal(dst.mask_decoder.iou_token.weight, src.mask_decoder.iou_token.weight)


def _widen_last(t):
    return torch.cat([t, t[..., :1]], dim=-1)


@pytest.mark.parametrize("prefix", ["module.", "backbone."])
@pytest.mark.parametrize(
    "key", ["image_encoder.pos_embed", "image_encoder.blocks.1.attn.rel_pos_d"]
)
def test_position_tables_that_cannot_be_resampled_leave_the_model_unchanged(tmp_path, key, prefix):
    state = _random_tiny(img_size=48).state_dict()
    state[key] = _widen_last(state[key])  # another embedding / head width: not a crop size
    path = _sam_checkpoint(tmp_path / "broken.pth", state, prefix=prefix)
    dst = build_sam3d("tiny")
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(InputError, match=r"^path: .*" + key.replace(".", r"\.")):
        load_sam3d_weights(dst, path, part="all", resize_pos_embed=True)
    assert all(torch.equal(before[k], v) for k, v in dst.state_dict().items())


def test_an_entry_of_another_dtype_kind_is_refused_even_above_min_matched(tmp_path):
    state = _random_tiny().state_dict()
    key = "mask_decoder.iou_token.weight"
    state[key] = torch.ones_like(state[key], dtype=torch.int64)  # 1 of 176 entries
    path = _sam_checkpoint(tmp_path / "int.pth", state)
    dst = build_sam3d("tiny")
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(InputError, match=r"mask_decoder\.iou_token\.weight int64"):
        load_sam3d_weights(dst, path, part="all", min_matched=0.5)
    assert all(torch.equal(before[k], v) for k, v in dst.state_dict().items())


def test_part_all_needs_a_whole_model(tmp_path):
    path = _sam_checkpoint(tmp_path / "a.pth", _random_tiny().state_dict())
    with pytest.raises(InputError, match="part"):
        load_sam3d_weights(build_sam3d("tiny").image_encoder, path, part="all")


def test_box_corner_embeddings_are_reported_missing_from_a_sam_med3d_file(tmp_path):
    path = _sam_checkpoint(tmp_path / "a.pth", _random_tiny().state_dict())
    dst = build_sam3d("tiny", box_prompts=True)
    # 2 missing of tiny's 176 entries is 98.9 % (of vit_b_ori's 326, 99.4 %: the default passes)
    report = load_sam3d_weights(dst, path, part="all", min_matched=0.98)
    assert report.missing == (
        "prompt_encoder.point_embeddings.2.weight",
        "prompt_encoder.point_embeddings.3.weight",
    )


# --- forward ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(3)
    return build_sam3d("tiny").eval()  # default init: the prompts move the logits visibly


def _clicks(b, n, seed):
    g = torch.Generator().manual_seed(seed)
    pts = torch.randint(0, 32, (b, n, 3), generator=g).float()
    lab = torch.randint(0, 2, (b, n), generator=g)
    return pts, lab


@pytest.mark.parametrize("multimask,m", [(False, 1), (True, 3)])
def test_mask_logits_have_the_input_grid(tiny, multimask, m):
    image = torch.randn(2, 1, 32, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits, iou = tiny(image, *_clicks(2, 3, 1), multimask_output=multimask)
    assert tuple(logits.shape) == (2, m, 32, 32, 32) and tuple(iou.shape) == (2, m)
    assert torch.isfinite(logits).all()


def test_same_point_same_embedding_whatever_the_batch_order(tiny):
    pts, lab = _clicks(3, 4, 2)
    pe = tiny.prompt_encoder
    with torch.no_grad():
        a, _ = pe(pts, lab)
        perm = torch.tensor([2, 0, 1])
        b, _ = pe(pts[perm], lab[perm])
        c, _ = pe(pts[:, [3, 1, 0, 2]], lab[:, [3, 1, 0, 2]])
        moved, _ = pe(pts[:1, :1] + 1.0, lab[:1, :1])
    assert torch.equal(a[perm], b)
    assert torch.equal(a[:, [3, 1, 0, 2]], c[:, :4])  # per point, not per sequence position
    assert not torch.allclose(a[0, 0], moved[0, 0], atol=1e-3)  # another point, another code


def test_label_embeddings_and_the_padding_point(tiny):
    pe = tiny.prompt_encoder
    p = torch.tensor([[[5.0, 9.0, 20.0]]])
    with torch.no_grad():
        pos, _ = pe(p, torch.tensor([[1]]))
        neg, _ = pe(p, torch.tensor([[0]]))
        pad, _ = pe(p, torch.tensor([[-1]]))
        fourier = pe.pe_layer((p + 0.5) / 32)[0, 0]
    w = pe.point_embeddings
    assert torch.allclose(pos[0, 0], fourier + w[1].weight[0], atol=1e-6)
    assert torch.allclose(neg[0, 0], fourier + w[0].weight[0], atol=1e-6)
    # label -1 and the appended padding point carry the not-a-point embedding only
    assert torch.equal(pad[0, 0], pe.not_a_point_embed.weight[0])
    assert pos.shape[1] == 2 and torch.equal(pos[0, 1], pe.not_a_point_embed.weight[0])


def test_a_box_embeds_as_its_two_corner_points_with_the_corner_embeddings():
    sam = _random_tiny(seed=4, box_prompts=True)
    pe = sam.prompt_encoder
    lo, hi = torch.tensor([3.0, 7.0, 11.0]), torch.tensor([20.0, 25.0, 30.0])
    with torch.no_grad():
        box, _ = pe(boxes=torch.cat([lo, hi])[None])
        corners, _ = pe(torch.stack([lo, hi])[None], torch.tensor([[1, 1]]))
    w = pe.point_embeddings
    assert box.shape == (1, 2, 24)  # no padding point with a box
    assert torch.allclose(box[0, 0] - corners[0, 0], w[2].weight[0] - w[1].weight[0], atol=1e-6)
    assert torch.allclose(box[0, 1] - corners[0, 1], w[3].weight[0] - w[1].weight[0], atol=1e-6)


def test_boxes_without_corner_embeddings_are_refused(tiny):
    with pytest.raises(InputError, match="box_prompts=True"):
        tiny.prompt_encoder(boxes=torch.zeros(1, 6))


def test_dense_encoding_is_the_point_encoding_at_cell_centres_in_sam_med3d_axis_order(tiny):
    layer = tiny.prompt_encoder.pe_layer
    grid = tiny.prompt_encoder.dense_pe()[0]  # (C, 4, 4, 4)
    n = 4
    for i, j, k in [(0, 1, 2), (3, 0, 1), (2, 3, 3)]:
        u = torch.tensor([(j + 0.5) / n, (i + 0.5) / n, (k + 0.5) / n])  # first coord on axis 1
        assert torch.allclose(grid[:, i, j, k], layer(u), atol=1e-6)
    assert not torch.allclose(grid[:, 0, 1, 2], grid[:, 1, 0, 2])


def test_one_image_with_two_prompts_equals_two_single_prompt_decodes(tiny):
    image = torch.randn(1, 1, 32, 32, 32, generator=torch.Generator().manual_seed(5))
    pts, lab = _clicks(2, 2, 6)
    with torch.no_grad():
        emb = tiny.image_encoder(image)
        both, iou_both = tiny.decode(emb, pts, lab, multimask_output=True)
        one = [
            tiny.decode(emb, pts[i : i + 1], lab[i : i + 1], multimask_output=True) for i in (0, 1)
        ]
    assert tuple(both.shape) == (2, 3, 16, 16, 16)
    for i in (0, 1):
        assert torch.allclose(both[i], one[i][0][0], atol=1e-6)
        assert torch.allclose(iou_both[i], one[i][1][0], atol=1e-6)
    assert not torch.allclose(both[0], both[1], atol=1e-3)  # the prompts matter


def test_the_forward_is_the_decode_resized_trilinearly(tiny):
    image = torch.randn(1, 1, 32, 32, 32, generator=torch.Generator().manual_seed(7))
    pts, lab = _clicks(1, 2, 8)
    with torch.no_grad():
        logits, _ = tiny(image, pts, lab)
        low, _ = tiny.decode(tiny.image_encoder(image), pts, lab)
    # SAM-Med3D's inference: trilinear, align_corners=False, from 4n = 16 to the 32^3 crop
    ref = torch.nn.functional.interpolate(low, size=(32, 32, 32), mode="trilinear")
    assert torch.equal(logits, ref)


def test_a_mask_prompt_changes_the_output_and_has_to_match_the_low_resolution_grid(tiny):
    image = torch.randn(1, 1, 32, 32, 32, generator=torch.Generator().manual_seed(9))
    pts, lab = _clicks(1, 1, 10)
    with torch.no_grad():
        emb = tiny.image_encoder(image)
        plain, _ = tiny.decode(emb, pts, lab)
        # previous-round logits at a trained model's scale (this random model's are ~0.1)
        prev = 4.0 * torch.randn(1, 1, 16, 16, 16, generator=torch.Generator().manual_seed(11))
        again, _ = tiny.decode(emb, pts, lab, mask_input=prev)
    assert not torch.allclose(plain, again, atol=1e-4)
    with pytest.raises(InputError, match="mask_input"):
        tiny.decode(emb, pts, lab, mask_input=torch.zeros(1, 1, 32, 32, 32))


@pytest.mark.parametrize(
    "points,labels,match",
    [
        (torch.zeros(1, 2), torch.ones(1, 2, dtype=torch.long), "points"),
        (torch.zeros(1, 2, 3), torch.ones(1, 3, dtype=torch.long), "labels"),
        (torch.zeros(1, 2, 3), torch.full((1, 2), 0.5), "labels"),
        (torch.zeros(1, 2, 3), torch.full((1, 2), float("nan")), "labels"),
        (torch.zeros(1, 2, 3), torch.ones(1, 2, dtype=torch.bool), "labels"),
        (torch.zeros(1, 2, 3), torch.full((1, 2), 2), "labels"),
        (torch.full((1, 2, 3), float("nan")), torch.ones(1, 2, dtype=torch.long), "points"),
    ],
)
def test_malformed_point_prompts_are_refused_naming_the_argument(tiny, points, labels, match):
    with pytest.raises(InputError, match=match):
        tiny(torch.zeros(1, 1, 32, 32, 32), points, labels)


def test_whole_float_labels_act_as_integer_labels(tiny):
    pts, lab = _clicks(1, 3, 11)
    with torch.no_grad():
        as_int, _ = tiny.prompt_encoder(pts, lab)
        as_float, _ = tiny.prompt_encoder(pts, lab.float())
    assert torch.equal(as_int, as_float)


def test_prompts_of_another_batch_than_the_image_are_refused(tiny):
    with pytest.raises(InputError, match="points"):
        tiny(torch.zeros(2, 1, 32, 32, 32), *_clicks(3, 1, 0))


# --- the mask prompt by default: SAM-Med3D's zeros -----------------------------------------


def test_no_mask_input_is_a_zero_low_resolution_mask_as_in_sam_med3d(tiny):
    image = torch.randn(2, 1, 32, 32, 32, generator=torch.Generator().manual_seed(13))
    pts, lab = _clicks(2, 1, 14)
    with torch.no_grad():
        emb = tiny.image_encoder(image)
        default, iou = tiny.decode(emb, pts, lab)
        zeros, iou_zeros = tiny.decode(emb, pts, lab, mask_input=torch.zeros(2, 1, 16, 16, 16))
        full, _ = tiny(image, pts, lab)
        full_zeros, _ = tiny(image, pts, lab, mask_input=torch.zeros(2, 1, 16, 16, 16))
    assert torch.equal(default, zeros) and torch.equal(iou, iou_zeros)
    assert torch.equal(full, full_zeros)


def test_no_mask_embed_is_an_explicit_opt_in_that_differs_from_zeros(tiny):
    emb = tiny.image_encoder(
        torch.randn(1, 1, 32, 32, 32, generator=torch.Generator().manual_seed(15))
    )
    pts, lab = _clicks(1, 1, 16)
    with torch.no_grad():
        default, _ = tiny.decode(emb, pts, lab)
        opted, _ = tiny.decode(emb, pts, lab, mask_input="no_mask_embed")
        _, dense = tiny.prompt_encoder(pts, lab)  # the prompt encoder's own None: no_mask_embed
    assert not torch.allclose(default, opted, atol=1e-4)
    want = tiny.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1, 1).expand_as(dense)
    assert torch.equal(dense, want)


@pytest.mark.parametrize("bad", ["none", "zeros", 0])
def test_an_unknown_mask_input_is_refused_naming_it(tiny, bad):
    with pytest.raises(InputError, match="mask_input"):
        tiny(torch.zeros(1, 1, 32, 32, 32), *_clicks(1, 1, 0), mask_input=bad)


def test_a_crop_of_the_wrong_shape_is_refused_naming_image(tiny):
    with pytest.raises(InputError, match=r"^image: "):
        tiny(torch.zeros(1, 1, 16, 16, 16), *_clicks(1, 1, 0))


def test_prompt_batches_are_checked_before_the_encoder_runs(tiny, monkeypatch):
    def no_encoder(x):
        raise AssertionError("the encoder ran on prompts that are refused")

    monkeypatch.setattr(tiny.image_encoder, "forward", no_encoder)
    with pytest.raises(InputError, match="points"):
        tiny(torch.zeros(2, 1, 32, 32, 32), *_clicks(3, 1, 0))


def test_one_prompt_set_serves_every_embedding_of_a_batch(tiny):
    image = torch.randn(2, 1, 32, 32, 32, generator=torch.Generator().manual_seed(17))
    pts, lab = _clicks(1, 1, 18)
    with torch.no_grad():
        emb = tiny.image_encoder(image)
        both, _ = tiny.decode(emb, pts, lab)
        second, _ = tiny.decode(emb[1:], pts, lab)
    assert tuple(both.shape) == (2, 1, 16, 16, 16)
    assert torch.allclose(both[1], second[0], atol=1e-6)


@pytest.mark.parametrize(
    "shape", [(3, 24, 4, 4, 4), (1, 24, 8, 8, 8), (1, 48, 4, 4, 4), (24, 4, 4, 4)]
)
def test_an_image_embedding_of_the_wrong_shape_is_refused_naming_it(tiny, shape):
    pts, lab = _clicks(2, 1, 0)
    with pytest.raises(InputError, match=r"^image_embedding: "):
        tiny.decode(torch.zeros(shape), pts, lab)


@pytest.mark.parametrize(
    "point", [(-1.0, 5.0, 5.0), (32.0, 5.0, 5.0), (5.0, 5.0, 40.0), (5.0, -0.5, 5.0)]
)
def test_points_outside_the_crop_are_refused_naming_points(tiny, point):
    with pytest.raises(InputError, match=r"^points: .*\[0, 32\)"):
        tiny(torch.zeros(1, 1, 32, 32, 32), torch.tensor([[point]]), torch.tensor([[1]]))


def test_padding_points_may_lie_anywhere(tiny):
    pts = torch.tensor([[[5.0, 6.0, 7.0], [-1.0, -1.0, -1.0]]])
    with torch.no_grad():
        padded, _ = tiny.prompt_encoder(pts, torch.tensor([[1, -1]]))
        at_zero, _ = tiny.prompt_encoder(pts.clamp(min=0), torch.tensor([[1, -1]]))
    assert torch.equal(padded, at_zero)


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_a_non_positive_frequency_scale_is_refused_naming_scale(scale):
    with pytest.raises(InputError, match=r"^scale: "):
        PositionEmbeddingRandom3D(8, scale=scale)


@pytest.mark.parametrize("heads,dim", [(5, 48), (16, 48), (0, 48)])
def test_heads_that_do_not_divide_the_widths_are_refused_naming_both(heads, dim):
    with pytest.raises(InputError, match=r"^heads, transformer_dim: "):
        MaskDecoder3D(transformer_dim=dim, heads=heads)


@pytest.mark.parametrize("dim", [20, 0, -8])
def test_a_transformer_dim_not_a_positive_multiple_of_8_is_refused_naming_it(dim):
    with pytest.raises(InputError, match=r"^transformer_dim: "):
        MaskDecoder3D(transformer_dim=dim, heads=1)
