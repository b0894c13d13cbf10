"""The `ray_serve` settings: `murmurnet serve --ray` on a Ray cluster.

The HTTP API runs as one Serve deployment (the ingress) and every model as another, whose
replicas each hold one loaded model. Serve adds and removes model replicas on the requests
ongoing at each replica (`autoscaling_config`); `ScalingSettings` is that config, kept here
so a YAML file sets it like every other setting.

The original MurmurNet's `autoscaling` section maps onto the model replicas' scaling (see
`from_legacy_autoscaling`): its workers are the replicas, its cooldowns the delays Serve
waits before it adds or removes one, its `evaluation_period` the window Serve averages the
load over. Its CPU, memory and queue targets and its Kubernetes keys have no counterpart in
a scaler that counts requests: they are accepted and not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from murmurnet.config.scale_advice import ADVICE_KEYS
from murmurnet.errors import ConfigError


class ScalingSettings(BaseModel):
    """Ray Serve's `autoscaling_config` for one kind of deployment."""

    model_config = ConfigDict(extra="forbid")

    min_replicas: int = Field(1, ge=1, le=1024, description="fewest replicas kept running")
    max_replicas: int = Field(4, ge=1, le=1024, description="most replicas Serve starts")
    target_ongoing_requests: float = Field(
        2.0,
        gt=0,
        description="requests (running or queued) each replica aims to hold; a model "
        "replica's request is one round of one murmur, batched with the others it holds",
    )
    upscale_delay_s: float = Field(
        30.0, ge=0, description="seconds the load must stay high before a replica is added"
    )
    downscale_delay_s: float = Field(
        600.0,
        ge=0,
        description="seconds the load must stay low before a replica goes (it takes its "
        "loaded model and cached prompts with it)",
    )
    look_back_period_s: float = Field(
        30.0, gt=0, description="seconds of load Serve averages before it decides"
    )

    @model_validator(mode="after")
    def _bounds(self) -> ScalingSettings:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"max_replicas {self.max_replicas} is below min_replicas {self.min_replicas}"
            )
        return self

    def autoscaling_config(self) -> dict[str, Any]:
        """The dict Serve's `autoscaling_config` takes."""
        return self.model_dump()


class RayServeSettings(BaseModel):
    """Where the Serve application runs and how its deployments scale and fail over."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(
        None,
        description="an existing Ray cluster (host:port of its head, ray://host:10001, or "
        "auto); unset: `serve --ray` starts a local Ray and stops it on exit",
    )
    models: ScalingSettings = Field(
        default_factory=ScalingSettings,
        description="autoscaling of every model deployment (the original `autoscaling` "
        "section maps here)",
    )
    max_ongoing_requests: int = Field(
        8, ge=1, le=1024, description="rounds one model replica takes at once; more wait"
    )
    ingress_max_ongoing_requests: int = Field(
        64,
        ge=1,
        le=4096,
        description="HTTP requests the ingress takes at once. It is one replica: runs, their "
        "events and /metrics live in its memory, and a second replica would answer "
        "GET /v1/murmur/{id} with 404 for runs the first one holds",
    )
    replica_cpus: float | None = Field(
        None,
        gt=0,
        description="CPUs Ray reserves for a model replica (unset: the `threads` setting, else 1)",
    )
    ingress_cpus: float = Field(0.5, ge=0, description="CPUs Ray reserves for an ingress")
    attempts: int = Field(
        3,
        ge=1,
        le=20,
        description="replicas a round is tried on when the one running it dies; a round "
        "is written to the blackboard only once it has fully come back, so a retry never "
        "duplicates it",
    )
    retry_seconds: float = Field(
        30.0,
        gt=0,
        description="how long a round keeps looking for a live replica after failures "
        "(Serve restarts a dead one within seconds)",
    )

    def model_cpus(self, threads: int | None) -> float:
        return self.replica_cpus or float(threads or 1)


ORIGINAL_KEYS = {
    "min_workers": "min_replicas",
    "max_workers": "max_replicas",
    "scale_up_cooldown": "upscale_delay_s",
    "scale_down_cooldown": "downscale_delay_s",
    "evaluation_period": "look_back_period_s",
}
"""The original `autoscaling` keys with a counterpart in Serve's request-based scaling."""
UNUSED_KEYS = frozenset(
    {
        "scaling_strategy",
        "target_cpu_utilization",
        "target_memory_utilization",
        "max_queue_length",
        "scale_up_threshold",
        "scale_down_threshold",
        "enable_predictive_scaling",
        "use_kubernetes",
        "kubernetes_namespace",
        "deployment_name",
        "worker_image",
        "worker_cpu_request",
        "worker_cpu_limit",
        "worker_memory_request",
        "worker_memory_limit",
    }
)
"""The original's other keys (its config_slots.yaml and code): accepted, not used here;
its workers, cooldowns, `evaluation_period` and `prediction_window` also set `scale_advice`."""


def from_legacy_autoscaling(section: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """The settings the original's `autoscaling` section means: `ray_serve` (the model
    replicas' scaling) and `scale_advice` (what the forecaster aims for).

    `enable: false` pins the model replicas at `min_workers` (Serve's bounds equal), which
    is what a disabled autoscaler with that many workers did.
    """
    numeric = {*ORIGINAL_KEYS, *ADVICE_KEYS}
    for key, value in section.items():
        if key != "enable" and key not in numeric and key not in UNUSED_KEYS:
            known = sorted({"enable", *numeric, *UNUSED_KEYS})
            raise ConfigError(
                f"unknown key 'autoscaling.{key}' in config file {path}",
                hint=f"the section takes {', '.join(known)}",
            )
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if key in numeric and value is not None and not number:
            raise ConfigError(
                f"invalid autoscaling.{key} {value!r} in config file {path}",
                hint="give a number",
            )
    given = {key: value for key, value in section.items() if value is not None}
    scaling = {name: given[key] for key, name in ORIGINAL_KEYS.items() if key in given}
    if section.get("enable", True) is False and "min_replicas" in scaling:
        scaling["max_replicas"] = scaling["min_replicas"]
    advice = {name: given[key] for key, name in ADVICE_KEYS.items() if key in given}
    return {"ray_serve": {"models": scaling} if scaling else {}, "scale_advice": advice}
