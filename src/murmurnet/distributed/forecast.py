"""Predictive scaling (experimental): forecast the request rate, recommend a replica count.

Reactive autoscalers (Ray Serve's, the HPA, KEDA) add replicas once the load is already
there, and a MurmurNet replica needs seconds to a minute before it answers (it loads a
model). Forecasting the rate one start-up time ahead lets the replicas arrive with the load.

The forecaster is Holt's linear exponential smoothing with a damped trend (Gardner &
McKenzie): a level and a trend, each smoothed, the trend's extrapolation shrunk step by step
so a ramp that ends is not projected on forever. It has no seasonal term: Holt-Winters needs
at least two whole seasons of history at the query's resolution (two days for a daily
cycle), which a range query over a young deployment rarely holds, and a season fitted on
too little history forecasts worse than none. This is advice, not a controller: nothing
here changes a deployment.

Capacity must cover the larger of the current level and the forecast (the damped path is
monotone, so that is the most the next `horizon` needs). Against flapping, as the HPA does
it: going down keeps `tolerance` of headroom and goes only as far as every advice of the
last `scale_down_cooldown` seconds allowed (a stabilisation window); going up is at once,
except within `scale_up_cooldown` of the previous scale-up.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field

from murmurnet.config.scale_advice import ScaleAdviceSettings
from murmurnet.errors import ConfigError


@dataclass(frozen=True)
class Smoothing:
    """Holt's parameters: `alpha` weighs the newest point in the level, `beta` the newest
    slope in the trend, `damping` (phi, 0-1) shrinks each further step of the trend."""

    alpha: float = 0.3
    beta: float = 0.1
    damping: float = 0.9

    def __post_init__(self) -> None:
        for name in ("alpha", "beta", "damping"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"smoothing {name} must be in (0, 1], not {value}")


@dataclass(frozen=True)
class Forecast:
    """The smoothed state after the last point, and the rate `horizon` steps ahead."""

    level: float
    trend: float
    rate: float


def holt(values: Sequence[float], horizon: float, smoothing: Smoothing = Smoothing()) -> Forecast:
    """Damped Holt over evenly spaced `values`; `horizon` is in steps and may be fractional.

    The forecast never goes below zero: a rate cannot.
    """
    if not values:
        raise ConfigError("a forecast needs at least one point of the series")
    a, b, phi = smoothing.alpha, smoothing.beta, smoothing.damping
    level = float(values[0])
    # The first slope from a few steps, not one: one step of noise would be a trend.
    first = min(len(values) - 1, 4)
    trend = (values[first] - values[0]) / first if first else 0.0
    for value in values[1:]:
        previous = level
        level = a * value + (1 - a) * (level + phi * trend)
        trend = b * (level - previous) + (1 - b) * phi * trend
    ahead = horizon if phi == 1.0 else phi * (1 - phi**horizon) / (1 - phi)
    return Forecast(level=max(level, 0.0), trend=trend, rate=max(level + ahead * trend, 0.0))


def replicas_for(rate: float, capacity: float, low: int, high: int) -> int:
    """The fewest replicas of `capacity` requests/s each that serve `rate`, within bounds.

    A hair of slack keeps 4.0000000001 (a float's noise) from asking for a fifth replica.
    """
    needed = math.ceil(rate / capacity - 1e-9) if rate > 0 else 0
    return min(max(needed, low), high)


class ScalePolicy(ScaleAdviceSettings):
    """The `scale_advice` settings plus what only the caller knows: the requests/s one
    replica serves. `step` is the series' resolution (a Prometheus range query's `step`),
    `horizon` how far ahead capacity must be ready, both in seconds."""

    model_config = ConfigDict(frozen=True)

    capacity: float = Field(gt=0, description="requests/s one replica serves")
    smoothing: Smoothing = Field(default_factory=Smoothing)


@dataclass(frozen=True)
class Advice:
    """One recommendation and what it rests on (rates in requests/s)."""

    replicas: int
    needed: int
    forecast: Forecast
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "replicas": self.replicas,
            "needed": self.needed,
            "level": self.forecast.level,
            "trend_per_step": self.forecast.trend,
            "forecast": self.forecast.rate,
            "reason": self.reason,
        }


class ScaleAdvisor:
    """Recommends replicas over time; keeps the current count, when it last grew, and the
    counts it would have gone down to within the scale-down window."""

    def __init__(self, policy: ScalePolicy, replicas: int | None = None) -> None:
        self.policy = policy
        self.replicas = replicas
        self._last_up: float | None = None
        self._floors: deque[tuple[float, int]] = deque()

    def advise(self, rates: Sequence[float], now: float) -> Advice:
        """Advice at time `now` (seconds) from the rate series up to now, one point a step."""
        p = self.policy
        forecast = holt(rates, p.horizon / p.step, p.smoothing)
        demand = max(forecast.level, forecast.rate)
        needed = replicas_for(demand, p.capacity, p.min_replicas, p.max_replicas)
        # Going down keeps `tolerance` of headroom, and only as far as every advice in the
        # window allowed: one quiet point after a busy minute is not a trend.
        floor = replicas_for(demand * (1 + p.tolerance), p.capacity, p.min_replicas, p.max_replicas)
        self._floors.append((now, floor))
        while self._floors[0][0] <= now - p.scale_down_cooldown:
            self._floors.popleft()
        current = self.replicas
        if current is None:  # nothing to cool down from yet
            self.replicas = needed
            return Advice(needed, needed, forecast, "first advice")
        if needed > current:
            if self._last_up is not None and now - self._last_up < p.scale_up_cooldown:
                return Advice(current, needed, forecast, "scale-up cooldown")
            self._last_up = now
            self.replicas = needed
            return Advice(needed, needed, forecast, "demand above capacity")
        lowest = max(floor for _, floor in self._floors)
        if lowest < current:
            self.replicas = lowest
            return Advice(lowest, needed, forecast, "demand below capacity")
        reason = "steady" if floor >= current else "scale-down window"
        return Advice(current, needed, forecast, reason)


def replay(
    policy: ScalePolicy, rates: Sequence[float], warmup: int = 5, replicas: int | None = None
) -> list[Advice]:
    """The advisor run point by point over a series, as if it had watched it live: how a
    one-shot command gets cooldowns and hysteresis from history instead of from state.
    The first `warmup` points only seed the level and trend (a trend from two points is
    mostly noise)."""
    if not rates:
        raise ConfigError("the series is empty: no rate to forecast from")
    advisor = ScaleAdvisor(policy, replicas)
    start = min(max(warmup, 1), len(rates))
    return [advisor.advise(rates[:end], end * policy.step) for end in range(start, len(rates) + 1)]
