import numpy as np
import pytest
import torch

import invprob_core as ip
from sciml_core import InputError


def _deblur_problem(n=32, sigma_blur=1.5, eta=0.02, seed=0, dtype=torch.float64):
    A = ip.Blur(ip.gaussian_kernel(sigma_blur), "circular", shape=(n, n))
    x, _ = ip.random_ellipses(n, 1, seed=seed)
    x = x.to(dtype)
    y0 = A(x)
    y, delta = ip.add_noise(y0, eta, seed=seed + 100)
    return A, x, y0, y, float(delta[0])


def test_tikhonov_cg_equals_fourier_closed_form():
    g = torch.Generator().manual_seed(0)
    k = torch.rand(5, 5, generator=g, dtype=torch.float64)
    A = ip.Blur(k / k.sum(), "circular", shape=(16, 16))
    y = torch.randn(2, 1, 16, 16, generator=g, dtype=torch.float64)
    for alpha in (1e-3, 0.1):
        xf = ip.tikhonov(A, y, alpha, method="fourier").x
        xc = ip.tikhonov(A, y, alpha, method="cg", tol=1e-14).x
        assert float((xf - xc).norm() / xf.norm()) < 1e-10
        # normal equations hold
        res = A.adjoint(A(xf)) + alpha * xf - A.adjoint(y)
        assert float(res.norm() / A.adjoint(y).norm()) < 1e-12


