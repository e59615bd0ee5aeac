import pytest
import torch
from lat_detect import (
    ConcatLabelSpace,
    LabelSpace,
    LATModel,
    PrivilegedProposalGenerator,
    SemanticFeatureFusion,
    build_backbone,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

# The proposals come from conftest's `sff_proposals` fixture (test modules cannot import each
# other under --import-mode=importlib); K matches its labels.
K, D = 5, 16


def test_sff_on_cuda_equals_cpu(sff_proposals):
    torch.manual_seed(0)
    sff = SemanticFeatureFusion(D, K, 3).double()
    h = torch.randn(12, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    p = sff_proposals(12)
    cpu, _ = sff(h, p)
    gpu, _ = sff.cuda()(h.cuda(), p)
    assert torch.allclose(gpu.cpu(), cpu, atol=1e-5)


def test_one_lat_step_on_cuda_has_finite_losses():
    space = ConcatLabelSpace([LabelSpace("T", ("car", "person")), LabelSpace("A", ("vehicle",))])
    model = LATModel(build_backbone("tiny"), num_classes=3, num_datasets=2).cuda().train()
    gt = torch.tensor([[10.0, 10.0, 40.0, 30.0]])
    props = PrivilegedProposalGenerator()(gt, torch.tensor([1]), image_size=(96, 96))
    losses = model(
        [torch.rand(3, 96, 96).cuda()],
        [props],
        space.mask("T")[None].cuda(),
        [(gt, torch.tensor([1]))],
    )
    assert all(torch.isfinite(v) for v in losses.values())
