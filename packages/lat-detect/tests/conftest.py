import pytest
import torch
from hypothesis import settings
from lat_detect import Proposals

settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_bench():
    from lat_detect import synthetic_benchmark

    return synthetic_benchmark(target_train=4, target_val=2, target_test=4, source_size=4, seed=0)


SFF_CLASSES = 5  # K of the SFF tests (labels 0..K, K the background)


@pytest.fixture
def sff_proposals():
    """``m`` seeded proposals (corners in [0, 82]), every other one a GT box, labels ``0..K``."""

    def make(m: int, seed: int = 0) -> Proposals:
        g = torch.Generator().manual_seed(seed)
        xy = torch.rand((m, 2), generator=g) * 60
        wh = torch.rand((m, 2), generator=g) * 20 + 2
        is_gt = torch.arange(m) % 2 == 0
        conf = torch.where(is_gt, torch.ones(m), torch.rand(m, generator=g) * 0.5 + 0.4)
        labels = torch.randint(0, SFF_CLASSES + 1, (m,), generator=g)
        gt_index = torch.where(is_gt, torch.arange(m), -1)
        return Proposals(torch.cat([xy, xy + wh], 1), labels, conf, is_gt, gt_index)

    return make
