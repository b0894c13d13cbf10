"""The `blackboard` settings: where a run's entries live.

`memory` (the default) keeps them in the process that runs the murmur. `redis` puts each run
on one Redis stream, so `murmurnet watch` can follow a run from anywhere that reaches the
same Redis.

The original MurmurNet's `performance_optimization` compression keys map onto the
compression here (see `from_legacy_performance`): they named how shared payloads are
compressed, which is what this section's compression does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from murmurnet.errors import ConfigError

# zstd's fast mode: what the original asked for when it chose lz4 (speed over ratio).
LZ4_LIKE_LEVEL = -1


class BlackboardSettings(BaseModel):
    """Where runs' entries live and how they are sent there.

    Only `store: redis` reads the other keys; an in-memory board has nothing to connect to
    or compress.
    """

    model_config = ConfigDict(extra="forbid")

    store: Literal["memory", "redis"] = Field(
        "memory", description="memory (one process) or redis (shared by processes and nodes)"
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        pattern=r"^(redis|rediss|unix)://",
        description="the Redis server (redis://, rediss:// for TLS, unix:// for a socket)",
    )
    namespace: str = Field(
        "murmurnet",
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="prefix of every key, so several deployments can share one Redis",
    )
    compression: Literal["zstd", "none"] = Field(
        "zstd", description="how payloads above `compress_above` bytes are stored"
    )
    compression_level: int = Field(
        3, ge=-7, le=22, description="zstd level: negative is faster, higher is smaller"
    )
    compress_above: int = Field(
        1024,
        ge=0,
        description="payloads (JSON) longer than this many bytes are compressed; small ones "
        "are not, because zstd's frame costs more than it saves on a short contribution",
    )
    ttl_hours: float = Field(
        24.0,
        ge=0,
        description="how long a run's entries stay after its last write (0: forever), so a "
        "busy server does not fill Redis",
    )
    timeout: float = Field(
        2.0, gt=0, description="seconds to connect or to wait for one Redis reply"
    )
    retry_seconds: float = Field(
        15.0,
        ge=0,
        description="how long a run keeps retrying when Redis goes away mid-run (a restart, a "
        "failover) before it fails with a one-line error",
    )


PERFORMANCE_KEYS = frozenset(
    {
        "enable",
        "enable_latency_tracing",
        "trace_sample_rate",
        "optimization_threshold_ms",
        "enable_memory_tracking",
        "enable_gc_optimization",
        "memory_warning_threshold_mb",
        "memory_critical_threshold_mb",
        "enable_compression",
        "compression_algorithm",
        "compression_threshold_bytes",
        "enable_batching",
        "batch_size",
        "batch_timeout_ms",
        "enable_profiling",
        "profile_output_dir",
        "enable_auto_optimization",
        "optimization_interval",
    }
)
"""The original's `performance_optimization` keys (its config_slots.yaml); only the
compression ones mean something here, the others are accepted and not used."""


def from_legacy_performance(section: dict[str, Any], path: Path) -> dict[str, Any]:
    """The `blackboard` keys the original's `performance_optimization` section means.

    `compression_algorithm: zstd` is zstd at its default level. We ship only zstd (one codec,
    so a reader never needs two libraries), so `lz4` does NOT use lz4: it means zstd at its
    fast negative level, which is what choosing lz4 asked for — speed over ratio. Entries
    written either way read back the same. `enable_compression: false` stores payloads as
    they are; `compression_threshold_bytes` is `compress_above`.
    """
    for key in section:
        if key not in PERFORMANCE_KEYS:
            raise ConfigError(
                f"unknown key 'performance_optimization.{key}' in config file {path}",
                hint=f"the section takes {', '.join(sorted(PERFORMANCE_KEYS))}",
            )
    values: dict[str, Any] = {}
    algorithm = section.get("compression_algorithm")
    if algorithm is not None:
        values["compression"] = "zstd"
        if algorithm == "lz4":
            values["compression_level"] = LZ4_LIKE_LEVEL
    if section.get("enable_compression") is False:
        values = {"compression": "none"}
    threshold = section.get("compression_threshold_bytes")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
            raise ConfigError(
                f"invalid performance_optimization.compression_threshold_bytes {threshold!r} "
                f"in config file {path}",
                hint="give a whole number of bytes, e.g. 1024",
            )
        values["compress_above"] = threshold
    return values
