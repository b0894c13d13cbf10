"""Predictive scaling on synthetic request-rate series: Holt's forecast on shapes whose
answer is known, and the advisor on a step, a ramp, a noisy constant and a flapping load
(it follows the first two ahead of a reactive scaler and does not chase the last two)."""

from __future__ import annotations

import random
from itertools import pairwise
from pathlib import Path

import pytest
from pydantic import ValidationError

from murmurnet.config import load_config
from murmurnet.distributed.forecast import (
    ScaleAdvisor,
    ScalePolicy,
    Smoothing,
    holt,
    replay,
    replicas_for,
)
from murmurnet.errors import ConfigError

CAPACITY = 1.0  # requests/s one replica serves: replicas needed = ceil(rate)


def counts(policy: ScalePolicy, rates: list[float]) -> list[int]:
    return [advice.replicas for advice in replay(policy, rates)]


def changes(replicas: list[int]) -> int:
    return sum(1 for a, b in pairwise(replicas) if a != b)


def test_holt_keeps_a_constant_and_extends_a_line() -> None:
    assert holt([3.0] * 20, horizon=5).rate == pytest.approx(3.0)
    line = [2.0 + 0.5 * t for t in range(40)]
    undamped = holt(line, horizon=4, smoothing=Smoothing(damping=1.0))
    assert undamped.trend == pytest.approx(0.5) and undamped.rate == pytest.approx(line[-1] + 2)
    damped = holt(line, horizon=4)
    assert line[-1] < damped.rate < undamped.rate  # the trend is extended, but shrunk


def test_holt_never_forecasts_a_negative_rate() -> None:
    assert holt([10.0 - t for t in range(10)], horizon=30).rate == 0.0


def test_replicas_cover_the_rate_within_bounds() -> None:
    assert replicas_for(4.0, CAPACITY, 1, 10) == 4
    assert replicas_for(4.0000000001, CAPACITY, 1, 10) == 4  # float noise, not a 5th replica
    assert replicas_for(4.2, CAPACITY, 1, 10) == 5
    assert replicas_for(0.0, CAPACITY, 1, 10) == 1
    assert replicas_for(0.0, CAPACITY, 0, 10) == 0  # scale to zero when allowed
    assert replicas_for(99.0, CAPACITY, 1, 10) == 10


def test_a_step_is_followed_within_a_few_steps_and_then_held() -> None:
    replicas = counts(ScalePolicy(capacity=CAPACITY), [2.0] * 20 + [8.0] * 60)
    before, after = replicas[:15], replicas[15:]  # the step is the 16th advice (warmup 5)
    assert set(before) == {2}
    assert max(after[:4]) >= 8  # at 8 or above within four steps
    assert 8 <= after[-1] <= 9  # settled: 8 needed, one more within the tolerance band
    assert max(replicas) <= 10 and changes(after[20:]) <= 1


def test_a_ramp_is_met_ahead_of_a_reactive_scaler() -> None:
    ramp = [1.0 + 0.15 * t for t in range(60)]
    predictive = counts(ScalePolicy(capacity=CAPACITY), ramp)
    reactive = counts(ScalePolicy(capacity=CAPACITY, horizon=0.0), ramp)
    actual = [replicas_for(rate, CAPACITY, 1, 10) for rate in ramp[4:]]
    late = [i for i, (have, need) in enumerate(zip(predictive, actual, strict=True)) if have < need]
    assert late == []  # never short of what the load needs at that moment
    for level in range(3, 10):
        assert predictive.index(level) < reactive.index(level)


@pytest.mark.parametrize("seed", range(6))
def test_a_noisy_constant_does_not_flap(seed: int) -> None:
    noise = random.Random(seed)
    rates = [4.0 + noise.gauss(0.0, 0.5) for _ in range(120)]
    replicas = counts(ScalePolicy(capacity=CAPACITY), rates)
    assert set(replicas[10:]) <= {4, 5, 6}
    assert changes(replicas) <= 3  # two hours of noise: a few changes at most


def test_a_flapping_load_settles_on_its_peak() -> None:
    replicas = counts(ScalePolicy(capacity=CAPACITY), [3.0, 5.0] * 60)
    assert changes(replicas) <= 2 and set(replicas[20:]) == {5}


def test_scale_down_waits_for_a_quiet_window() -> None:
    policy = ScalePolicy(capacity=CAPACITY, step=60.0, scale_down_cooldown=600.0)
    replicas = counts(policy, [8.0] * 20 + [2.0] * 40)
    drop = replicas.index(min(replicas))
    assert min(replicas) == 3  # 2 needed, plus the tolerance (2 * 1.1 needs 3)
    assert drop - 15 >= 10  # the load fell at advice 15; ten quiet minutes before it shows


def test_the_bounds_hold_at_both_ends() -> None:
    policy = ScalePolicy(capacity=CAPACITY, min_replicas=2, max_replicas=6)
    assert set(counts(policy, [50.0] * 30)) == {6}
    assert set(counts(policy, [0.0] * 30)) == {2}
    assert counts(policy, [0.0] * 30 + [50.0] * 10)[-1] == 6
    advisor = ScaleAdvisor(policy, replicas=9)  # found above the bound: brought back into it
    assert advisor.advise([5.0] * 10, 600.0).replicas == 6


def test_scale_up_cooldown_spaces_increases() -> None:
    policy = ScalePolicy(capacity=CAPACITY, step=60.0, scale_up_cooldown=300.0)
    advisor = ScaleAdvisor(policy, replicas=1)
    ramp = [1.0 + t for t in range(12)]
    advices = [advisor.advise(ramp[:end], end * 60.0) for end in range(2, 13)]
    ups = [i for i, a in enumerate(advices) if a.reason == "demand above capacity"]
    assert all(b - a >= 5 for a, b in pairwise(ups))
    assert any(a.reason == "scale-up cooldown" for a in advices)


def test_the_original_autoscaling_keys_set_the_advice(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "autoscaling:\n  enable: true\n  scaling_strategy: hybrid\n  min_workers: 2\n"
        "  max_workers: 5\n  target_cpu_utilization: 0.7\n  scale_up_cooldown: 300\n"
        "  scale_down_cooldown: 600\n  evaluation_period: 30\n  prediction_window: 120\n"
        "  enable_predictive_scaling: true\n"
        "scale_advice: {max_replicas: 4}\n"
    )
    advice = load_config(config_file=path).scale_advice
    assert (advice.min_replicas, advice.max_replicas) == (2, 4)  # the file's own key wins
    assert (advice.step, advice.horizon) == (30.0, 120.0)
    assert (advice.scale_up_cooldown, advice.scale_down_cooldown) == (300.0, 600.0)
    path.write_text("scale_advice: {min_replicas: 3, max_replicas: 2}\n")
    with pytest.raises(ConfigError, match="scale_advice"):
        load_config(config_file=path)


@pytest.mark.parametrize(
    "wrong",
    [
        {"capacity": 0.0},
        {"capacity": 1.0, "min_replicas": 3, "max_replicas": 2},
        {"capacity": 1.0, "step": 0.0},
        {"capacity": 1.0, "tolerance": 1.0},
    ],
)
def test_a_wrong_policy_is_refused(wrong: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        ScalePolicy(**wrong)
    with pytest.raises(ConfigError):
        Smoothing(alpha=0.0)
