"""The `scale_advice` settings: what `murmurnet scale-advice` (experimental) aims for.

The original MurmurNet's `autoscaling` section maps here as well as onto `ray_serve.models`
(`ray_serve.from_legacy_autoscaling` reads it once for both): its workers bound the
replicas, `evaluation_period` is the series' resolution, `prediction_window` how far ahead
capacity must be ready, and its cooldowns keep the advice from swinging. Its default
scale_up_cooldown was 300 s, long enough to defeat a forecast five minutes ahead, so ours
is 60 s.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ScaleAdviceSettings(BaseModel):
    """Bounds, horizon and damping of the replica advice; times in seconds."""

    model_config = ConfigDict(extra="forbid")

    min_replicas: int = Field(1, ge=0, le=1024, description="fewest replicas advised")
    max_replicas: int = Field(10, ge=1, le=1024, description="most replicas advised")
    horizon: float = Field(
        300.0, ge=0, description="how far ahead capacity must be ready (a replica's start-up)"
    )
    step: float = Field(
        60.0, gt=0, description="seconds between the request-rate points read from Prometheus"
    )
    scale_up_cooldown: float = Field(
        60.0, ge=0, description="seconds after a rise before the advice rises again"
    )
    scale_down_cooldown: float = Field(
        600.0,
        ge=0,
        description="seconds the need must stay lower before the advice goes down (to the "
        "highest count needed within them)",
    )
    tolerance: float = Field(
        0.1, ge=0, lt=1, description="share of a replica's capacity tolerated before moving"
    )

    @model_validator(mode="after")
    def _bounds(self) -> ScaleAdviceSettings:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"max_replicas {self.max_replicas} is below min_replicas {self.min_replicas}"
            )
        return self


ADVICE_KEYS = {
    "min_workers": "min_replicas",
    "max_workers": "max_replicas",
    "prediction_window": "horizon",
    "evaluation_period": "step",
    "scale_up_cooldown": "scale_up_cooldown",
    "scale_down_cooldown": "scale_down_cooldown",
}
"""The original `autoscaling` keys that bear on the advice (its README and config_slots.yaml;
`prediction_window` only in its code, beside `enable_predictive_scaling`)."""
