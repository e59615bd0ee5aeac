import pytest
import torch

import invprob_core as ip
from sciml_core import InputError


def test_operator_rejects_wrong_shape_and_dtype():
    A = ip.RayTransform(8, angles=4)
    with pytest.raises(InputError, match=r"x: expected trailing shape \(8, 8\).*\(1, 7, 8\)"):
        A(torch.zeros(1, 7, 8))
    with pytest.raises(
        InputError, match=r"x: expected a floating-point tensor, got dtype torch\.int64"
    ):
        A(torch.zeros(1, 8, 8, dtype=torch.long))
    with pytest.raises(InputError, match=r"y: expected trailing shape \(4, 8\)"):
        A.adjoint(torch.zeros(1, 5, 8))
    with pytest.raises(InputError, match=r"x: expected a torch\.Tensor"):
        A([[0.0]])


def test_constructors_name_bad_arguments():
    with pytest.raises(InputError, match="n:"):
        ip.RayTransform(1)
    with pytest.raises(InputError, match="angles:"):
        ip.RayTransform(8, angles=0)
    with pytest.raises(InputError, match="spp:"):
        ip.RayTransform(8, spp=0)
    with pytest.raises(InputError, match="max_nnz"):
        ip.RayTransform(32, angles=30, max_nnz=1000)
    with pytest.raises(InputError, match="boundary:"):
        ip.Blur(ip.box_kernel(3), boundary="mirror")
    with pytest.raises(InputError, match="kernel:"):
        ip.Blur(torch.ones(3))
    with pytest.raises(InputError, match="factor:"):
        ip.Downsample(0)
    with pytest.raises(InputError, match="x: image size 9x9 is not a multiple of factor=2"):
        ip.Downsample(2)(torch.zeros(1, 9, 9))
    with pytest.raises(InputError, match="filter:"):
        ip.RayTransform(8, angles=4).fbp(torch.zeros(1, 4, 8), filter="ramp")


def test_solvers_reject_nan_data_and_bad_parameters():
    A = ip.Blur(ip.gaussian_kernel(1.0), shape=(8, 8))
    y = torch.zeros(1, 8, 8, dtype=torch.float64)
    bad = y.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(InputError, match="y"):
        ip.tikhonov(A, bad, 0.1)
    with pytest.raises(InputError, match="y"):
        ip.landweber(A, bad)
    with pytest.raises(InputError, match="alpha"):
        ip.tikhonov(A, y, -1.0)
    with pytest.raises(InputError, match="tau_dp"):
        ip.landweber(A, y + 1, delta=0.1, tau_dp=0.9)
    with pytest.raises(InputError, match="A: expected a LinearOperator"):
        ip.cgls(lambda x: x, y)
    with pytest.raises(InputError, match="delta"):
        ip.discrepancy_alpha(A, y + 1, 0.0)


def test_step_sizes_that_break_convergence_are_refused():
    A = ip.Blur(ip.gaussian_kernel(1.0), shape=(8, 8))
    y = torch.ones(1, 8, 8, dtype=torch.float64)
    with pytest.raises(InputError, match=r"step: Landweber needs 0 < step < 2/\|\|A\|\|\^2"):
        ip.landweber(A, y, step=2.5)
    with pytest.raises(InputError, match="step: PnP-PGD needs"):
        ip.pnp_pgd(A, y, ip.CirculantDenoiser(torch.full((8, 8), 0.5)), step=2.5)
    with pytest.raises(InputError, match=r"tau \* sigma \* \|\|K\|\|\^2 < 1"):
        ip.pdhg_tv(A, y, 0.1, tau=1.0, sigma=1.0)
    with pytest.raises(InputError, match="L:"):
        ip.fista(lambda x: x, lambda v, s: v, 0.0, y)


def test_start_point_must_match_shape_device_and_dtype():
    A = ip.Blur(ip.gaussian_kernel(1.0), shape=(8, 8))
    y = torch.ones(1, 8, 8, dtype=torch.float64)
    with pytest.raises(InputError, match="x0: expected shape"):
        ip.landweber(A, y, x0=torch.zeros(1, 4, 4, dtype=torch.float64))
    with pytest.raises(InputError, match=r"x0: expected dtype torch\.float64"):
        ip.cgls(A, y, x0=torch.zeros(1, 8, 8, dtype=torch.float32))
    with pytest.raises(InputError, match="x0: expected device cpu"):
        ip.pdhg_tv(A, y, 0.1, x0=torch.zeros(1, 8, 8, dtype=torch.float64, device="meta"))


def test_noise_and_phantom_arguments_are_checked():
    with pytest.raises(InputError, match="level"):
        ip.add_noise(torch.ones(1, 4), -0.1)
    with pytest.raises(InputError, match="photons"):
        ip.add_poisson_noise(torch.ones(1, 4), 0.0)
    with pytest.raises(InputError, match="y"):
        ip.add_noise(torch.tensor([[float("inf")]]), 0.1)
    with pytest.raises(InputError, match="n_images"):
        ip.random_ellipses(16, 0)
    with pytest.raises(InputError, match=r"params: expected an array of shape \(K, 6\)"):
        ip.ellipse_sinogram(torch.zeros(3, 5), ip.RayTransform(8, angles=2))