def test_tikhonov_with_gradient_regulariser_solves_its_normal_equations():
    A = ip.RayTransform(12, angles=6)
    L = ip.Gradient((12, 12))
    y = torch.randn(1, 6, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    x = ip.tikhonov(A, y, 0.3, L=L, tol=1e-13).x
    res = A.adjoint(A(x)) + 0.3 * L.adjoint(L(x)) - A.adjoint(y)
    assert float(res.norm() / A.adjoint(y).norm()) < 1e-11


def test_discrepancy_principle_lands_on_tau_delta_and_grows_with_delta():
    alphas = []
    for eta in (0.01, 0.05):
        A, _x, _y0, y, delta = _deblur_problem(eta=eta)
        alpha, res = ip.discrepancy_alpha(A, y, delta, tau_dp=1.1)
        r = float((A(res.x) - y).norm())
        assert abs(r / (1.1 * delta) - 1) < 1e-3
        alphas.append(alpha)
    assert alphas[1] > alphas[0]


def test_discrepancy_rejects_tau_at_most_one_and_too_large_delta():
    A, _x, _y0, y, delta = _deblur_problem()
    with pytest.raises(InputError, match="tau_dp"):
        ip.discrepancy_alpha(A, y, delta, tau_dp=1.0)
    with pytest.raises(InputError, match="delta"):
        ip.discrepancy_alpha(A, y, float(y.norm()))


def test_landweber_step_condition_and_monotone_residual():
    A = ip.RayTransform(16, angles=10)
    x, _ = ip.random_ellipses(16, 1, seed=1)
    y = A(x.double())
    bound = A.sqnorm().upper
    with pytest.raises(InputError, match="step"):
        ip.landweber(A, y, step=2.0 / bound)
    with pytest.raises(InputError, match="step"):
        ip.landweber(A, y, step=-1.0)
    r = ip.landweber(A, y, step=1.9 / bound, max_iter=60)
    h = np.array(r.history["residual"])
    assert np.all(np.diff(h) <= 1e-12 * h[0])
    assert h[-1] < 0.5 * h[0]


def test_discrepancy_stops_iterations_earlier_for_larger_noise_and_cgls_is_faster():
    A = ip.RayTransform(16, angles=10)
    x, _ = ip.random_ellipses(16, 1, seed=1)
    y0 = A(x.double())
    its_lw, its_cg = [], []
    for eta in (0.01, 0.05):
        y, d = ip.add_noise(y0, eta, seed=3)
        lw = ip.landweber(A, y, delta=float(d[0]), max_iter=5000)
        cg = ip.cgls(A, y, delta=float(d[0]), max_iter=500)
        assert lw.converged and cg.converged
        assert lw.history["residual"][-1] <= 1.1 * float(d[0]) < lw.history["residual"][-2]
        assert cg.history["residual"][-1] <= 1.1 * float(d[0]) < cg.history["residual"][-2]
        its_lw.append(lw.iterations)
        its_cg.append(cg.iterations)
    assert its_lw[1] < its_lw[0] and its_cg[1] <= its_cg[0]
    assert its_cg[0] < its_lw[0]


def test_fista_meets_its_rate_bound():
    g = torch.Generator().manual_seed(0)
    M = torch.randn(20, 30, generator=g, dtype=torch.float64)
    b = torch.randn(20, generator=g, dtype=torch.float64)
    mu = 0.5
    L = float(torch.linalg.matrix_norm(M, ord=2)) ** 2

    def F(x):
        return float(0.5 * ((M @ x - b) ** 2).sum() + mu * x.abs().sum())

    def grad(x):
        return M.T @ (M @ x - b)

    def prox(v, s):
        return torch.sign(v) * torch.clamp(v.abs() - s * mu, min=0)

    ref = ip.fista(grad, prox, L, torch.zeros(30, dtype=torch.float64), max_iter=20000)
    f_star, x_star = F(ref.x), ref.x
    x0 = torch.zeros(30, dtype=torch.float64)
    r = ip.fista(grad, prox, L, x0, max_iter=200, objective=F)
    d0 = float(((x0 - x_star) ** 2).sum())
    for k, fk in enumerate(r.history["objective"], start=1):
        assert fk - f_star <= 2 * L * d0 / (k + 1) ** 2 + 1e-12


def _condat_tv1d(y: np.ndarray, lam: float) -> np.ndarray:
    """Condat's direct algorithm (IEEE SPL 2013) for min 1/2||x-y||^2 + lam sum|x_{i+1}-x_i|.

    Written from the paper's description: grow a segment while the running dual residuals
    stay within [-lam, lam]; when one leaves, fix the segment at the corresponding bound value.
    """
    n = len(y)
    x = np.empty(n)
    k = k0 = km = kp = 0
    vmin, vmax = y[0] - lam, y[0] + lam
    umin, umax = lam, -lam
    while True:
        while k == n - 1:
            if umin < 0:
                x[k0 : km + 1] = vmin
                k0 = km + 1
                k = km = k0
                vmin = y[k]
                umin = lam
                umax = vmin + umin - vmax
            elif umax > 0:
                x[k0 : kp + 1] = vmax
                k0 = kp + 1
                k = kp = k0
                vmax = y[k]
                umax = -lam
                umin = vmax + umax - vmin
            else:
                vmin += umin / (k - k0 + 1)
                x[k0 : k + 1] = vmin
                return x
        umin += y[k + 1] - vmin
        if umin < -lam:
            x[k0 : km + 1] = vmin
            k0 = km + 1
            k = km = kp = k0
            vmin, vmax = y[k], y[k] + 2 * lam
            umin, umax = lam, -lam
            continue
        umax += y[k + 1] - vmax
        if umax > lam:
            x[k0 : kp + 1] = vmax
            k0 = kp + 1
            k = km = kp = k0
            vmin, vmax = y[k] - 2 * lam, y[k]
            umin, umax = lam, -lam
            continue
        k += 1
        if umin >= lam:
            km = k
            vmin += (umin - lam) / (k - k0 + 1)
            umin = lam
        if umax <= -lam:
            kp = k
            vmax += (umax + lam) / (k - k0 + 1)
            umax = -lam


def _tv1d_kkt_gap(x, y, lam):
    # optimality: u_i = sum_{j<=i}(y_j - x_j) is a dual certificate, |u_i| <= lam, u_{n-1} = 0,
    # and u_i = -lam * sign(x_{i+1} - x_i) wherever x jumps (x - y + lam D^T s = 0)
    u = np.cumsum(y - x)
    jumps = np.diff(x)
    viol = max(np.max(np.abs(u[:-1])) - lam, 0.0, abs(u[-1]))
    on = np.abs(jumps) > 1e-9
    if on.any():
        viol = max(viol, np.max(np.abs(u[:-1][on] + lam * np.sign(jumps[on]))))
    return viol


def test_pdhg_tv_matches_condat_in_1d():
    rng = np.random.default_rng(0)
    y = np.repeat(rng.uniform(0, 1, 6), 8) + 0.1 * rng.standard_normal(48)
    lam = 0.15
    ref = _condat_tv1d(y, lam)
    assert _tv1d_kkt_gap(ref, y, lam) < 1e-10  # the reference itself is optimal
    A = ip.Identity((1, 48))
    yt = torch.from_numpy(y).reshape(1, 1, 48)
    r = ip.pdhg_tv(A, yt, lam, max_iter=20000, tol=1e-13)
    assert np.max(np.abs(r.x.reshape(-1).numpy() - ref)) < 1e-6


def test_pdhg_tv_matches_dual_projected_gradient_in_2d():
    g = torch.Generator().manual_seed(1)
    y = torch.rand(1, 10, 12, generator=g, dtype=torch.float64)
    lam = 0.1
    grad = ip.Gradient()
    # Beck-Teboulle FGP on the dual: min_{|q_ij| <= 1} 1/2 ||y - lam grad* q||^2, L = 8 lam^2
    q = torch.zeros(1, 2, 10, 12, dtype=torch.float64)
    z, t = q.clone(), 1.0
    for _ in range(30000):
        gq = -lam * grad(y - lam * grad.adjoint(z))
        qn = z - gq / (8 * lam**2)
        qn = qn / torch.clamp(torch.sqrt(qn[:, 0] ** 2 + qn[:, 1] ** 2), min=1.0)[:, None]
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = qn + ((t - 1) / tn) * (qn - q)
        q, t = qn, tn
    ref = y - lam * grad.adjoint(q)
    r = ip.pdhg_tv(ip.Identity((10, 12)), y, lam, max_iter=20000, tol=1e-13)
    assert float((r.x - ref).abs().max()) < 1e-5
    obj = r.history["objective"]
    assert (
        obj[-1]
        <= 0.5 * float(((ref - y) ** 2).sum()) + lam * float(ip.total_variation(ref).sum()) + 1e-9
    )


def test_pdhg_step_condition_raises():
    A = ip.Identity((8, 8))
    y = torch.zeros(1, 8, 8)
    with pytest.raises(InputError, match=r"tau \* sigma"):
        ip.pdhg_tv(A, y, 0.1, tau=0.5, sigma=0.5)


def test_pdhg_tv_nonneg_keeps_iterates_nonnegative():
    A = ip.RayTransform(16, angles=8)
    x, _ = ip.random_ellipses(16, 1, seed=0)
    y, _ = ip.add_noise(A(x), 0.05, seed=0)
    r = ip.pdhg_tv(A, y, 0.01, nonneg=True, max_iter=50)
    assert float(r.x.min()) >= 0.0
    assert r.history["objective"][-1] < r.history["objective"][0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_solvers_return_the_input_dtype(dtype):
    A = ip.RayTransform(12, angles=6)
    x, _ = ip.random_ellipses(12, 1, seed=0)
    y = A(x.to(dtype))
    D = ip.CirculantDenoiser(torch.full((12, 12), 0.5))
    outs = [
        ip.tikhonov(A, y, 0.1).x,
        ip.landweber(A, y, max_iter=3).x,
        ip.cgls(A, y, max_iter=3).x,
        ip.pdhg_tv(A, y, 0.01, max_iter=3).x,
        ip.pnp_pgd(A, y, D, max_iter=3).x,
        ip.pnp_fixed_point(A, y, D).x,
        A.fbp(y),
    ]
    assert all(o.dtype == dtype for o in outs)


def _captured_default_steps(monkeypatch, A, y, alpha):
    """The (tau, sigma, norm_bound) that ``pdhg_tv`` hands to ``pdhg`` by default."""
    import invprob_core._pdhg as pdhg_module

    seen = {}
    real = pdhg_module.pdhg

    def spy(K, fc, g, x0, tau, sigma, norm_bound, *args, **kwargs):
        seen.update(K=K, tau=tau, sigma=sigma)
        return real(K, fc, g, x0, tau, sigma, norm_bound, *args, **kwargs)

    monkeypatch.setattr(pdhg_module, "pdhg", spy)
    ip.pdhg_tv(A, y, alpha, max_iter=1)
    return seen


@pytest.mark.parametrize("n", [16, 64])
def test_pdhg_tv_default_steps_satisfy_the_condition_in_2d(monkeypatch, n):
    # ||grad||^2 tends to 8 in 2-D (4 only in 1-D): a power iteration on K*K = I + grad* grad
    # gives a lower bound on ||[A; grad]||^2 that the default steps must respect.
    y = torch.zeros(1, n, n, dtype=torch.float64)
    seen = _captured_default_steps(monkeypatch, ip.Identity((n, n)), y, 0.1)
    K = seen["K"]
    v = torch.randn(1, n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for _ in range(300):
        v = K._adj(K._fwd(v))
        v = v / torch.linalg.vector_norm(v)
    lower = float(torch.linalg.vector_norm(K._fwd(v)) ** 2)  # Rayleigh quotient <= ||K||^2
    assert lower > 1.0 + 7.5  # the 2-D gradient's norm is really seen
    assert seen["tau"] * seen["sigma"] * lower < 1.0


def test_pdhg_tv_denoises_shepp_logan_64_to_the_dual_reference_objective():
    # Reference: Beck-Teboulle FGP on the dual of TV denoising (an independent solver).
    x = ip.shepp_logan(64).to(torch.float64)[None]
    y, _ = ip.add_noise(x, 0.1, seed=3)
    lam = 0.05
    grad = ip.Gradient()
    q = torch.zeros(1, 2, 64, 64, dtype=torch.float64)
    z, t = q.clone(), 1.0
    for _ in range(3000):
        qn = z + grad(y - lam * grad.adjoint(z)) / (8 * lam)
        qn = qn / torch.clamp(torch.sqrt(qn[:, 0] ** 2 + qn[:, 1] ** 2), min=1.0)[:, None]
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = qn + ((t - 1) / tn) * (qn - q)
        q, t = qn, tn
    ref = y - lam * grad.adjoint(q)
    f_ref = 0.5 * float(((ref - y) ** 2).sum()) + lam * float(ip.total_variation(ref).sum())
    obj = ip.pdhg_tv(ip.Identity((64, 64)), y, lam, max_iter=300).history["objective"]
    assert abs(obj[-1] - f_ref) <= 1e-3 * f_ref
