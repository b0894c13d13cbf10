"""Reaching Redis: bounded waits, one-line errors, and retries across a restart.

Every wait is bounded (`timeout` per reply, `retry_seconds` in all), so an unreachable or
vanished Redis is a `BlackboardUnavailableError` the CLI prints on one line, never a hang.
Retrying is safe because every write the board makes is idempotent (see `redis_board`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.errors import BlackboardUnavailableError, ConfigError

T = TypeVar("T")

MIN_REDIS = 7

# A restart refuses connections, then answers LOADING while it replays its append-only file;
# after a failover a client may briefly still talk to a read-only replica.
TRANSIENT = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError)


class RunKeys(NamedTuple):
    entries: str
    """The run's stream: one entry per write, ID `0-<version>`."""
    writes: str
    """Write id → stream ID of every write made, so a retried write is not made twice."""


def run_keys(namespace: str, run_id: str) -> RunKeys:
    """The keys of one run. The `{run_id}` hash tag keeps them in one Redis Cluster slot, as
    the script that writes both needs."""
    base = f"{namespace}:run:{{{run_id}}}"
    return RunKeys(f"{base}:entries", f"{base}:writes")


def runs_key(namespace: str) -> str:
    """Run ids scored by their start time: how `murmurnet watch` finds the newest run."""
    return f"{namespace}:runs"


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(settings: BlackboardSettings) -> redis.Redis:
    """A client for `settings.redis_url`, checked once so a wrong URL or too old a server
    fails before a run starts, not in the middle of one."""
    try:
        client = redis.Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.timeout,
            socket_connect_timeout=settings.timeout,
            # Retries are ours (`retrying`), bounded by retry_seconds, not the client's.
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError as exc:
        url = redacted(settings.redis_url)
        raise ConfigError(f"invalid blackboard.redis_url {url}: {exc}") from None
    try:
        version = str(client.info("server").get("redis_version", "0"))
    except redis.RedisError as exc:
        client.close()
        raise unavailable(settings, exc) from None
    if int(version.split(".")[0]) < MIN_REDIS:
        client.close()
        raise BlackboardUnavailableError(
            f"the Redis at {redacted(settings.redis_url)} is version {version}; the blackboard "
            f"needs {MIN_REDIS}.0 or later (it numbers entries with XADD's `0-*` IDs)"
        )
    return client


def unavailable(settings: BlackboardSettings, exc: BaseException) -> BlackboardUnavailableError:
    reason = str(exc).strip().rstrip(".") or type(exc).__name__
    url = redacted(settings.redis_url)
    if isinstance(exc, redis.AuthenticationError):
        hint = "check the user and password in blackboard.redis_url"
    elif isinstance(exc, TRANSIENT):
        hint = "is redis-server running there? see blackboard.redis_url"
    else:
        return BlackboardUnavailableError(f"the Redis blackboard at {url} refused: {reason}")
    return BlackboardUnavailableError(f"cannot reach the Redis blackboard at {url}: {reason}", hint)


def retrying(settings: BlackboardSettings, call: Callable[[], T]) -> T:
    """`call()`, retried with backoff while Redis is transiently away, for at most
    `retry_seconds`; then, or on any other Redis error, a one-line typed error."""
    deadline = time.monotonic() + settings.retry_seconds
    delay = 0.05
    while True:
        try:
            return call()
        except redis.AuthenticationError as exc:  # a ConnectionError, but waiting won't help
            raise unavailable(settings, exc) from None
        except TRANSIENT as exc:
            if time.monotonic() + delay > deadline:
                raise unavailable(settings, exc) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except redis.RedisError as exc:
            raise unavailable(settings, exc) from None
