"""The classification study of ``reproduce`` (spec 7.1 preset B, claim
``hyda_classifier_above_chance``) and the AUC it reports."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from brain_hyda import TinyUNet, roc_auc
from brain_hyda._experiments import classification
from brain_hyda._experiments.config import FULL, METHODS, QUICK
from brain_hyda._experiments.context import Context
from brain_hyda._synthetic import synthetic_brains
from brain_hyda._train import to_subjects

from sciml_core import Result

COLUMNS = ["method", "subjects", "seed", "lr", "steps", "accuracy", "AUC", "trainable", "seconds"]


def _ctx(config, tmp_path):
    torch.manual_seed(0)
    result = Result("brain-hyda", "0", seed=0, device="cpu", quick=config.mode == "quick")
    ctx = Context(result, Path(tmp_path), config, 0, "cpu")
    ctx.store["backbone"] = TinyUNet(1, 5).eval()
    return ctx


def _table(ctx, name):
    return next(t for t in ctx.result.tables if t["id"] == name)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_full):
    ctx = _ctx(tiny_full, tmp_path_factory.mktemp("cls"))
    classification.run(ctx)
    return ctx


def test_the_study_writes_one_row_per_method_size_and_seed_with_the_stated_columns(tiny_run):
    table = _table(tiny_run, "classification")
    assert table["columns"] == COLUMNS
    keys = [tuple(r[:3]) for r in table["rows"]]
    assert keys == [(m, n, s) for n in (2, 4) for s in (0, 1) for m in METHODS]
    for row in table["rows"]:
        acc, auc = row[5], row[6]
        assert 0.0 <= acc <= 1.0 and (auc is None or 0.0 <= auc <= 1.0)
        assert row[7] > 0


def test_the_mean_table_averages_the_seeds(tiny_run):
    rows = _table(tiny_run, "classification")["rows"]
    means = {(r[0], r[1]): r[3] for r in _table(tiny_run, "classification_mean")["rows"]}
    for m in METHODS:
        accs = [r[5] for r in rows if r[0] == m and r[1] == 4]
        assert means[m, 4] == pytest.approx(np.mean(accs), abs=1e-4)


def test_the_claim_compares_the_reported_hyda_accuracy_with_060(tiny_run):
    rows = _table(tiny_run, "classification")["rows"]
    acc = np.mean([r[5] for r in rows if r[0] == "hyda" and r[1] == 4])
    (claim,) = [c for c in tiny_run.result.claims if c["name"] == "hyda_classifier_above_chance"]
    assert claim["holds"] == bool(acc >= 0.60)
    assert f"{acc:.3f}" in claim["observed"]


@pytest.mark.parametrize("accuracy,holds", [(0.55, False), (0.60, True), (0.70, True)])
def test_the_claim_holds_exactly_when_hyda_reaches_060(
    accuracy, holds, tmp_path, monkeypatch, tiny_full
):
    def fake(state, method, lr, steps, seed, train, test, c):
        acc = accuracy if method == "hyda" else 0.5
        return {"accuracy": acc, "auc": 0.5, "trainable": 1.0, "seconds": 0.0}

    monkeypatch.setattr(classification, "run_job", fake)
    ctx = _ctx(replace(tiny_full, eval_at=()), tmp_path)
    classification.run(ctx)
    (claim,) = ctx.result.claims
    assert claim["holds"] is holds


def test_quick_runs_no_classification_and_full_is_the_spec_preset():
    assert QUICK.cls_train_sizes == ()
    assert (FULL.cls_train_sizes, FULL.cls_n_val, FULL.cls_n_test) == ((8, 24), 20, 100)


def test_in_quick_mode_the_study_adds_nothing(tmp_path):
    ctx = _ctx(QUICK, tmp_path)
    classification.run(ctx)
    assert ctx.result.tables == [] and ctx.result.claims == []


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_patient_logits_and_trains_what_it_should(method):
    torch.manual_seed(0)
    net = TinyUNet(1, 5).eval()
    model = classification.build(method, net, seed=0)
    data = to_subjects(synthetic_brains(3, preset="classification", size=16, seed=0))
    assert model(data.volumes).shape == (3, 2)
    encoder_trains = any(p.requires_grad for p in model.encoder.parameters())
    assert encoder_trains is (method in ("finetune", "scratch"))
    same = all(
        torch.equal(a, b)
        for a, b in zip(model.encoder.state_dict().values(), net.encoder.state_dict().values())
    )
    assert same is (method != "scratch")


def test_fit_restores_the_best_validation_checkpoint():
    torch.manual_seed(0)
    net = TinyUNet(1, 5).eval()
    data = to_subjects(synthetic_brains(8, preset="classification", size=16, seed=0))
    train, val = data.take(range(4)), data.take(range(4, 8))
    model = classification.build("hyda", net, seed=0)
    log = classification.fit_classifier(model, train, steps=4, lr=3e-2, val=val, eval_at=(1, 2, 3))
    assert set(log.val) == {1, 2, 3, 4}
    assert log.val[log.best_step] == max(log.val.values())
    got = classification.scores(classification.probabilities(model, val), val.patient_labels)
    assert got == log.val[log.best_step]


@pytest.mark.parametrize(
    "scores,labels,expected",
    [
        ([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 1.0),
        ([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1], 0.5),
        # positives 0.5, 0.9 against negatives 0.2, 0.5, 0.1: 2.5 + 3 of 6 pairs
        ([0.2, 0.5, 0.5, 0.9, 0.1], [0, 1, 0, 1, 0], 11 / 12),
    ],
)
def test_roc_auc_equals_the_hand_counted_pairs(scores, labels, expected):
    assert roc_auc(np.array(scores), np.array(labels)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_roc_auc_equals_sklearn(seed):
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn not installed")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 40)
    scores = np.round(rng.random(40) + 0.3 * labels, 1)  # ties on purpose
    assert roc_auc(scores, labels) == pytest.approx(
        metrics.roc_auc_score(labels, scores), abs=1e-12
    )
