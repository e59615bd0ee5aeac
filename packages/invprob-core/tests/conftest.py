import os

import torch
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25)
settings.load_profile("ci")
torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")
