"""GPU subset (items 1, 2 and 9 of the spec on CUDA); skipped without CUDA."""

import pytest
import torch

from fno_conserve import (
    ConservationCorrection,
    ConservedOperator,
    FNO1d,
    LinearConstraint,
    QuadraticConstraint,
    conservation_error,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


CASES = {
    "moments-projection": (lambda: [LinearConstraint.moments(2)], "projection"),
    "moments-adaptive": (lambda: [LinearConstraint.moments(2)], "adaptive"),
    "q2": (lambda: [QuadraticConstraint((0, 1), mode="adaptive")], "projection"),
    "q3": (
        lambda: [LinearConstraint.mass(channel=(0, 1)), QuadraticConstraint((0, 1))],
        "adaptive",
    ),
}


def _corrected_on_cuda(case, dtype):
    torch.manual_seed(0)
    dev = torch.device("cuda")
    x = torch.randn(8, 2, 256, device=dev, dtype=dtype)
    make, mode = CASES[case]
    laws = make()
    aux = 1 if mode == "adaptive" or isinstance(laws[0], QuadraticConstraint) else 0
    base = FNO1d(2, 2, modes=8, width=16, aux_channels=aux)
    model = ConservedOperator(base, ConservationCorrection(laws, mode=mode)).to(dev, dtype)
    return model(x), x, laws


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_corrected_output_stays_on_cuda_in_its_dtype(dtype, case):
    out, _, _ = _corrected_on_cuda(case, dtype)
    assert out.device.type == "cuda" and out.dtype == dtype


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_corrections_are_exact_on_cuda(dtype, case):
    out, x, laws = _corrected_on_cuda(case, dtype)
    err = conservation_error(out, x, laws)
    assert err["max_rel"] <= 10 * torch.finfo(dtype).eps, (case, err["max_rel"])


def test_fno_float64_resolution_consistency_on_cuda():
    torch.manual_seed(1)
    dev = torch.device("cuda")
    model = FNO1d(1, 1, modes=8, width=16).to(dev, torch.float64)
    n = 128
    xs = torch.arange(2 * n, device=dev, dtype=torch.float64) / (2 * n)
    f = (torch.sin(2 * torch.pi * xs) + 0.3 * torch.cos(6 * torch.pi * xs)).reshape(1, 1, -1)
    with torch.no_grad():
        fine = model(f)[..., ::2]
        coarse = model(f[..., ::2].contiguous())
    assert float((fine - coarse).norm() / fine.norm()) < 1e-6
