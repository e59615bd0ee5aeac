"""Spec section 9 item 13: items 1, 3 and 4 on CUDA, and a ``vit_b_ori`` adapter step."""

import pytest
import torch
import torch.nn.functional as F
from brain_hyda import (
    HyDA,
    StaticAdapter,
    TinyUNet,
    ViT3DTaps,
    build_image_encoder,
    dice_ce_loss,
    dynamic_depthwise_conv3d,
    hgnn_propagate,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

MODS = ["T1", "FLAIR"]


@pytest.fixture(autouse=True)
def _no_tf32():
    """TF32 rounds float32 conv and matmul factors to 10 bits; the tolerances here are float32's
    (1e-5), so these tests run without it (restored afterwards)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _volumes(device, batch=3, size=16):
    g = torch.Generator().manual_seed(1)
    return {m: torch.randn(batch, 1, size, size, size, generator=g).to(device) for m in MODS}


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_grouped_call_on_cuda_equals_a_per_patient_loop(dtype, tol):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 6, 5, 7, generator=g, dtype=dtype).cuda()
    k = torch.randn(3, 4, 3, 3, 3, generator=g, dtype=dtype).cuda()
    loop = torch.stack(
        [F.conv3d(x[b : b + 1], k[b][:, None], padding=1, groups=4)[0] for b in range(3)]
    )
    assert torch.allclose(dynamic_depthwise_conv3d(x, k), loop, atol=tol, rtol=0)


def test_kernels_on_cuda_differ_per_patient_and_equal_the_cpu_ones():
    torch.manual_seed(0)
    unet = TinyUNet(1, 5).eval()
    model = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2, a_std=1.0)
    g = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    g[2] = g[0]
    cpu_kernels = model.fusions[0].kernels(model.routing(g))
    model = model.cuda()
    alpha = model.routing(g.cuda())
    kernels = model.fusions[0].kernels(alpha)
    assert torch.allclose(alpha.sum(1), torch.ones(3, device="cuda"))
    assert (alpha[0] - alpha[1]).abs().sum() >= 0.05
    assert not torch.allclose(kernels[0], kernels[1])
    assert torch.equal(kernels[0], kernels[2])
    assert torch.allclose(kernels.cpu(), cpu_kernels, atol=1e-5)


@pytest.mark.parametrize("kind", ["hyda", "static"])
def test_zero_init_on_cuda_equals_frozen_model(kind):
    torch.manual_seed(0)
    unet = TinyUNet(1, 5).eval().cuda()
    kw = dict(decoder=unet.decoder, num_classes=2, basis_noise=0.0)
    if kind == "hyda":
        model = HyDA(unet.encoder, MODS, **kw)
    else:
        model = StaticAdapter(unet.encoder, MODS, at_least=50_000, **kw)
    model = model.cuda().eval()
    vols = _volumes("cuda")
    with torch.no_grad():
        out = model(vols, groups=torch.tensor([0, 1, 0], device="cuda"))
        feats = [unet.encoder(vols[m]) for m in MODS]
        ref = model.head(unet.decoder([(a + b) / 2 for a, b in zip(*feats)]))
    assert torch.allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize("norm", ["mean", "sym"])
def test_hgnn_on_cuda_equals_dense_formula(norm, dense_propagation):
    g = torch.Generator().manual_seed(0)
    h = (torch.rand(7, 5, generator=g, dtype=torch.float64) < 0.4).double()
    h[torch.arange(7), torch.arange(7) % 5] = 1.0
    x = torch.randn(7, 3, generator=g, dtype=torch.float64)
    w = torch.rand(5, generator=g, dtype=torch.float64) + 0.5
    p = dense_propagation(h, w, norm)
    got = hgnn_propagate(x.cuda(), h.cuda(), edge_weight=w.cuda(), norm=norm)
    assert got.is_cuda
    assert torch.allclose(got.cpu(), p @ x, atol=1e-12, rtol=0)


def test_vit_b_ori_adapter_step_runs_and_trains_only_the_adapter():
    torch.manual_seed(0)
    enc = build_image_encoder("vit_b_ori")
    taps = ViT3DTaps(enc, tuple(range(1, len(enc.blocks) + 1)))
    model = HyDA(taps, MODS, num_classes=2, upsample=4).cuda()
    vols = _volumes("cuda", batch=2, size=128)
    frozen = {n: p.detach().clone() for n, p in enc.named_parameters()}
    model.update_bank(model.encode(vols))
    y = (vols["T1"][:, 0] > 1.0).long()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    loss = dice_ce_loss(model(vols), y)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert all(torch.equal(p.detach(), frozen[n]) for n, p in enc.named_parameters())
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in trainable)
