import pytest
import torch
from lat_detect import (
    ConcatLabelSpace,
    LabelSpace,
    LATModel,
    PrivilegedProposalGenerator,
    Proposals,
    SemanticFeatureFusion,
    build_backbone,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

# Inlined, not imported from test_sff: under --import-mode=importlib (pyproject) the tests folder
# is not on sys.path, so `from test_sff import ...` raises ModuleNotFoundError.
K, D = 5, 16


def _proposals(m: int) -> Proposals:
    """``m`` seeded proposals (corners in [0, 82]), every other one a GT box; labels ``0..K``."""
    g = torch.Generator().manual_seed(0)
    xy = torch.rand((m, 2), generator=g) * 60
    wh = torch.rand((m, 2), generator=g) * 20 + 2
    is_gt = torch.arange(m) % 2 == 0
    conf = torch.where(is_gt, torch.ones(m), torch.rand(m, generator=g) * 0.5 + 0.4)
    labels = torch.randint(0, K + 1, (m,), generator=g)
    return Proposals(
        torch.cat([xy, xy + wh], 1), labels, conf, is_gt, torch.where(is_gt, torch.arange(m), -1)
    )


def test_sff_on_cuda_equals_cpu():
    torch.manual_seed(0)
    sff = SemanticFeatureFusion(D, K, 3).double()
    h = torch.randn(12, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    p = _proposals(12)
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
