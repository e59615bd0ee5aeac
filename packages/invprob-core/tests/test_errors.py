"""Bad input raises InputError naming the argument, the expectation and what came (one case per
test, parametrised over the cases)."""

import pytest
import torch

import invprob_core as ip
from sciml_core import InputError


def _ray():
    return ip.RayTransform(8, angles=4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(
            lambda: _ray()(torch.zeros(1, 7, 8)),
            r"x: expected trailing shape \(8, 8\).*\(1, 7, 8\)",
            id="forward-shape",
        ),
        pytest.param(
            lambda: _ray()(torch.zeros(1, 8, 8, dtype=torch.long)),
            r"x: expected a floating-point tensor, got dtype torch\.int64",
            id="forward-dtype",
        ),
        pytest.param(
            lambda: _ray().adjoint(torch.zeros(1, 5, 8)),
            r"y: expected trailing shape \(4, 8\)",
            id="adjoint-shape",
        ),
        pytest.param(lambda: _ray()([[0.0]]), r"x: expected a torch\.Tensor", id="not-a-tensor"),
    ],
)
def test_operator_rejects_wrong_shape_and_dtype(call, match):
    with pytest.raises(InputError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(lambda: ip.RayTransform(1), "n:", id="ray-n"),
        pytest.param(lambda: ip.RayTransform(8, angles=0), "angles:", id="ray-angles"),
        pytest.param(lambda: ip.RayTransform(8, spp=0), "spp:", id="ray-spp"),
        pytest.param(
            lambda: ip.RayTransform(32, angles=30, max_nnz=1000), "max_nnz", id="ray-max-nnz"
        ),
        pytest.param(
            lambda: ip.Blur(ip.box_kernel(3), boundary="mirror"), "boundary:", id="blur-boundary"
        ),
        pytest.param(lambda: ip.Blur(torch.ones(3)), "kernel:", id="blur-kernel"),
        pytest.param(lambda: ip.Downsample(0), "factor:", id="downsample-factor"),
        pytest.param(
            lambda: ip.Downsample(2)(torch.zeros(1, 9, 9)),
            "x: image size 9x9 is not a multiple of factor=2",
            id="downsample-size",
        ),
        pytest.param(
            lambda: _ray().fbp(torch.zeros(1, 4, 8), filter="ramp"), "filter:", id="fbp-filter"
        ),
    ],
)
def test_constructors_name_bad_arguments(call, match):
    with pytest.raises(InputError, match=match):
        call()


def _blur8():
    return ip.Blur(ip.gaussian_kernel(1.0), shape=(8, 8))


def _y8(value=0.0):
    return torch.full((1, 8, 8), value, dtype=torch.float64)


