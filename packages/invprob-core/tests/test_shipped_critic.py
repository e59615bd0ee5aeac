"""The critic shipped for ``reproduce --quick``: made by the documented command, on phantoms
disjoint from every test phantom, and loaded only when it is what it says it is."""

import dataclasses
import json
import platform
import re

import numpy as np
import pytest
import torch

from invprob_core import AdversarialRegularizer, ConvCritic, random_ellipses
from invprob_core._experiments import ar_shipped, config, train_critic
from invprob_core._experiments.registry import Context
from invprob_core._experiments.shipped_critic import load_shipped_critic, shipped_path
from sciml_core import InputError, Result, root_seed

SMALL = dataclasses.replace(train_critic.RECIPE, train=16)


@pytest.fixture(scope="module")
def shipped():
    return load_shipped_critic()


def _fingerprints_agree(a, b):
    return len(a) == len(b) and np.allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)


def test_shipped_critic_is_package_data_of_the_documented_recipe(shipped):
    assert shipped_path().is_file()
    assert shipped.recipe == train_critic.RECIPE
    assert shipped.seeds == train_critic.seeds(shipped.provenance["seed"])
    assert shipped.provenance["command"].startswith(train_critic.PROG)
    assert len(shipped.provenance["curve"]) == shipped.steps
    # the untrained control is the critic's own initial weights, rebuilt from the seed
    p0 = dict(shipped.untrained.critic.named_parameters())
    assert any(not torch.equal(p, p0[k]) for k, p in shipped.trained.critic.named_parameters())


def test_documented_command_reproduces_the_shipped_critics_first_steps(shipped, tmp_path):
    prov = shipped.provenance
    k = prov["hash_at"]
    out = tmp_path / "rerun.pt"
    argv = ["--out", str(out), "--seed", str(prov["seed"]), "--steps", str(k), "--quiet"]
    assert train_critic.main(argv) == 0
    rerun = json.loads(torch.load(out, weights_only=True)["config_json"])["provenance"]
    # initial weights (torch's CPU generator) are the same on every machine
    assert rerun["params_sha256"]["0"] == prov["params_sha256"]["0"]
    assert _fingerprints_agree(
        rerun["params_fingerprint_at_hash"], prov["params_fingerprint_at_hash"]
    )
    if (rerun["torch"], rerun["machine"]) == (prov["torch"], platform.machine()):
        # same torch build: bit for bit, data and parameters
        assert rerun["data_sha256"] == prov["data_sha256"]
        assert rerun["params_sha256"][str(k)] == prov["params_sha256"][str(k)]


@pytest.fixture(scope="module")
def small_three_steps():
    return train_critic.train(0, 3, recipe=SMALL, progress=False).provenance


@pytest.mark.parametrize(
    ("seed", "recipe"),
    [
        (1, SMALL),
        (0, dataclasses.replace(SMALL, lr=2e-4)),
        (0, dataclasses.replace(SMALL, etas=(0.03, 0.06))),
    ],
    ids=["seed", "learning-rate", "noise-level"],
)
def test_a_changed_seed_or_recipe_does_not_reproduce(small_three_steps, seed, recipe):
    # the comparison above can fail: each planted change moves the parameters after 3 steps
    base = small_three_steps
    other = train_critic.train(seed, 3, recipe=recipe, progress=False).provenance
    assert other["params_sha256"]["3"] != base["params_sha256"]["3"]
    assert not _fingerprints_agree(
        other["params_fingerprint_at_hash"], base["params_fingerprint_at_hash"]
    )


def test_snapshot_equals_a_run_of_that_many_steps(tmp_path):
    got = {}
    train_critic.train(
        0,
        4,
        recipe=SMALL,
        progress=False,
        snapshots=(2,),
        on_snapshot=lambda t: got.update(t.provenance["params_sha256"]),
    )
    two = train_critic.train(0, 2, recipe=SMALL, progress=False).provenance["params_sha256"]
    assert got["2"] == two["2"]


def _ctx(seed, cfg=config.QUICK):
    res = Result("invprob-core", "0.1.0", seed=seed, device="cpu", quick=True)
    return Context(res, None, cfg, seed, "cpu")


def _study_phantom_seeds(seed):
    """Phantom seeds of every test and validation set of reproduce at this seed."""
    base, s = root_seed(seed), config.QUICK.seeds
    return {
        base + s.ct_validation,
        base + s.ct_test,
        base + s.shipped_validation,
        base + s.shipped_test,
        base + s.convergence_truth,
    }


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_training_seeds_do_not_meet_the_test_seeds(shipped, seed):
    assert not shipped.training_seeds() & ar_shipped.study_seeds(_ctx(seed), 2)
    assert not shipped.training_seeds() & _study_phantom_seeds(seed)


