import itertools

import numpy as np
import pytest
import torch

import invprob_core as ip
from sciml_core import InputError


def _wiener(n, sigma=0.1, count=64, seed=0):
    x, _ = ip.random_ellipses(n, count, seed=seed)
    return ip.CirculantDenoiser.fit_wiener(x.double(), sigma)


def test_filtered_denoiser_is_prox_of_scaled_regularizer():
    D = _wiener(16)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 16, 16, generator=g, dtype=torch.float64)
    for tau in (1.0, 0.3, 1e-3):
        Dt = D.filtered(tau)
        x = Dt(z)
        # optimality of argmin_x 1/2||x - z||^2 + tau R(x): x - z + tau (D^-1 - I) x = 0
        dinv_x = torch.fft.ifft2(torch.fft.fft2(x) / D.spectrum).real
        res = x - z + tau * (dinv_x - x)
        assert float(res.norm() / z.norm()) < 1e-10
        assert float(Dt.spectrum.min()) >= 0.0 and float(Dt.spectrum.max()) <= 1.0
        assert not torch.is_complex(x)
        w = torch.randn(3, 16, 16, generator=g, dtype=torch.float64)
        assert ip.adjoint_test(Dt, Dt.adjoint, z, w) < 1e-13
    # the prox of tau R minimises the prox objective: compare with random perturbations
    Dt = D.filtered(0.5)
    x = Dt(z)

    def obj(v):
        return 0.5 * float(((v - z) ** 2).sum()) + 0.5 * float(D.regularizer(v).sum())

    for _ in range(5):
        assert obj(x) <= obj(x + 1e-3 * torch.randn(x.shape, generator=g, dtype=torch.float64))


def test_denoiser_rejects_non_prox_spectra():
    with pytest.raises(InputError, match="spectrum"):
        ip.CirculantDenoiser(torch.full((4, 4), 1.5))
    bad = torch.full((4, 4), 0.5)
    bad[0, 1] = 0.9  # d(k) != d(-k): not self-adjoint
    with pytest.raises(InputError, match="spectrum"):
        ip.CirculantDenoiser(bad)
    with pytest.raises(InputError, match="tau"):
        ip.CirculantDenoiser(torch.full((4, 4), 0.5)).filtered(1.5)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-8), (torch.float32, 1e-4)])
def test_pnp_fixed_point_equals_closed_form_for_periodic_deblurring(dtype, tol):
    n = 32
    A = ip.Blur(ip.gaussian_kernel(1.0), "circular", shape=(n, n))
    D = _wiener(n, sigma=0.2)
    x, _ = ip.random_ellipses(n, 1, seed=3)
    y, _ = ip.add_noise(A(x.double()), 0.02, seed=1)
    eta = 1.0 / A.sqnorm().upper
    tau = 0.5
    Dt = D.filtered(tau)
    # closed form: (|k|^2 + (tau/eta)(1/d - 1)) x^ = conj(k) y^
    k = torch.fft.fft2(
        torch.roll(
            torch.nn.functional.pad(ip.gaussian_kernel(1.0), (0, n - 7, 0, n - 7)), (-3, -3), (0, 1)
        )
    )
    lhat = (1.0 / D.spectrum - 1.0) * tau / eta
    closed = torch.fft.ifft2(k.conj() * torch.fft.fft2(y) / (k.abs() ** 2 + lhat)).real
    r = ip.pnp_pgd(
        A, y.to(dtype), Dt, step=eta, max_iter=20000, tol=1e-14 if dtype == torch.float64 else 1e-7
    )
    assert r.x.dtype == dtype
    assert float((r.x.double() - closed).norm() / closed.norm()) < tol
    fp = ip.pnp_fixed_point(A, y.to(dtype), Dt, step=eta)
    assert float((fp.x.double() - closed).norm() / closed.norm()) < tol


def test_pnp_fixed_point_equals_cg_solution_for_ct():
    n = 32
    A = ip.RayTransform(n, angles=30)
    D = _wiener(n, sigma=0.3)
    x, _ = ip.random_ellipses(n, 1, seed=4)
    y, _ = ip.add_noise(A(x.double()), 0.02, seed=2)
    pnp = ip.LinearPnP(A, D)
    fp = pnp.fixed_point(y, 1.0, method="dense")
    cg = pnp.fixed_point(y, 1.0, method="cg")
    assert cg.converged
    assert float((cg.x - fp.x).norm() / fp.x.norm()) < 1e-8
    it = pnp.reconstruct(y, 1.0, max_iter=20000, tol=1e-13)
    assert float((it.x - fp.x).norm() / fp.x.norm()) < 1e-6


