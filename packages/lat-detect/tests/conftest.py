import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_bench():
    from lat_detect import synthetic_benchmark

    return synthetic_benchmark(target_train=4, target_val=2, target_test=4, source_size=4, seed=0)