def test_no_test_phantom_is_a_training_phantom(shipped):
    r, s = shipped.recipe, config.QUICK.seeds
    train, _ = random_ellipses(r.n, r.train, seed=shipped.seeds.phantoms)
    sets = {
        "quick shipped-critic test": random_ellipses(
            r.n, config.QUICK.shipped_ar.test, seed=s.shipped_test
        )[0],
        "quick shipped-critic validation": random_ellipses(
            r.n, config.QUICK.validation, seed=s.shipped_validation
        )[0],
        "full CT test": random_ellipses(r.n, config.FULL.test, seed=s.ct_test)[0],
        "full CT validation": random_ellipses(r.n, config.FULL.validation, seed=s.ct_validation)[0],
    }
    flat = train.flatten(1)
    for name, x in sets.items():
        # distance of each test phantom to its nearest training phantom
        nearest = torch.cdist(x.flatten(1).double(), flat.double()).min(dim=1).values
        assert bool((nearest > 1e-3).all()), name


def test_reproduce_refuses_a_seed_that_meets_the_training_seeds(shipped):
    seed = shipped.seeds.phantoms - config.QUICK.seeds.shipped_test
    with pytest.raises(InputError, match=r"--seed: .* trained the critic"):
        ar_shipped.check_disjoint(_ctx(seed), shipped)


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "small.pt"
    train_critic.save(
        train_critic.train(0, 1, recipe=SMALL, progress=False), path, "test", overwrite=True
    )
    return path


def _rewrite(src, dst, change):
    payload = torch.load(src, weights_only=True)
    cfg = json.loads(payload["config_json"])
    change(payload, cfg)
    payload["config_json"] = json.dumps(cfg)
    torch.save(payload, dst)
    return dst


def _recipe_id(payload, cfg):
    cfg["provenance"]["recipe_id"] = "lunz-critic-64-v0"


def _weights(payload, cfg):
    payload["state_dict"]["fc.2.bias"] = payload["state_dict"]["fc.2.bias"] + 1e-3


def _size(payload, cfg):
    cfg["critic_config"]["image_size"] = 32


def _no_provenance(payload, cfg):
    del cfg["provenance"]


def _no_initial_digest(payload, cfg):
    del cfg["provenance"]["params_sha256"]["0"]


def _no_penalty(payload, cfg):
    del cfg["gradient_penalty"]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_recipe_id, "made by recipe 'lunz-critic-64-v0'"),
        (_weights, "do not match the digest"),
        (_size, "expected .*'image_size': 64"),
        (_no_provenance, "not a critic written by train_critic"),
        (_no_initial_digest, "damaged critic checkpoint"),
        (_no_penalty, "damaged critic checkpoint"),
    ],
    ids=["recipe", "weights", "architecture", "provenance", "initial-digest", "penalty"],
)
def test_loader_refuses_a_checkpoint_that_is_not_the_recipes(
    small_checkpoint, tmp_path, change, match
):
    assert load_shipped_critic(small_checkpoint).steps == 1
    bad = _rewrite(small_checkpoint, tmp_path / "bad.pt", change)
    with pytest.raises(InputError, match=match):
        load_shipped_critic(bad, argument="critic")


def test_loader_refuses_a_critic_of_another_architecture(tmp_path):
    path = tmp_path / "conv.pt"
    AdversarialRegularizer(ConvCritic()).save(path)
    with pytest.raises(InputError, match="not a critic written by train_critic"):
        load_shipped_critic(path)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--steps", "0"], "--steps: expected an integer >= 1"),
        (["--seed", "-1"], "--seed: expected an integer"),
        (["--snapshots", "a,b"], "--snapshots: expected integers"),
        (["--steps", "5", "--snapshots", "2,5"], "--snapshots: expected step counts below"),
    ],
    ids=["steps", "seed", "snapshots", "snapshot-after-the-end"],
)
def test_command_refuses_bad_input_in_one_line(tmp_path, capsys, argv, match):
    out = tmp_path / "c.pt"
    assert train_critic.main(["--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(match, err), err
    assert not out.exists()


@pytest.mark.parametrize(
    ("existing", "flag"),
    [("c.pt", "--out"), ("c-step2.pt", "--snapshots")],
    ids=["out", "snapshot"],
)
def test_command_refuses_an_existing_checkpoint_before_any_work(tmp_path, capsys, existing, flag):
    (tmp_path / existing).write_bytes(b"keep")
    argv = ["--out", str(tmp_path / "c.pt"), "--steps", "3", "--snapshots", "2"]
    assert train_critic.main(argv) == 2
    assert flag in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]
    assert (tmp_path / existing).read_bytes() == b"keep"
