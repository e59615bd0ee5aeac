"""The --full wall-time estimate: the run's units, phase by phase, scheduled first-come
first-served on N workers."""

import pytest
from lat_detect._experiments.config import EXTENDED, FULL
from lat_detect._experiments.estimate import Rates, estimate, makespan, phases

RATES = Rates(step=0.3, transfer_step=0.2, image=0.01)


@pytest.mark.parametrize(
    ("durations", "workers", "expected"),
    [
        ([3, 1, 1, 1], 2, 3),  # the long unit on one worker, the three short on the other
        ([1, 1, 1, 1], 2, 2),
        ([1, 1, 1, 3], 2, 4),  # submitted last, the long unit cannot overlap
        ([2, 2, 2], 1, 6),
        ([2], 4, 2),
        ([], 2, 0),
    ],
)
def test_makespan_is_first_come_first_served_on_the_free_worker(durations, workers, expected):
    assert makespan(durations, workers) == expected


def test_the_full_run_has_the_units_reproduce_submits():
    sizes = [len(p) for p in phases(FULL, RATES, lrs_per_method=1)]
    # two transfer seeds; the SFF ablation; 6 methods x 3 learning rates; seed-0 tests and
    # seed-1 retrains of the 6 methods
    assert sizes == [2, 1, 18, 12]
    assert [len(p) for p in phases(EXTENDED, RATES, lrs_per_method=1)] == [3, 6, 18, 18]


def test_one_worker_takes_the_sum_and_two_take_at_least_half():
    total = sum(sum(p) for p in phases(FULL, RATES, lrs_per_method=2))
    assert estimate(FULL, RATES, 1, lrs_per_method=2) == pytest.approx(total)
    two = estimate(FULL, RATES, 2, lrs_per_method=2)
    assert total / 2 <= two < total


def test_choosing_two_learning_rates_costs_more_on_later_seeds():
    assert estimate(FULL, RATES, 2, lrs_per_method=2) > estimate(FULL, RATES, 2, lrs_per_method=1)
