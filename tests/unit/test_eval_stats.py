from __future__ import annotations

import pytest

from murmurnet.evaluation.stats import Interval, bootstrap_ci, mcnemar_exact, paired_difference


def test_ci_contains_the_mean_and_is_seeded() -> None:
    values = [True] * 42 + [False] * 18
    ci = bootstrap_ci(values)
    assert ci.estimate == pytest.approx(0.7)
    assert ci.low < 0.7 < ci.high
    assert ci.low > 0.55 and ci.high < 0.85
    assert bootstrap_ci(values) == ci  # same seed, same interval


def test_ci_of_constant_values_is_a_point() -> None:
    ci = bootstrap_ci([True] * 10)
    assert (ci.estimate, ci.low, ci.high) == (1.0, 1.0, 1.0)


def test_ci_refuses_empty() -> None:
    with pytest.raises(ValueError):
        bootstrap_ci([])


def test_identical_strategies_give_p_one() -> None:
    results = [True, False, True, True, False] * 12
    paired = paired_difference(results, results)
    assert paired.p_value == 1.0
    assert paired.difference.estimate == 0.0
    assert (paired.wins, paired.losses) == (0, 0)


def test_clearly_better_strategy_gives_small_p() -> None:
    baseline = [False] * 30 + [True] * 30
    better = [True] * 28 + [False] * 2 + [True] * 30
    paired = paired_difference(baseline, better)
    assert (paired.wins, paired.losses) == (28, 0)
    assert paired.p_value < 1e-6
    assert paired.difference.estimate == pytest.approx(28 / 60)
    assert paired.difference.low > 0


def test_mcnemar_exact_values() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(5, 0) == pytest.approx(2 / 32)
    assert mcnemar_exact(1, 6) == pytest.approx(2 * (1 + 7) / 128)
    assert mcnemar_exact(2000, 1800) < 0.01  # large n stays exact, no overflow


def test_paired_needs_the_same_rows() -> None:
    with pytest.raises(ValueError):
        paired_difference([True], [True, False])


def test_a_difference_reads_in_points_with_its_interval() -> None:
    assert Interval(estimate=0.052, low=-0.007, high=0.087).in_points() == "+5.2 (-0.7 – +8.7)"
