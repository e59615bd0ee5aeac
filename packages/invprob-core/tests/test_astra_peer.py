"""ASTRA as a bench peer: its CPU projectors, mapped to our geometry, project a phantom like our
ray transform (to the difference of the discretisations) and keep their adjoint."""

import numpy as np
import pytest
import torch

import invprob_core as ip
from invprob_core._experiments.astra_peer import PROJECTORS, AstraProjector, astra_module

astra = astra_module()
pytestmark = pytest.mark.skipif(astra is None, reason="astra-toolbox not installed")

# the discretisations differ (bilinear samples, line lengths, strip areas): measured at n = 64,
# 180 angles: 0.7 %, 2.3 %, 0.14 %; a wrong angle or detector convention gives O(1)
LIMITS = {"linear": 0.02, "line": 0.05, "strip": 0.01}


@pytest.mark.parametrize("kind", PROJECTORS)
def test_astra_projector_in_our_geometry_matches_our_ray_transform(kind):
    n = 32
    A = ip.RayTransform(n, angles=45)
    x = ip.shepp_logan(n).to(torch.float64)
    ours = A(x[None])[0].numpy()
    peer = AstraProjector(astra, n, np.asarray(A.theta), kind)
    try:
        theirs = peer.forward(x.numpy())
        rel = np.linalg.norm(theirs - ours) / np.linalg.norm(ours)
        g = np.random.default_rng(0)
        mismatch = ip.adjoint_test(
            peer.forward, peer.adjoint, g.standard_normal((n, n)), g.standard_normal((45, n))
        )
    finally:
        peer.close()
    assert rel < LIMITS[kind]
    assert mismatch < 1e-6  # ASTRA computes in float32
