"""Which endpoint a round goes to: the four strategies as one ranking.

A whole `generate` call (a round of agents sharing one prompt prefix) goes to one endpoint,
so that server's prompt cache serves every agent. The balancer therefore ranks endpoints
for a call, best first; the pool tries them in that order, skipping those whose breaker is
open, so the ranking is also the failover order.

What a call tells the `capability` strategies is what can be read from the requests
themselves: the language of the prompt (Japanese when kana or kanji make up a fair share of
its letters, else English) and how many tokens the longest request needs (prompt estimate
plus `max_tokens`). Which model serves a role is the configuration's choice (a role names a
model; a pool is one model, `api_model` being each server's name for it), so within a pool
an endpoint fits when it speaks the language and its context holds the request. When none
fits, the others still rank (largest context first) rather than fail: the estimate is rough
and a server may well cope.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from murmurnet.config.pool import Strategy
from murmurnet.distributed.endpoint import Endpoint
from murmurnet.models.base import rough_token_count
from murmurnet.types import GenerationRequest, Message

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def language_of(text: str) -> str:
    """ "ja" or "en", by the script of the letters (the project's two languages)."""
    japanese = len(_JAPANESE.findall(text))
    latin = len(_LATIN.findall(text))
    return "ja" if japanese and japanese * 6 >= latin else "en"


def _asked(messages: Sequence[Message]) -> str:
    """The text that carries the request's language: its last user message."""
    users = [m.content for m in messages if m.role == "user"]
    return users[-1] if users else "\n".join(m.content for m in messages)


@dataclass(frozen=True)
class Need:
    """What one call asks of the endpoint it goes to."""

    language: str
    tokens: int

    @classmethod
    def of(
        cls,
        requests: Sequence[GenerationRequest],
        count: Callable[[str], int] = rough_token_count,
    ) -> Need:
        if not requests:
            return cls("en", 0)
        languages = Counter(language_of(_asked(r.messages)) for r in requests)
        tokens = max(
            count("\n".join(m.content for m in r.messages)) + r.max_tokens for r in requests
        )
        return cls(languages.most_common(1)[0][0], tokens)

    @classmethod
    def scoring(cls, messages: Sequence[Message], continuations: Sequence[str]) -> Need:
        prompt = rough_token_count("\n".join(m.content for m in messages))
        longest = max((rough_token_count(c) for c in continuations), default=0)
        return cls(language_of(_asked(messages)), prompt + longest)


def fits(endpoint: Endpoint, need: Need) -> bool:
    return endpoint.speaks(need.language) and endpoint.context_size >= need.tokens


class Balancer:
    """Ranks endpoints for a call. Ties go round the endpoints in turn, so equal servers
    share the work; an endpoint above `max_load` of its capacity goes after the others."""

    def __init__(self, strategy: Strategy, max_load: float = 0.8) -> None:
        self.strategy = strategy
        self.max_load = max_load
        self._turns = itertools.count()
        self._lock = threading.Lock()

    def rank(self, endpoints: Sequence[Endpoint], need: Need) -> list[Endpoint]:
        if not endpoints:
            return []
        with self._lock:
            turn = next(self._turns) % len(endpoints)
        rotated = [*endpoints[turn:], *endpoints[:turn]]
        capable = self.strategy in ("capability", "hybrid")
        by_load = self.strategy in ("least_load", "hybrid")

        def key(endpoint: Endpoint) -> tuple[bool, int, bool, float]:
            unfit = capable and not fits(endpoint, need)
            # Among endpoints that do not fit, the one with the most room comes first.
            room = -min(endpoint.context_size, need.tokens) if unfit else 0
            full = endpoint.load >= self.max_load
            return (unfit, room, full, endpoint.load if by_load else 0.0)

        return sorted(rotated, key=key)  # stable: the rotation breaks ties