def test_adversarial_arguments_are_checked():
    with pytest.raises(InputError, match="gradient_penalty"):
        ip.AdversarialRegularizer(ip.ConvCritic(), gradient_penalty="both")
    with pytest.raises(InputError, match="critic"):
        ip.AdversarialRegularizer(lambda x: x)
    ar = ip.AdversarialRegularizer(ip.ConvCritic())
    with pytest.raises(InputError, match="x_artefact"):
        ar.loss(torch.zeros(2, 1, 8, 8), torch.zeros(3, 1, 8, 8))
    with pytest.raises(InputError, match="image_size"):
        ip.LunzCritic(20)


def test_adversarial_inputs_are_checked_not_broadcast_or_truncated():
    A = ip.RayTransform(16, angles=8)
    x, _ = ip.random_ellipses(16, 2, seed=0)
    y = A(x)
    ar = ip.AdversarialRegularizer(ip.ConvCritic())
    with pytest.raises(
        InputError, match=r"x0: expected shape \(2, 1, 16, 16\), got \(2, 1, 8, 8\)"
    ):
        ar.reconstruct(A, y, 0.1, x0=torch.zeros(2, 1, 8, 8), steps=2)
    with pytest.raises(InputError, match=r"x0: expected dtype torch\.float32"):
        ar.reconstruct(A, y, 0.1, x0=torch.zeros(2, 1, 16, 16, dtype=torch.float64), steps=2)
    with pytest.raises(InputError, match=r"x0 must be finite; got 512 NaN"):
        ar.reconstruct(A, y, 0.1, x0=torch.full((2, 1, 16, 16), float("nan")), steps=2)
    with pytest.raises(InputError, match=r"x_true: expected shape \(2, 1, 16, 16\)"):
        ar.reconstruct(A, y, 0.1, steps=2, x_true=torch.zeros(3, 1, 16, 16))
    for bad in (-3, 2.7, True):
        with pytest.raises(InputError, match=f"steps: expected an integer >= 0, got {bad!r}"):
            ar.reconstruct(A, y, 0.1, steps=bad)
    # a single truth must not be broadcast against two measurements
    with pytest.raises(InputError, match=r"x_true: expected shape \(2, 1, 16, 16\), got \(1,"):
        ip.AdversarialRegularizer.lambda_heuristic(A, x[:1], y)
    with pytest.raises(InputError, match=r"x_true must be finite"):
        ip.AdversarialRegularizer.lambda_heuristic(A, torch.full_like(x, float("nan")), y)
    with pytest.raises(InputError, match=r"x_clean must be finite"):
        ar.loss(torch.full_like(x, float("nan")), x)
    for kw, name in (({"batch_size": 0}, "batch_size"), ({"steps": 2.5}, "steps")):
        args = {"steps": 2, **kw}
        with pytest.raises(InputError, match=f"{name}: expected an integer >= 1"):
            ar.fit(x, x, args.pop("steps"), progress=False, **args)
    with pytest.raises(InputError, match=r"artefacts: expected dtype torch\.float32"):
        ar.fit(x, x.double(), 2, progress=False)
    with pytest.raises(InputError, match=r"y must be finite"):
        A.fbp(torch.full((1, 8, 16), float("nan")))


def test_iteration_counts_are_checked_not_cut_or_ignored():
    A = ip.Blur(ip.gaussian_kernel(1.0), shape=(8, 8))
    y = torch.ones(1, 8, 8, dtype=torch.float64)
    D = ip.CirculantDenoiser(torch.full((8, 8), 0.5, dtype=torch.float64))
    calls = {
        "landweber": lambda m: ip.landweber(A, y, max_iter=m),
        "cgls": lambda m: ip.cgls(A, y, max_iter=m),
        "pdhg_tv": lambda m: ip.pdhg_tv(A, y, 0.1, max_iter=m),
        "fista": lambda m: ip.fista(lambda x: x - y, lambda v, s: v, 1.0, y, max_iter=m),
        "pnp_pgd": lambda m: ip.pnp_pgd(A, y, D, max_iter=m),
        "tikhonov": lambda m: ip.tikhonov(A, y, 0.1, method="cg", max_iter=m),
    }
    for name, call in calls.items():
        for bad in (-1, 0, 2.5):
            with pytest.raises(InputError, match=f"max_iter: expected an integer >= 1, got {bad}"):
                call(bad)
        assert call(3).iterations <= 3, name
    for bad in (0, 2.5):
        with pytest.raises(InputError, match=f"steps: expected .*, got {bad}"):
            ip.CirculantDenoiser.fit_mse(torch.rand(4, 8, 8, dtype=torch.float64), 0.1, steps=bad)
