import subprocess
import sys

import chebnet_stable


def test_public_api_is_pinned():
    assert sorted(chebnet_stable.__all__) == sorted(
        [
            "ADGN",
            "GCN",
            "MLP",
            "PRESETS",
            "ChebConv",
            "ChebNet",
            "GraphData",
            "LambdaMaxEstimate",
            "ScaledLaplacian",
            "StableChebConv",
            "StableChebNet",
            "__version__",
            "cheb_basis",
            "cheb_filter",
            "collate",
            "damping_kernel",
            "dirichlet_energy",
            "euler_step_gain",
            "jacobian_blocks",
            "jacobian_dense",
            "jacobian_spectrum",
            "lambda_max_bound",
            "layer_gain",
            "load_graphs",
            "load_split_masks",
            "make_barbell",
            "make_graph_transfer",
            "make_graphprop",
            "make_ring_transfer",
            "save_npz",
            "sensitivity",
            "train_model",
        ]
    )
    for name in chebnet_stable.__all__:
        assert hasattr(chebnet_stable, name)
    assert chebnet_stable.__version__ == "0.1.0"


def test_import_needs_neither_pyg_nor_networkx_nor_scipy():
    code = (
        "import sys, chebnet_stable; "
        "heavy = ('torch_geometric', 'networkx', 'scipy', 'matplotlib'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
