"""Choosing a run's blackboard store from the settings, at the edges that build a runtime.

The core takes any `BlackboardFactory` and knows no store; the CLI and the server call this
so `blackboard.store: redis` in the configuration is what `ask`, `chat` and `serve` use.
`redis` and `zstandard` are optional: asking for Redis without them says what to install.
"""

from __future__ import annotations

from murmurnet.blackboard import BlackboardFactory, in_memory
from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.errors import MissingDependencyError

INSTALL = "pip install 'murmurnet[redis]'"


def blackboard_factory(settings: BlackboardSettings) -> BlackboardFactory:
    """The factory `Runtime(blackboard=...)` takes; for Redis, connected and checked."""
    if settings.store == "memory":
        return in_memory
    try:
        from murmurnet.distributed.redis_board import RedisBlackboards
    except ImportError as exc:
        raise MissingDependencyError(
            f"the Redis blackboard needs the {exc.name} package", hint=INSTALL
        ) from None
    return RedisBlackboards(settings)
