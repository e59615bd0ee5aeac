"""The step caps' norms: every one a proven upper bound on the exact norm, tight where claimed."""

import math

import lipres
import pytest
import torch
from lipres import _norms
from lipres._experiments.bench import _step_fn

F64 = torch.float64
TIGHT = math.sqrt(1.0 + _norms.VERIFY_STEPS[-1])  # verified_spectral_norm's claimed factor


def _with_singular_values(s, rows, cols, seed):
    gen = torch.Generator().manual_seed(seed)
    u = torch.linalg.qr(torch.randn(rows, rows, generator=gen, dtype=F64))[0][:, : len(s)]
    v = torch.linalg.qr(torch.randn(cols, cols, generator=gen, dtype=F64))[0][:, : len(s)]
    return u @ torch.diag(torch.as_tensor(s, dtype=F64)) @ v.T


def _matrix(kind, seed=0):
    gen = torch.Generator().manual_seed(seed)
    if kind == "gaussian":
        return torch.randn(40, 40, generator=gen, dtype=F64)
    if kind == "wide":
        return torch.randn(7, 30, generator=gen, dtype=F64)
    if kind == "tall":
        return torch.randn(30, 7, generator=gen, dtype=F64)
    if kind == "orthogonal":  # no spectral gap at all (the block's init)
        return torch.linalg.qr(torch.randn(32, 32, generator=gen, dtype=F64))[0]
    if kind == "top_cluster":  # top singular values 1e-7 apart
        return _with_singular_values([1.0, 1 - 1e-7, 1 - 2e-7, 0.5, 0.1], 24, 20, seed)
    if kind == "gap_1e-3":  # the top two differ by less than the margins' reach of a poor start
        return _with_singular_values([1.0, 1 - 1e-3, 0.3], 16, 16, seed)
    if kind == "rank_one":
        return torch.outer(torch.randn(12, generator=gen, dtype=F64), torch.randn(9, dtype=F64))
    if kind == "tiny":  # the Gram matrix would underflow without scaling
        return 1e-200 * torch.randn(10, 10, generator=gen, dtype=F64)
    if kind == "huge":  # ... and overflow
        return 1e200 * torch.randn(10, 10, generator=gen, dtype=F64)
    if kind == "one_by_one":
        return torch.tensor([[-3.0]], dtype=F64)
    raise ValueError(kind)


KINDS = [
    "gaussian",
    "wide",
    "tall",
    "orthogonal",
    "top_cluster",
    "gap_1e-3",
    "rank_one",
    "tiny",
    "huge",
    "one_by_one",
]


def _exact(w):
    return float(torch.linalg.svdvals(w.double())[0])


def _adversarial_start(w):
    """A warm start orthogonal to the top right singular vector: Lanczos from it sees the
    second singular value first, so an estimate-based cap would be too large."""
    _, _, vh = torch.linalg.svd(w.double())
    return vh[1] if vh.shape[0] > 1 else vh[0]


@pytest.fixture(params=["numpy", "torch"])
def path(request, monkeypatch):
    """Both backends of ``verified_spectral_norm`` (numpy on the CPU; torch elsewhere)."""
    monkeypatch.setattr(_norms, "_FORCE_TORCH_PATH", request.param == "torch")
    return request.param


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("start", ["cold", "adversarial"])
def test_verified_norm_is_a_tight_upper_bound(kind, dtype, start, path):
    w = _matrix(kind)
    if dtype == torch.float32 and kind in ("tiny", "huge"):
        w = w * (1e-30 if kind == "tiny" else 1e-170) * (1e200 if kind == "tiny" else 1.0)
    w = w.to(dtype)
    exact = _exact(w)
    u = None if start == "cold" else _adversarial_start(w).to(dtype)
    est, u_new = lipres.verified_spectral_norm(w, u, min_size=0)
    assert est.certified
    assert est.upper >= exact
    assert est.upper <= exact * TIGHT * (1 + 1e-10)
    assert est.lower <= exact * (1 + 1e-12)
    assert u_new.shape == (w.shape[1],) and u_new.dtype == dtype