def _nan8():
    bad = _y8()
    bad[0, 0, 0] = float("nan")
    return bad


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(lambda: ip.tikhonov(_blur8(), _nan8(), 0.1), "y", id="tikhonov-nan"),
        pytest.param(lambda: ip.landweber(_blur8(), _nan8()), "y", id="landweber-nan"),
        pytest.param(lambda: ip.tikhonov(_blur8(), _y8(), -1.0), "alpha", id="tikhonov-alpha"),
        pytest.param(
            lambda: ip.landweber(_blur8(), _y8(1.0), delta=0.1, tau_dp=0.9),
            "tau_dp",
            id="landweber-tau-dp",
        ),
        pytest.param(
            lambda: ip.cgls(lambda x: x, _y8()), "A: expected a LinearOperator", id="cgls-A"
        ),
        pytest.param(lambda: ip.discrepancy_alpha(_blur8(), _y8(1.0), 0.0), "delta", id="dp-delta"),
    ],
)
def test_solvers_reject_nan_data_and_bad_parameters(call, match):
    with pytest.raises(InputError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(
            lambda: ip.landweber(_blur8(), _y8(1.0), step=2.5),
            r"step: Landweber needs 0 < step < 2/\|\|A\|\|\^2",
            id="landweber",
        ),
        pytest.param(
            lambda: ip.pnp_pgd(
                _blur8(), _y8(1.0), ip.CirculantDenoiser(torch.full((8, 8), 0.5)), step=2.5
            ),
            "step: PnP-PGD needs",
            id="pnp-pgd",
        ),
        pytest.param(
            lambda: ip.pdhg_tv(_blur8(), _y8(1.0), 0.1, tau=1.0, sigma=1.0),
            r"tau \* sigma \* \|\|K\|\|\^2 < 1",
            id="pdhg",
        ),
        pytest.param(
            lambda: ip.fista(lambda x: x, lambda v, s: v, 0.0, _y8(1.0)), "L:", id="fista"
        ),
    ],
)
def test_step_sizes_that_break_convergence_are_refused(call, match):
    with pytest.raises(InputError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(
            lambda: ip.landweber(_blur8(), _y8(1.0), x0=torch.zeros(1, 4, 4, dtype=torch.float64)),
            "x0: expected shape",
            id="shape",
        ),
        pytest.param(
            lambda: ip.cgls(_blur8(), _y8(1.0), x0=torch.zeros(1, 8, 8, dtype=torch.float32)),
            r"x0: expected dtype torch\.float64",
            id="dtype",
        ),
        pytest.param(
            lambda: ip.pdhg_tv(
                _blur8(), _y8(1.0), 0.1, x0=torch.zeros(1, 8, 8, dtype=torch.float64, device="meta")
            ),
            "x0: expected device cpu",
            id="device",
        ),
    ],
)
def test_start_point_must_match_shape_device_and_dtype(call, match):
    with pytest.raises(InputError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(lambda: ip.add_noise(torch.ones(1, 4), -0.1), "level", id="noise-level"),
        pytest.param(lambda: ip.add_poisson_noise(torch.ones(1, 4), 0.0), "photons", id="photons"),
        pytest.param(lambda: ip.add_noise(torch.tensor([[float("inf")]]), 0.1), "y", id="inf"),
        pytest.param(lambda: ip.random_ellipses(16, 0), "n_images", id="n-images"),
        pytest.param(
            lambda: ip.ellipse_sinogram(torch.zeros(3, 5), ip.RayTransform(8, angles=2)),
            r"params: expected an array of shape \(K, 6\)",
            id="params",
        ),
    ],
)
def test_noise_and_phantom_arguments_are_checked(call, match):
    with pytest.raises(InputError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(
            lambda: ip.AdversarialRegularizer(ip.ConvCritic(), gradient_penalty="both"),
            "gradient_penalty",
            id="penalty",
        ),
        pytest.param(lambda: ip.AdversarialRegularizer(lambda x: x), "critic", id="critic"),
        pytest.param(
            lambda: ip.AdversarialRegularizer(ip.ConvCritic()).loss(
                torch.zeros(2, 1, 8, 8), torch.zeros(3, 1, 8, 8)
            ),
            "x_artefact",
            id="loss-shapes",
        ),
        pytest.param(lambda: ip.LunzCritic(20), "image_size", id="lunz-size"),
    ],
)
def test_adversarial_arguments_are_checked(call, match):
    with pytest.raises(InputError, match=match):
        call()


@pytest.fixture(scope="module")
def adv():
    """A ray transform, two phantoms, their sinograms and an untrained regulariser."""
    A = ip.RayTransform(16, angles=8)
    x, _ = ip.random_ellipses(16, 2, seed=0)
    return A, x, A(x), ip.AdversarialRegularizer(ip.ConvCritic())


