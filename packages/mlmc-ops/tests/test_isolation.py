"""Import isolation (spec item 14), checked in one fresh interpreter for every assertion:
``import mlmc_ops`` (and its CLI module) loads neither the experiments nor fno_conserve,
neuraloperator or matplotlib; then, with ``fno_conserve`` blocked from import, the estimator,
statistics, allocation and trainer run on a plain CNN."""

import json
import subprocess
import sys

import pytest

_SCRIPT = """
import json, sys
import mlmc_ops, mlmc_ops.cli
report = {
    "experiments": sorted(m for m in sys.modules if m.startswith("mlmc_ops._experiments")),
    "heavy": [m for m in ("fno_conserve", "neuralop", "matplotlib") if m in sys.modules],
}
sys.modules["fno_conserve"] = None  # any import of it fails from here on
import torch
from mlmc_ops import MultiLevelData, MLMCTrainer, giles_allocation, estimate_level_stats
x = torch.randn(40, 1, 8, 8, dtype=torch.float64)
xc = x.reshape(40, 1, 4, 2, 4, 2).mean((3, 5))
pairs = [(x[24:], 2 * x[24:], xc[24:], 2 * xc[24:])]
data = MultiLevelData.from_pairs((xc[:24], 2 * xc[:24]), pairs)
model = torch.nn.Conv2d(1, 1, 3, padding=1).double()
loss = lambda p, t: ((p - t) ** 2).mean(dim=(1, 2, 3))
stats = estimate_level_stats(model, data, loss, n_pilot=8)
alloc = giles_allocation(stats.V, stats.cost_units, budget=400.0)
opt = torch.optim.SGD(model.parameters(), 0.01)
t = MLMCTrainer(model, data, loss, opt, batch_sizes=alloc.n_int)
t.fit(steps=2)
report["steps"] = t.step_count
report["fno_conserve_loaded"] = sys.modules.get("fno_conserve") is not None
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def report():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_package_or_its_cli_does_not_load_the_experiments(report):
    assert report["experiments"] == []


def test_import_loads_neither_fno_conserve_nor_neuraloperator_nor_matplotlib(report):
    assert report["heavy"] == []


def test_estimator_allocation_and_trainer_run_with_fno_conserve_blocked(report):
    assert report["steps"] == 2
    assert report["fno_conserve_loaded"] is False