def test_pnp_step_condition_raises():
    A = ip.RayTransform(16, angles=8)
    y = torch.zeros(1, 8, 16)
    D = ip.CirculantDenoiser(torch.full((16, 16), 0.5))
    with pytest.raises(InputError, match="step"):
        ip.pnp_pgd(A, y, D, step=2.0 / A.sqnorm().upper)


def test_linear_pnp_is_convergent_regularization():
    n = 32
    A = ip.Blur(ip.gaussian_kernel(1.0), "circular", shape=(n, n))
    D = _wiener(n, sigma=0.05)
    x, _ = ip.random_ellipses(n, 1, seed=7)
    y0 = A(x.double())
    pnp = ip.LinearPnP(A, D)
    x_r = pnp.limit(y0).x
    # the R-minimising solution solves Ax = y0 (A is invertible here, so x_R = x)
    assert float((A(x_r) - y0).norm() / y0.norm()) < 1e-8
    conv, fixed = [], []
    for rel in (1e-1, 1e-2, 1e-3, 1e-4):
        errs_c, errs_f = [], []
        for s in range(3):
            y, _d = ip.add_noise(y0, rel, seed=s)
            tau = min(1.0, 10 * rel)
            errs_c.append(float((pnp.fixed_point(y, tau).x - x_r).norm() / x_r.norm()))
            errs_f.append(float((pnp.fixed_point(y, 1.0).x - x_r).norm() / x_r.norm()))
        conv.append(np.mean(errs_c))
        fixed.append(np.mean(errs_f))
    assert all(a > b for a, b in itertools.pairwise(conv))
    assert conv[-1] < 0.5 * conv[0]
    assert abs(fixed[-1] / fixed[-2] - 1) < 0.05 and fixed[-1] > 2 * conv[-1]


def test_tau_by_discrepancy_lands_on_tau_delta():
    n = 32
    A = ip.Blur(ip.gaussian_kernel(1.5), "circular", shape=(n, n))
    D = _wiener(n, sigma=0.05)
    x, _ = ip.random_ellipses(n, 1, seed=8)
    y, d = ip.add_noise(A(x.double()), 0.03, seed=0)
    tau, r = ip.LinearPnP(A, D).tau_by_discrepancy(y, float(d[0]))
    assert 0 < tau < 1 and r.converged
    assert abs(float((A(r.x) - y).norm()) / (1.1 * float(d[0])) - 1) < 1e-3


def test_learned_circulant_denoiser():
    n = 16
    train, _ = ip.random_ellipses(n, 96, seed=0)
    test, _ = ip.random_ellipses(n, 32, seed=1)
    sigma = 0.1
    learned = ip.CirculantDenoiser.fit_mse(train.double(), sigma, steps=400, seed=0)
    d = learned.spectrum
    assert float((d - torch.roll(torch.flip(d, (0, 1)), (1, 1), (0, 1))).abs().max()) == 0.0
    assert float(d.min()) >= 1e-6 and float(d.max()) <= 1 - 1e-6
    wiener = ip.CirculantDenoiser.fit_wiener(train.double(), sigma)
    noisy, _ = ip.add_noise(test.double(), sigma, seed=5, relative=False)

    def mse(D):
        return float(((D(noisy) - test.double()) ** 2).mean())

    ident = float(((noisy - test.double()) ** 2).mean())
    assert mse(learned) <= 1.05 * mse(wiener)
    assert mse(learned) < 0.5 * ident


def test_learned_circulant_denoiser_with_minibatches():
    # random batches of 16 of 256 images per step reach the same optimum (the Wiener filter)
    n = 16
    train, _ = ip.random_ellipses(n, 256, seed=0)
    test, _ = ip.random_ellipses(n, 32, seed=1)
    sigma = 0.1
    learned = ip.CirculantDenoiser.fit_mse(train.double(), sigma, steps=400, seed=0, batch_size=16)
    wiener = ip.CirculantDenoiser.fit_wiener(train.double(), sigma)
    noisy, _ = ip.add_noise(test.double(), sigma, seed=5, relative=False)

    def mse(D):
        return float(((D(noisy) - test.double()) ** 2).mean())

    assert mse(learned) <= 1.05 * mse(wiener)
    d = learned.spectrum
    assert float(d.min()) >= 1e-6 and float(d.max()) <= 1 - 1e-6
    for bad in (0, 2.5, True):
        with pytest.raises(InputError, match="batch_size"):
            ip.CirculantDenoiser.fit_mse(train.double(), sigma, steps=1, batch_size=bad)


def test_denoiser_save_load_roundtrip(tmp_path):
    D = _wiener(8)
    D.save(tmp_path / "d.pt")
    E = ip.CirculantDenoiser.load(tmp_path / "d.pt")
    assert torch.equal(D.spectrum, E.spectrum)
