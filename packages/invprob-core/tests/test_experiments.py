"""The experiments are apart from the method: registry, configs, and no import from the library."""

import dataclasses
import subprocess
import sys

import pytest

from invprob_core._experiments import config, registry
from invprob_core._experiments.reproduce import reproduce
from sciml_core import InputError


def test_library_and_cli_import_without_the_experiments():
    code = (
        "import sys, invprob_core, invprob_core.cli; "
        "bad = [m for m in sys.modules if m.startswith('invprob_core._experiments')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_studies_run_in_the_order_of_the_result_tables():
    assert list(registry.STUDIES) == ["ct", "convergence", "deblurring", "ar_shipped"]


@pytest.mark.parametrize(
    ("quick", "runs"),
    [
        (True, ["ct", "convergence", "deblurring", "ar_shipped"]),
        (False, ["ct", "convergence", "deblurring"]),
    ],
    ids=["quick", "full"],
)
def test_shipped_critic_study_runs_only_in_quick(quick, runs):
    cfg = config.config_for(quick)
    assert [n for n, s in registry.STUDIES.items() if s.runs_in(cfg)] == runs


def test_reproduce_refuses_a_study_of_the_other_mode_before_any_work(tmp_path):
    with pytest.raises(InputError, match=r"studies: \['ar_shipped'\] do not run in the full run"):
        reproduce(tmp_path / "out", quick=False, studies=["ar_shipped"])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cfg", [config.QUICK, config.FULL], ids=["quick", "full"])
def test_configs_are_frozen(cfg):
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n = 8


@pytest.mark.parametrize(("quick", "cfg"), [(True, config.QUICK), (False, config.FULL)])
def test_config_for_picks_the_mode(quick, cfg):
    assert config.config_for(quick) is cfg


def test_budget_table_lists_the_fields_that_differ_by_mode():
    shown = [row[0] for row in config.QUICK.budget_rows()]
    differ = [
        f.name
        for f in dataclasses.fields(config.Config)
        if getattr(config.QUICK, f.name) != getattr(config.FULL, f.name)
    ]
    assert shown == differ


def test_reproduce_refuses_an_unknown_study_before_any_work(tmp_path):
    with pytest.raises(InputError, match=r"studies: unknown \['nope'\]"):
        reproduce(tmp_path / "out", studies=["nope"])
    assert not (tmp_path / "out").exists()
