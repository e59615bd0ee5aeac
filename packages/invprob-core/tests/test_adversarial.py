import itertools
import warnings

import pytest
import torch
from torch import nn

import invprob_core as ip
from sciml_core import InputError


class Quadratic(nn.Module):
    """Psi(x) = c/2 ||x||^2 per image: gradient c x, norm c ||x||."""

    def __init__(self, c):
        super().__init__()
        self.c = nn.Parameter(torch.tensor(float(c), dtype=torch.float64))

    def forward(self, x):
        return 0.5 * self.c * (x**2).flatten(1).sum(1)


def test_one_sided_penalty_is_zero_inside_the_unit_ball_and_the_formula_outside():
    x = torch.randn(5, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    norms = x.flatten(1).norm(dim=1)
    small = ip.AdversarialRegularizer(Quadratic(0.5 / float(norms.max())))
    assert float(small.penalty(x).detach()) == 0.0
    c = 2.0 / float(norms.min())
    big = ip.AdversarialRegularizer(Quadratic(c))
    expected = (torch.clamp(c * norms - 1, min=0) ** 2).mean()
    assert torch.allclose(big.penalty(x), expected, rtol=1e-12)
    two = ip.AdversarialRegularizer(Quadratic(0.5 / float(norms.max())), "two-sided", 5.0)
    expected2 = ((0.5 / float(norms.max()) * norms - 1) ** 2).mean()
    assert torch.allclose(two.penalty(x), expected2, rtol=1e-12)


def test_loss_is_wasserstein_estimate_plus_weighted_penalty():
    g = torch.Generator().manual_seed(1)
    xr = torch.randn(6, 1, 4, 4, generator=g, dtype=torch.float64)
    xn = torch.randn(6, 1, 4, 4, generator=g, dtype=torch.float64)
    crit = Quadratic(3.0)
    ar = ip.AdversarialRegularizer(crit, gp_weight=20.0)
    loss = ar.loss(xr, xn, seed=7)
    eps = torch.rand(6, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    xh = eps.reshape(-1, 1, 1, 1) * xn + (1 - eps.reshape(-1, 1, 1, 1)) * xr
    gn = 3.0 * xh.flatten(1).norm(dim=1)
    ref = crit(xr).mean() - crit(xn).mean() + 20.0 * (torch.clamp(gn - 1, min=0) ** 2).mean()
    assert torch.allclose(loss, ref, rtol=1e-12)
    # the penalty is differentiable in the critic's parameters (double backward)
    loss.backward()
    assert crit.c.grad is not None and torch.isfinite(crit.c.grad)


def test_no_penalty_warns_unless_the_critic_certifies_lipschitz():
    with pytest.warns(UserWarning, match="lipschitz_bound"):
        ip.AdversarialRegularizer(Quadratic(1.0), "none")

    class Certified(Quadratic):
        def lipschitz_bound(self):
            return 1.0

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ip.AdversarialRegularizer(Certified(1.0), "none")


def test_convex_critic_is_convex():
    torch.manual_seed(0)
    critic = ip.ConvexCritic().double()
    g = torch.Generator().manual_seed(2)

    def check():
        for _ in range(20):
            x = torch.randn(4, 1, 12, 12, generator=g, dtype=torch.float64)
            y = torch.randn(4, 1, 12, 12, generator=g, dtype=torch.float64)
            t = torch.rand(4, generator=g, dtype=torch.float64).reshape(-1, 1, 1, 1)
            lhs = critic(t * x + (1 - t) * y)
            rhs = t.flatten() * critic(x) + (1 - t.flatten()) * critic(y)
            assert bool((lhs <= rhs + 1e-10).all())

    check()
    clean, _ = ip.random_ellipses(12, 32, seed=0)
    noisy = clean + 0.3 * torch.randn(clean.shape, generator=g)
    ar = ip.AdversarialRegularizer(critic, "two-sided", 5.0)
    ar.fit(
        clean.double(),
        noisy.double(),
        20,
        torch.optim.Adam(critic.parameters(), lr=1e-2),
        seed=0,
        progress=False,
    )
    for conv in [*critic.wz, critic.out]:
        assert float(conv.weight.detach().min()) >= 0.0
    check()
    # convex critic: the reconstruction objective decreases monotonically under Armijo steps
    A = ip.Blur(ip.gaussian_kernel(1.0), "circular", shape=(12, 12))
    y = A(clean[:2].double())
    r = ar.reconstruct(A, y, 0.1, x0=torch.zeros_like(y), steps=30)
    obj = r.history["objective"]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(obj))


def test_lambda_heuristic_is_data_gradient_norm_at_the_truth():
    A = ip.RayTransform(16, angles=8)
    x, _ = ip.random_ellipses(16, 3, seed=0)
    y, _ = ip.add_noise(A(x.double()), 0.05, seed=1)
    lam = ip.AdversarialRegularizer.lambda_heuristic(A, x.double(), y)
    ref = A.adjoint(A(x.double()) - y).flatten(1).norm(dim=1).mean()
    assert lam == pytest.approx(float(ref), rel=1e-12)


def test_lam_zero_reconstruction_is_gradient_descent_on_the_data_term():
    A = ip.RayTransform(16, angles=8)
    x, _ = ip.random_ellipses(16, 2, seed=0)
    y = A(x.double())
    ar = ip.AdversarialRegularizer(ip.ConvCritic().double())
    x0 = torch.zeros_like(x, dtype=torch.float64)
    r = ar.reconstruct(A, y, 0.0, x0=x0, steps=3)
    t = 1.0 / A.sqnorm().upper  # Armijo accepts the 1/L step for the quadratic data term
    ref = x0
    for _ in range(3):
        ref = ref - t * A.adjoint(A(ref) - y)
    assert torch.allclose(r.x, ref, atol=1e-12)


def test_critic_training_separates_clean_from_artefacts():
    torch.manual_seed(0)
    clean, _ = ip.random_ellipses(16, 64, seed=3)
    noisy = clean + 0.2 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    critic = ip.ConvCritic()
    ar = ip.AdversarialRegularizer(critic)
    ar.fit(
        clean, noisy, 60, torch.optim.RMSprop(critic.parameters(), lr=1e-3), seed=0, progress=False
    )
    held_c, _ = ip.random_ellipses(16, 32, seed=4)
    held_n = held_c + 0.2 * torch.randn(held_c.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert float(critic(held_n).mean()) > float(critic(held_c).mean())


def test_save_and_load_roundtrip(tmp_path):
    torch.manual_seed(0)
    ar = ip.AdversarialRegularizer(ip.LunzCritic(16), "two-sided", 3.0)
    ar.save(tmp_path / "c.pt")
    back = ip.AdversarialRegularizer.load(tmp_path / "c.pt")
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(ar.critic(x), back.critic(x))
    assert back.gradient_penalty == "two-sided" and back.gp_weight == 3.0


def test_per_image_lambda_equals_separate_runs():
    # a parameter sweep as one batch: one lambda per image gives each image its own run
    A = ip.RayTransform(16, angles=8)
    x, _ = ip.random_ellipses(16, 2, seed=0)
    y, _ = ip.add_noise(A(x.double()), 0.05, seed=1)
    torch.manual_seed(0)
    ar = ip.AdversarialRegularizer(ip.ConvCritic().double())
    lams = (0.0, 0.7)
    both = ar.reconstruct(A, y, torch.tensor(lams, dtype=torch.float64), steps=4, x_true=x.double())
    for i, lam in enumerate(lams):
        one = ar.reconstruct(A, y[i : i + 1], lam, steps=4, x_true=x[i : i + 1].double())
        assert torch.allclose(both.x[i : i + 1], one.x, atol=1e-12)
        assert [h[i] for h in both.history["psnr_each"]] == pytest.approx(one.history["psnr"])


@pytest.mark.parametrize(
    "lam", [torch.tensor([0.1]), torch.tensor([0.1, -1.0]), torch.tensor([1, 2]), float("nan")]
)
def test_bad_lambda_is_refused(lam):
    A = ip.RayTransform(16, angles=8)
    y = torch.zeros(2, 1, 8, 16, dtype=torch.float64)
    ar = ip.AdversarialRegularizer(ip.ConvCritic().double())
    with pytest.raises(InputError, match="lam"):
        ar.reconstruct(A, y, lam, steps=1)
