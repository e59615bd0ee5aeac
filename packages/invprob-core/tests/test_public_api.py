import subprocess
import sys

import invprob_core as ip

EXPECTED = {
    "AdversarialRegularizer",
    "Blur",
    "CirculantDenoiser",
    "ConvCritic",
    "ConvexCritic",
    "DeepinvOperator",
    "Diagonal",
    "Downsample",
    "Gradient",
    "Identity",
    "LinearOperator",
    "LinearPnP",
    "LunzCritic",
    "Mask",
    "MaskedFourier",
    "NormEstimate",
    "RayTransform",
    "SolverResult",
    "VStack",
    "__version__",
    "add_noise",
    "add_poisson_noise",
    "adjoint_test",
    "block_mask",
    "box_kernel",
    "cgls",
    "discrepancy_alpha",
    "ellipse_sinogram",
    "fbp",
    "fista",
    "from_deepinv",
    "gaussian_kernel",
    "lanczos2_kernel",
    "landweber",
    "motion_kernel",
    "pdhg",
    "pdhg_tv",
    "pnp_fixed_point",
    "pnp_pgd",
    "psnr",
    "r_minimizing_solution",
    "random_ellipses",
    "random_pixel_mask",
    "relative_l2",
    "sample_image",
    "shepp_logan",
    "shepp_logan_ellipses",
    "ssim",
    "stroke_mask",
    "tikhonov",
    "to_deepinv",
    "total_variation",
}


def test_public_api_is_pinned():
    assert set(ip.__all__) == EXPECTED
    for name in ip.__all__:
        assert hasattr(ip, name)
    assert ip.__version__ == "0.1.0"


def test_import_does_not_pull_optional_dependencies():
    code = (
        "import sys, invprob_core, invprob_core.cli; "
        "bad = [m for m in ('skimage', 'deepinv', 'astra', 'matplotlib', 'tifffile', 'PIL') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
