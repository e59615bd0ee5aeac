import mlmc_ops


def test_public_api_is_pinned():
    assert sorted(mlmc_ops.__all__) == [
        "Allocation",
        "CurriculumTrainer",
        "DistributedConfig",
        "HIERARCHIES",
        "History",
        "LevelBatch",
        "LevelSet",
        "LevelStats",
        "MLMCBatch",
        "MLMCLoss",
        "MLMCSampler",
        "MLMCTrainer",
        "MultiLevelData",
        "PAIRINGS",
        "SHARDS",
        "SingleLevelTrainer",
        "WEIGHTINGS",
        "__version__",
        "estimate_level_stats",
        "geometric_schedule",
        "giles_allocation",
        "grid_cost",
        "launch",
        "level_costs",
        "mlmc_loss",
        "per_sample_gradients",
        "step_cost",
    ]
    for name in mlmc_ops.__all__:
        assert hasattr(mlmc_ops, name)
    assert mlmc_ops.__version__ == "0.1.0"