@pytest.mark.parametrize("kind", KINDS)
def test_verified_norm_never_returns_its_estimate(kind, monkeypatch, path):
    """With the factorisation forced to fail, the exact norm is returned: the Ritz value alone
    (a lower estimate) never becomes the bound."""
    w = _matrix(kind)
    real = torch.linalg.cholesky_ex

    def failing(a):
        out = real(a)
        return out[0], torch.ones_like(out[1])

    monkeypatch.setattr(torch.linalg, "cholesky_ex", failing)
    est, _ = lipres.verified_spectral_norm(w, _adversarial_start(w), min_size=0)
    assert est.upper >= _exact(w)
    assert est.upper <= _exact(w) * (1 + 1e-10)


@pytest.mark.parametrize("shape", [(256, 256), (200, 130), (130, 200)])
def test_verified_norm_backends_agree(shape, monkeypatch):
    """numpy (CPU) and torch compute the same certificate: the same Ritz value and bound up to
    float64 rounding, the same next warm start, and the same number of factorisations."""
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(*shape, generator=gen) / 16
    u = torch.randn(shape[1], generator=gen)
    out = {}
    for force in (False, True):
        calls = []
        real = torch.linalg.cholesky_ex

        def counting(a, calls=calls, real=real):
            calls.append(1)
            return real(a)

        monkeypatch.setattr(torch.linalg, "cholesky_ex", counting)
        monkeypatch.setattr(_norms, "_FORCE_TORCH_PATH", force)
        est, u_new = lipres.verified_spectral_norm(w, u)
        out[force] = (est, u_new, len(calls))
    (a, ua, ca), (b, ub, cb) = out[False], out[True]
    assert ca == cb >= 1
    assert a.upper == pytest.approx(b.upper, rel=1e-12)
    assert a.lower == pytest.approx(b.lower, rel=1e-12)
    assert abs(float(ua.double() @ ub.double())) > 1 - 1e-6  # the same (float32) vector up to sign
    assert a.upper >= _exact(w)


@pytest.mark.parametrize("magnitude", [1e200, 1e-200])
@pytest.mark.parametrize("shape", [(7, 30), (30, 7)])
def test_warm_start_is_a_unit_vector_at_extreme_scales(magnitude, shape, path):
    """The next warm start comes from the power-of-two-scaled W: for a wide W its norm neither
    overflows nor underflows (the torch path used the unscaled W)."""
    w = magnitude * _matrix("wide" if shape == (7, 30) else "tall")
    est, u_new = lipres.verified_spectral_norm(w, None, min_size=0)
    assert torch.linalg.vector_norm(u_new).item() == pytest.approx(1.0, rel=1e-12)
    assert est.upper >= _exact(w)
    top = torch.linalg.svd(w)[2][0]
    assert abs(float(u_new @ top)) > 0.99  # it points at the top right singular vector


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("kind", KINDS)
def test_gram_norm_equals_the_svd_norm(kind, dtype):
    w = _matrix(kind)
    if dtype == torch.float32 and kind in ("tiny", "huge"):
        w = w / w.abs().max()
    w = w.to(dtype)
    exact = _exact(w)
    est = lipres.gram_spectral_norm(w)
    assert est.lower <= exact <= est.upper
    assert est.upper <= exact * (1 + 1e-10)
    assert est.upper == pytest.approx(lipres.spectral_norm(w).upper, rel=1e-10)


@pytest.mark.parametrize("shape", [(95, 200), (200, 95)])
def test_small_matrices_get_the_svd_norm(shape):
    w = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    svd = lipres.spectral_norm(w)
    assert lipres.verified_spectral_norm(w)[0] == svd
    assert _norms.exact_spectral_norm(w) == svd


@pytest.mark.parametrize("shape", [(96, 200), (200, 96)])
def test_large_matrices_get_the_certificate(shape):
    w = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=F64)
    est = lipres.verified_spectral_norm(w)[0]
    exact = _exact(w)
    assert exact < est.upper <= exact * TIGHT * (1 + 1e-10)
    assert est != lipres.spectral_norm(w)


@pytest.mark.parametrize("norm_fn", ["verified", "gram"])
def test_zero_matrix_has_norm_zero(norm_fn):
    w = torch.zeros(3, 4)
    if norm_fn == "gram":
        est = lipres.gram_spectral_norm(w)
    else:
        est = lipres.verified_spectral_norm(w, min_size=0)[0]
    assert est.upper == 0.0


