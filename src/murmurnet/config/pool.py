"""The endpoint pool's settings: a model served by several OpenAI-compatible servers.

A model of `type: pool` lists its `endpoints`; how a round is routed among them, how often
they are checked and when one is taken out are `PoolSettings`. Those live once for the run
(`endpoint_pool:`) and a pool model may change some of them for itself, because one
deployment's servers usually share one policy.

The original MurmurNet's `distributed_coordination` section maps onto `endpoint_pool` (see
`from_legacy_coordination`): its `load_balance_strategy` names the same four strategies,
`heartbeat_interval` is the health-check interval, and `failure_timeout` (how long a silent
node was given before it counted as failed) becomes the number of failed checks in a row
that take an endpoint out.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from murmurnet.errors import ConfigError

Strategy = Literal["round_robin", "least_load", "capability", "hybrid"]


class EndpointSpec(BaseModel):
    """One server of a pool and what it declares it can do (for `capability` routing)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Base URL, usually ending in /v1 (as for `type: openai`).")
    api_model: str | None = Field(
        None, description="The model's name on this server (else the pool model's `api_model`)."
    )
    api_key: str | None = Field(
        None, description="Bearer token for this server (else the pool model's, OPENAI_API_KEY)."
    )
    languages: list[str] = Field(
        default_factory=list, description="Languages it answers well (ja, en); empty: any."
    )
    context_size: int | None = Field(
        None, ge=256, le=1048576, description="Its context window (else the model's)."
    )
    max_in_flight: int = Field(
        16, ge=1, le=1024, description="Requests it takes at once; load is in-flight / this."
    )

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        """Parsed as httpx will parse it, so that a URL it cannot use (a bad port, no host)
        is a line naming the key now, not a traceback from the first round."""
        import httpx  # here: loading settings stays light for runs without a pool

        if not value.startswith(("http://", "https://")):
            raise ValueError(f"endpoint URL {value!r} must start with http:// or https://")
        try:
            url = httpx.URL(value)
            host, port = url.host, url.port
        except httpx.InvalidURL as exc:
            raise ValueError(f"endpoint URL {value!r} is not a usable URL: {exc}") from None
        if not host:
            raise ValueError(f"endpoint URL {value!r} names no host")
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"endpoint URL {value!r} has port {port}, outside 1-65535")
        return value.rstrip("/")

    @field_validator("languages")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [language.lower() for language in value]


class PoolSettings(BaseModel):
    """How a pool routes, checks and takes out its endpoints."""

    model_config = ConfigDict(extra="forbid")

    strategy: Strategy = Field(
        "hybrid",
        description="round_robin; least_load (fewest in-flight requests); capability "
        "(endpoints whose languages and context fit the round); hybrid (capability, then "
        "least load).",
    )
    health_interval: float = Field(
        5.0, ge=0, description="Seconds between health checks (GET /health or /v1/models); 0: off."
    )
    health_timeout: float = Field(2.0, gt=0, description="Seconds a health check may take.")
    failure_threshold: int = Field(
        3, ge=1, le=100, description="Failures in a row (requests or checks) that take it out."
    )
    cooldown: float = Field(
        15.0, ge=0, description="Seconds an endpoint stays out before one probe may bring it back."
    )
    max_load: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Share of max_in_flight above which an endpoint is used only when all are.",
    )


_STRATEGIES: dict[str, Strategy] = {
    "round_robin": "round_robin",
    "least_loaded": "least_load",
    "least_load": "least_load",
    "capability_aware": "capability",
    "capability": "capability",
    "hybrid": "hybrid",
}
LEGACY_KEYS = frozenset(
    {
        "enable",
        "heartbeat_interval",
        "failure_timeout",
        "consensus_algorithm",
        "load_balance_strategy",
        "max_load_threshold",
    }
)
"""The keys of the original's `distributed_coordination` section (its config_slots.yaml)."""


def from_legacy_coordination(section: dict[str, Any], path: Path) -> dict[str, Any]:
    """The `endpoint_pool` values the original's `distributed_coordination` section means.

    `enable: false` keeps the section's pool keys from applying (the file still loads);
    `consensus_algorithm` is the agreement protocol's business, not the pool's.
    """
    for key in section:
        if key not in LEGACY_KEYS:
            raise ConfigError(
                f"unknown key 'distributed_coordination.{key}' in config file {path}",
                hint=f"the section takes {', '.join(sorted(LEGACY_KEYS))}",
            )
    if section.get("enable", True) is False:
        return {}
    values: dict[str, Any] = {}
    strategy = section.get("load_balance_strategy")
    if strategy is not None:
        if strategy not in _STRATEGIES:
            raise ConfigError(
                f"invalid distributed_coordination.load_balance_strategy {strategy!r} "
                f"in config file {path}",
                hint="choose one of round_robin, least_loaded, capability_aware, hybrid",
            )
        values["strategy"] = _STRATEGIES[strategy]
    for key in ("heartbeat_interval", "max_load_threshold"):
        value = section.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(
                f"invalid distributed_coordination.{key} {value!r} in config file {path}",
                hint="give a number",
            )
    interval = section.get("heartbeat_interval")
    if interval is not None:
        values["health_interval"] = interval
    timeout = section.get("failure_timeout")
    if timeout is not None:
        step = interval if isinstance(interval, int | float) and interval > 0 else 5.0
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(
                f"invalid distributed_coordination.failure_timeout {timeout!r} "
                f"in config file {path}",
                hint="give the seconds a silent endpoint is allowed, e.g. 15",
            )
        values["failure_threshold"] = max(1, math.ceil(timeout / step))
    if section.get("max_load_threshold") is not None:
        values["max_load"] = section["max_load_threshold"]
    return values
