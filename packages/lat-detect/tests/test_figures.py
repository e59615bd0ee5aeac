"""reproduce's figures: drawn from the measured values, written next to result.json and
registered in the Result."""

import warnings

import pytest
from lat_detect._experiments import figures
from lat_detect._experiments.config import FULL, QUICK
from lat_detect._experiments.context import Context

from sciml_core import Result

CLASSES = ("car", "truck", "person", "bicycle")


def _ctx(tmp_path, config, values):
    result = Result("lat-detect", "0.1.0", seed=0, device="cpu", quick=config is QUICK)
    return Context(result, tmp_path, config, 0, "cpu", values=values)


def _values(config):
    v = {}
    for o in config.seeds:
        for i, m in enumerate(config.methods):
            for j, sched in enumerate(("single", "merge_then_target")):
                v["test", o, m, sched, "AP"] = 0.1 * i + 0.01 * j + 0.001 * o
                for k, c in enumerate(CLASSES):
                    v["test_class", o, m, sched, c] = 0.1 * k + 0.001 * o
        for m in ("lat", "pseudo-label", "lat-no-sff"):
            v["transfer_ap", o, m, "mean", "AP"] = 0.2
            v["transfer_ap", o, m, "mean", "AP50"] = 0.5
    return v


def test_downstream_points_are_the_per_seed_test_aps_of_every_method_and_schedule(tmp_path):
    ctx = _ctx(tmp_path, FULL, _values(FULL))
    points = figures.downstream_points(ctx)
    assert len(points) == 2 * len(FULL.methods)
    i = FULL.methods.index("oracle")
    assert points["oracle", "merge_then_target"] == pytest.approx([0.1 * i + 0.01, 0.1 * i + 0.011])


def test_class_means_prefer_the_fine_tuned_schedule_and_average_the_seeds(tmp_path):
    values = _values(FULL)
    values["test_class", 1, "lat", "merge_then_target", "bicycle"] = 0.9
    means = figures.class_means(_ctx(tmp_path, FULL, values), CLASSES)
    assert means["lat"][3] == pytest.approx((0.3 + 0.9) / 2)


def test_label_points_list_every_relabelling_of_the_first_seed(tmp_path):
    points = figures.label_points(_ctx(tmp_path, FULL, _values(FULL)))
    assert points == {"lat": (0.2, 0.5), "pseudo-label": (0.2, 0.5), "lat-no-sff": (0.2, 0.5)}


@pytest.mark.parametrize("config", [QUICK, FULL], ids=["quick", "full"])
def test_figures_are_written_as_png_and_registered(tmp_path, config):
    pytest.importorskip("matplotlib")
    ctx = _ctx(tmp_path, config, _values(config))
    figures.run(ctx)
    files = [f["file"] for f in ctx.result.figures]
    assert files == list(figures.FIGURES)
    for f in files:
        assert (tmp_path / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nothing_measured_draws_nothing(tmp_path):
    ctx = _ctx(tmp_path, QUICK, {})
    figures.run(ctx)
    assert ctx.result.figures == [] and not list(tmp_path.iterdir())


@pytest.mark.parametrize("value", [0.0, 0.4])
def test_figures_draw_without_warnings_even_when_every_ap_is_zero(value):
    """A tiny run can score AP 0 everywhere: the axes still get a valid range (no warning,
    which the test suite turns into an error)."""
    plt = pytest.importorskip("matplotlib.pyplot")
    points = {("lat", "single"): [value, value], ("oracle", "merge_then_target"): [value]}
    per_class = {"lat": [value] * 4, "oracle": [value] * 4}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for draw in (
            lambda ax: figures.draw_ap_per_method(ax, points),
            lambda ax: figures.draw_per_class(ax, per_class, ("car", "truck", "person", "bicycle")),
        ):
            fig, ax = plt.subplots()
            draw(ax)
            low, high = ax.get_ylim()
            assert low == 0.0 and high > max(value, 0.0)
            plt.close(fig)