def _nan_like(t):
    return torch.full_like(t, float("nan"))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(
            lambda A, x, y, ar: ar.reconstruct(A, y, 0.1, x0=torch.zeros(2, 1, 8, 8), steps=2),
            r"x0: expected shape \(2, 1, 16, 16\), got \(2, 1, 8, 8\)",
            id="x0-shape",
        ),
        pytest.param(
            lambda A, x, y, ar: ar.reconstruct(
                A, y, 0.1, x0=torch.zeros(2, 1, 16, 16, dtype=torch.float64), steps=2
            ),
            r"x0: expected dtype torch\.float32",
            id="x0-dtype",
        ),
        pytest.param(
            lambda A, x, y, ar: ar.reconstruct(
                A, y, 0.1, x0=torch.full((2, 1, 16, 16), float("nan")), steps=2
            ),
            r"x0 must be finite; got 512 NaN",
            id="x0-nan",
        ),
        pytest.param(
            lambda A, x, y, ar: ar.reconstruct(
                A, y, 0.1, steps=2, x_true=torch.zeros(3, 1, 16, 16)
            ),
            r"x_true: expected shape \(2, 1, 16, 16\)",
            id="x-true-shape",
        ),
        *(
            pytest.param(
                lambda A, x, y, ar, bad=bad: ar.reconstruct(A, y, 0.1, steps=bad),
                f"steps: expected an integer >= 0, got {bad!r}",
                id=f"steps={bad!r}",
            )
            for bad in (-3, 2.7, True)
        ),
        # a single truth must not be broadcast against two measurements
        pytest.param(
            lambda A, x, y, ar: ip.AdversarialRegularizer.lambda_heuristic(A, x[:1], y),
            r"x_true: expected shape \(2, 1, 16, 16\), got \(1,",
            id="heuristic-broadcast",
        ),
        pytest.param(
            lambda A, x, y, ar: ip.AdversarialRegularizer.lambda_heuristic(A, _nan_like(x), y),
            r"x_true must be finite",
            id="heuristic-nan",
        ),
        pytest.param(
            lambda A, x, y, ar: ar.loss(_nan_like(x), x), r"x_clean must be finite", id="loss-nan"
        ),
        pytest.param(
            lambda A, x, y, ar: ar.fit(x, x, 2, progress=False, batch_size=0),
            "batch_size: expected an integer >= 1",
            id="fit-batch-size",
        ),
        pytest.param(
            lambda A, x, y, ar: ar.fit(x, x, 2.5, progress=False),
            "steps: expected an integer >= 1",
            id="fit-steps",
        ),
        pytest.param(
            lambda A, x, y, ar: ar.fit(x, x.double(), 2, progress=False),
            r"artefacts: expected dtype torch\.float32",
            id="fit-dtype",
        ),
        pytest.param(
            lambda A, x, y, ar: A.fbp(torch.full((1, 8, 16), float("nan"))),
            r"y must be finite",
            id="fbp-nan",
        ),
    ],
)
def test_adversarial_inputs_are_checked_not_broadcast_or_truncated(adv, call, match):
    with pytest.raises(InputError, match=match):
        call(*adv)


def _solver_calls():
    A = ip.Blur(ip.gaussian_kernel(1.0), shape=(8, 8))
    y = torch.ones(1, 8, 8, dtype=torch.float64)
    D = ip.CirculantDenoiser(torch.full((8, 8), 0.5, dtype=torch.float64))
    return {
        "landweber": lambda m: ip.landweber(A, y, max_iter=m),
        "cgls": lambda m: ip.cgls(A, y, max_iter=m),
        "pdhg_tv": lambda m: ip.pdhg_tv(A, y, 0.1, max_iter=m),
        "fista": lambda m: ip.fista(lambda x: x - y, lambda v, s: v, 1.0, y, max_iter=m),
        "pnp_pgd": lambda m: ip.pnp_pgd(A, y, D, max_iter=m),
        "tikhonov": lambda m: ip.tikhonov(A, y, 0.1, method="cg", max_iter=m),
    }


SOLVERS = tuple(_solver_calls())


@pytest.mark.parametrize("bad", [-1, 0, 2.5])
@pytest.mark.parametrize("solver", SOLVERS)
def test_iteration_counts_are_checked_not_cut(solver, bad):
    with pytest.raises(InputError, match=f"max_iter: expected an integer >= 1, got {bad}"):
        _solver_calls()[solver](bad)


@pytest.mark.parametrize("solver", SOLVERS)
def test_iteration_counts_are_not_ignored(solver):
    assert _solver_calls()[solver](3).iterations <= 3


@pytest.mark.parametrize("bad", [0, 2.5])
def test_fit_mse_step_count_is_checked(bad):
    with pytest.raises(InputError, match=f"steps: expected .*, got {bad}"):
        ip.CirculantDenoiser.fit_mse(torch.rand(4, 8, 8, dtype=torch.float64), 0.1, steps=bad)
