"""mlmc-ops trains fno-conserve's installed FNO on its Darcy data (hierarchies R and S)."""

import pytest
import torch

fno_conserve = pytest.importorskip("fno_conserve")
mlmc_ops = pytest.importorskip("mlmc_ops")


@pytest.mark.parametrize("hierarchy", ["restrict", "resolve"])
def test_mlmc_training_of_the_fno_lowers_the_fine_test_error(hierarchy):
    torch.set_num_threads(1)
    data = mlmc_ops.MultiLevelData.generate(
        "darcy", (48, 16), (8, 16), hierarchy=hierarchy, seed=0
    ).map(lambda a: (a - 7.5) / 4.5, lambda u: u / 0.025)
    test = fno_conserve.generate("darcy", 16, 16, seed=0, offset=1000, show_progress=False)
    tx, ty = (test["x"] - 7.5) / 4.5, test["y"] / 0.025
    torch.manual_seed(0)
    model = fno_conserve.FNO2d(1, 1, 3, width=8, grid="cells", padding=0.125).double()
    loss = fno_conserve.RelLpLoss(rule="cells", reduction="none")

    def error(m):
        with torch.no_grad():
            return float(loss(m(tx), ty).mean())

    before = error(model)
    trainer = mlmc_ops.MLMCTrainer(
        model, data, loss, torch.optim.Adam(model.parameters(), 1e-2), batch_sizes=(16, 4), seed=0
    )
    history = trainer.fit(steps=15, eval_fn=error, eval_every=15)
    assert history.evals[-1]["metric"] < 0.7 * before
    assert trainer.cost_units == 15 * (16 * 64 + 4 * (256 + 64))
