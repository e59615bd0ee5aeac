"""A lipres critic inside invprob-core's AdversarialRegularizer (lipres spec §5.6).

The contract: ``AdversarialRegularizer(critic, gradient_penalty="none")`` checks
``critic.lipschitz_bound() <= 1.0`` once and warns otherwise; ``fit`` calls ``critic.project()``
after every optimiser step; ``save`` accepts only invprob-core's own critics.
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
ip = pytest.importorskip("invprob_core")
lipres = pytest.importorskip("lipres")

from sciml_core import InputError  # noqa: E402

SIZE = 8


def _data():
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(16, 1, SIZE, SIZE, generator=g)
    artefacts = clean + 0.3 * torch.randn(16, 1, SIZE, SIZE, generator=g)
    return clean, artefacts


def test_a_lipres_critic_needs_no_gradient_penalty_and_emits_no_warning():
    critic = lipres.LipCritic(1, SIZE, width=4, depth=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ip.AdversarialRegularizer(critic, gradient_penalty="none")


def test_fit_projects_after_every_step_and_keeps_the_bound_at_most_one():
    torch.manual_seed(0)
    critic = lipres.LipCritic(1, SIZE, width=4, depth=2)
    calls = []
    project = critic.project

    def spy() -> None:
        calls.append(1)
        project()

    critic.project = spy  # type: ignore[method-assign]
    ar = ip.AdversarialRegularizer(critic, gradient_penalty="none")
    clean, artefacts = _data()
    opt = torch.optim.Adam(critic.parameters(), lr=5e-2)
    ar.fit(clean, artefacts, steps=20, optimizer=opt, seed=0, batch_size=8, progress=False)
    assert len(calls) == 20
    assert critic.lipschitz_bound() <= 1.0
    found = lipres.empirical_lipschitz(
        critic.double(), clean.double(), method="jacobian", n_iter=20
    )
    assert found <= 1.0 + 1e-12


def test_reconstruct_with_a_lipres_critic_returns_a_solver_result():
    torch.manual_seed(1)
    critic = lipres.LipCritic(1, SIZE, width=2, depth=1)
    ar = ip.AdversarialRegularizer(critic, gradient_penalty="none")
    A = ip.RayTransform(SIZE, angles=6)
    x = torch.rand(2, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(2))
    y = A(x)
    res = ar.reconstruct(A, y, lam=0.1, steps=5)
    assert type(res).__name__ == "SolverResult"


def test_saving_a_lipres_critic_in_the_regularizer_is_refused(tmp_path):
    critic = lipres.LipCritic(1, SIZE, width=2, depth=1)
    ar = ip.AdversarialRegularizer(critic, gradient_penalty="none")
    with pytest.raises(InputError, match="LipCritic"):
        ar.save(tmp_path / "ar.pt")
    back = lipres.load_model(lipres.save_model(critic, tmp_path / "critic.pt"))
    assert back.lipschitz_bound() <= 1.0
