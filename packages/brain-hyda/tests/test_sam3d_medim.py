"""Parity with medim's SAM-Med3D (``medim.models.sam_med3d``, ``pretrained=False``: nothing is
downloaded): the same keys and shapes, its weights load into ours with every entry matched, and
the same outputs from the same weights."""

import pytest
import torch
from brain_hyda import build_sam3d, load_sam3d_weights
from brain_hyda._sam3d import ImageEncoder3D
from brain_hyda._sam3d_decoder import MaskDecoder3D
from brain_hyda._sam3d_model import Sam3D
from brain_hyda._sam3d_prompt import PromptEncoder3D

medim_sam = pytest.importorskip(
    "medim.models.sam_med3d", reason="medim not installed: the SAM-Med3D parity tests skip"
)

# A small SAM-Med3D through medim's own builder: its decoder keeps SAM-Med3D's 8 heads, MLP 2048
# and IoU width 256, so the prompt width is 48 (divisible by 3, by 8 and, halved, by 8 heads).
SMALL = dict(
    encoder_embed_dim=48,
    encoder_depth=2,
    encoder_num_heads=3,
    encoder_global_attn_indexes=[1],
    prompt_embed_dim=48,
    image_size=32,
    vit_patch_size=8,
)


def _ours_small():
    enc = ImageEncoder3D(
        img_size=32, patch=8, embed=48, depth=2, heads=3, window=14, global_blocks=(1,), neck=48
    )
    return Sam3D(enc, PromptEncoder3D(48, 4, 32, 16), MaskDecoder3D(transformer_dim=48)).eval()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    torch.manual_seed(0)
    ref = medim_sam.build_sam3D_vit_b_ori(pretrained=False, **SMALL).eval()
    with torch.no_grad():  # away from the zero-initialised relative positions
        for p in ref.parameters():
            p.add_(0.02 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("medim") / "sam_med3d_small.pth"
    torch.save({"model_state_dict": ref.state_dict()}, path)
    ours = _ours_small()
    report = load_sam3d_weights(ours, path, part="all", min_matched=1.0)
    return ref, ours, report


def test_medim_small_sam_med3d_loads_into_ours_with_every_entry_matched(pair):
    ref, ours, report = pair
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in ref.state_dict().items()
    }
    assert report.fraction == 1.0 and report.unexpected == () and report.shape_mismatch == ()


def _inputs(seed):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(1, 1, 32, 32, 32, generator=g)
    points = torch.randint(0, 32, (1, 3, 3), generator=g).float()
    labels = torch.tensor([[1, 0, 1]])
    return image, points, labels


@pytest.mark.parametrize("multimask", [False, True])
@pytest.mark.parametrize("mask_case", ["previous_logits", "default_zeros", "no_mask_embed"])
def test_same_embedding_prompts_and_masks_as_medim(pair, multimask, mask_case):
    ref, ours, _ = pair
    image, points, labels = _inputs(1)
    mask = torch.randn(1, 1, 16, 16, 16, generator=torch.Generator().manual_seed(2))
    # medim's masks: SAM-Med3D's inference passes zeros at the first click, which is our
    # default (mask_input=None); medim's masks=None is our explicit "no_mask_embed"
    ref_mask = {"previous_logits": mask, "default_zeros": torch.zeros_like(mask)}.get(mask_case)
    our_mask = {"previous_logits": mask, "no_mask_embed": "no_mask_embed"}.get(mask_case)
    with torch.no_grad():
        emb_ref = ref.image_encoder(image)
        sparse_ref, dense_ref = ref.prompt_encoder(
            points=(points, labels), boxes=None, masks=ref_mask
        )
        low_ref, iou_ref = ref.mask_decoder(
            image_embeddings=emb_ref,
            image_pe=ref.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse_ref,
            dense_prompt_embeddings=dense_ref,
            multimask_output=multimask,
        )
        emb = ours.image_encoder(image)
        sparse, dense = ours.prompt_encoder(points, labels, masks=ref_mask)
        low, iou = ours.decode(emb, points, labels, mask_input=our_mask, multimask_output=multimask)
    assert torch.allclose(emb, emb_ref, atol=1e-5)
    assert torch.allclose(ours.prompt_encoder.dense_pe(), ref.prompt_encoder.get_dense_pe())
    assert torch.allclose(sparse, sparse_ref, atol=1e-6)
    assert torch.allclose(dense, dense_ref, atol=1e-6)
    assert torch.allclose(low, low_ref, atol=1e-5)
    assert torch.allclose(iou, iou_ref, atol=1e-5)


@pytest.mark.slow
def test_sam3d_matches_medim_vit_b_ori(tmp_path):
    torch.manual_seed(0)
    ref = medim_sam.build_sam3D_vit_b_ori(pretrained=False).eval()
    path = tmp_path / "sam_med3d.pth"
    torch.save({"model_state_dict": ref.state_dict()}, path)
    ours = build_sam3d("vit_b_ori").eval()
    report = load_sam3d_weights(ours, path, part="all", min_matched=1.0)
    assert report.fraction == 1.0 and report.unexpected == ()
    image = torch.randn(1, 1, 128, 128, 128, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(ours.image_encoder(image), ref.image_encoder(image), atol=1e-5)