def _cayley(n, scale, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    s = scale * torch.randn(n, n, generator=gen, dtype=F64)
    k = 0.5 * (s - s.T)
    eye = torch.eye(n, dtype=F64)
    return torch.linalg.solve(eye + k, eye - k).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("scale", [0.0, 0.1, 1.0, 10.0])
def test_orthogonal_norm_bound_is_tight_on_cayley_maps(scale, dtype):
    q = _cayley(29, scale, dtype, seed=1)
    bound = lipres.orthogonal_norm_bound(q)
    assert bound >= _exact(q)
    assert bound <= 1.0 + (1e-4 if dtype == torch.float32 else 1e-10)


@pytest.mark.parametrize(
    "make",
    [
        lambda: 1.001 * _cayley(12, 1.0, F64, 2),  # slightly expansive
        lambda: 0.5 * _cayley(12, 1.0, F64, 2),  # contractive
        lambda: torch.randn(12, 12, generator=torch.Generator().manual_seed(3), dtype=F64),
        lambda: torch.diag(torch.tensor([1.0 + 1e-6] + [1.0] * 11, dtype=F64)),
    ],
    ids=["expansive", "contractive", "gaussian", "one_direction_above_1"],
)
def test_orthogonal_norm_bound_holds_far_from_orthogonal(make):
    q = make()
    assert lipres.orthogonal_norm_bound(q) >= _exact(q)


def test_interlayer_map_never_exceeds_one_with_the_cheap_bound():
    """A Q pushed above norm 1 (as rounding could) is rescaled by the forward: the certificate,
    from the SVD of the effective matrix, stays <= 1."""
    aff = lipres.MixedNormAffine(10).double()
    q = aff.orthogonal()
    assert lipres.orthogonal_norm_bound(q) <= 1.0 + 1e-12
    aff.orthogonal = lambda: 1.01 * q  # type: ignore[method-assign]
    a = aff.matrix().detach()
    assert lipres.spectral_norm(a[3:, 3:]).upper <= 1.0
    assert aff.lipschitz_bound() <= 1.0


@pytest.mark.parametrize("norm", ["verified", "exact"])
@pytest.mark.parametrize("shape", [(24, 24), (10, 24), (24, 10)])
def test_cap_is_proven_and_tight_at_every_training_step(norm, shape, monkeypatch):
    """Adam moves W at every step: the step applied at each step is <= 2/||W||^2 for the W it
    multiplies, and within the bound's tightness of that cap (small sizes forced onto the
    certificate and the Gram eigenvalue)."""
    monkeypatch.setattr(_norms, "SMALL_GRAM", 0)
    torch.manual_seed(0)
    hidden, features = shape
    block = lipres.GradientStep(features, hidden, norm=norm, step="max")  # h is the cap
    x = torch.randn(64, features)
    step = _step_fn(block, x)
    seen = []
    real = block.step_size

    def spy(*, exact=False):
        h = real(exact=exact)
        seen.append((float(h.detach()), _exact(block.weight.detach())))
        return h

    block.step_size = spy  # type: ignore[method-assign]
    for _ in range(30):
        step()
    assert len(seen) == 30
    tight = TIGHT**2 if norm == "verified" else 1 + 1e-10
    for h, s in seen:
        cap = 2.0 / s**2
        assert h <= cap  # h is float32: its rounding stays inside the 1e-6 safety margin
        assert h >= cap * (1 - 1e-6) / tight * (1 - 2e-7)


@pytest.mark.parametrize("small_gram", [0, _norms.SMALL_GRAM])
def test_verified_is_the_default_and_export_folds_the_applied_step(small_gram, monkeypatch):
    monkeypatch.setattr(_norms, "SMALL_GRAM", small_gram)
    torch.manual_seed(0)
    net = lipres.LipResNet(3, 8, 2)
    assert all(b.norm == "verified" for b in net.modules() if isinstance(b, lipres.GradientStep))
    net = net.double().eval()
    x = torch.randn(32, 3, dtype=F64)
    assert torch.allclose(lipres.export(net)(x), net(x), rtol=0, atol=1e-12)


def test_verified_bound_survives_the_worst_rounding_its_proof_allows(monkeypatch, path):
    """The certificate's rounding terms are what make it a proof: with a Gram matrix off by
    almost its error bound (``0.95 err`` along the top eigenvector) and a factorisation that
    succeeds whenever the theorem lets it (``lambda_min(sI - G) >= -0.99 e3``), the accepted
    ``s`` lies below the true ``||W||^2``, and the bound must still hold. Dropping the Gram
    term or the Cholesky term from the sum breaks it (checked by hand)."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        _worst_rounding_case(mp, monkeypatch)


def _worst_rounding_case(mp, monkeypatch):
    """The body of the test above, at 50 digits. The adversary uses the code's own constants
    (err, the doubled gamma of e3): it catches a term dropped from the bound, not one made
    smaller; e2 is below the final rounding-up and cannot be caught this way."""
    w = _with_singular_values(torch.linspace(1.0, 0.6, 20).tolist(), 24, 20, seed=7)
    exact_gram = mp.matrix(w.T.tolist()) * mp.matrix(w.tolist())
    lam_true = max(mp.eigsy(exact_gram, eigvals_only=True))
    gam = _norms._gamma(w.shape[1] + 1)
    worst: dict[str, float] = {}

    def adversarial(g: torch.Tensor | object, err: float):
        """The exact Gram matrix moved down by 0.95 err along its top eigenvector, in float64."""
        v = torch.linalg.eigh(torch.as_tensor(g, dtype=F64))[1][:, -1]
        shifted = exact_gram - 0.95 * err * mp.matrix(torch.outer(v, v).tolist())
        rows = [[float(shifted[i, j]) for j in range(20)] for i in range(20)]
        hat = torch.tensor(rows, dtype=F64)
        worst["lam_hat"] = float(max(mp.eigsy(mp.matrix(hat.tolist()), eigvals_only=True)))
        worst["diag_hat"] = hat.diagonal().clone()
        return hat

    real_torch, real_numpy = _norms._scaled_gram, _norms._scaled_gram_numpy

    def torch_gram(weight):
        g, err, scale, n = real_torch(weight)
        return adversarial(g, err), err, scale, n

    def numpy_gram(weight):
        g, err, scale, wn = real_numpy(weight)
        return adversarial(g, err).numpy(), err, scale, wn

    def permissive_cholesky(a):
        a = torch.as_tensor(a, dtype=F64)
        s = float((a.diagonal() + worst["diag_hat"]).mean())
        e3 = gam * float(a.diagonal().sum()) / (1.0 - gam)
        ok = s - worst["lam_hat"] >= -0.99 * e3
        if ok:
            worst.setdefault("accepted_s", s)
        return a, torch.tensor(0 if ok else 1)

    monkeypatch.setattr(_norms, "_scaled_gram", torch_gram)
    monkeypatch.setattr(_norms, "_scaled_gram_numpy", numpy_gram)
    monkeypatch.setattr(torch.linalg, "cholesky_ex", permissive_cholesky)
    u = _norms._U64
    monkeypatch.setattr(_norms, "VERIFY_STEPS", tuple(-j * u for j in range(2000, -1, -1)))
    top = torch.linalg.svd(w)[2][0]  # the exact top right singular vector: theta = lambda_hat
    est, _ = lipres.verified_spectral_norm(w, top, min_size=0)
    # the premise: the factorisation was accepted below the true squared norm, by far more
    # than the final rounding-up of the bound covers
    assert worst["accepted_s"] < float(lam_true) * (1.0 - 100 * u)
    assert mp.mpf(est.upper) ** 2 >= lam_true


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("step", ["learned", "max"])
def test_low_precision_step_never_exceeds_the_certified_cap(dtype, step):
    """In bfloat16 / float16 the step ``h`` is rounded to the parameter dtype; it must be rounded
    below ``2 / ||W||^2`` (to nearest it can land up to half an ulp, 0.4 % in bfloat16, above)."""
    torch.manual_seed(0)
    for scale in torch.linspace(0.5, 2.0, 41).tolist():
        block = lipres.GradientStep(8, step=step, tau_init=1e4, norm="exact").to(dtype)
        with torch.no_grad():
            block.weight.mul_(scale)
        h = float(block.step_size().detach())
        sigma = _exact(block.weight.detach())
        assert math.isfinite(h) and h > 0
        assert h * sigma**2 <= 2.0, (scale, h * sigma**2)
