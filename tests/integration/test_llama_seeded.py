"""A seeded request repeats its text exactly, whatever the KV cache holds (real model)."""

from __future__ import annotations

import pytest

from murmurnet.bench import forget_cache
from murmurnet.models.base import Backend
from murmurnet.models.llama.backend import LlamaCppBackend
from murmurnet.models.llama.kv import CHUNK, common_prefix
from murmurnet.types import GenerationRequest, Message

pytestmark = pytest.mark.integration

# Long enough for several canonical chunks, so that there is a cached prefix to reuse.
SYSTEM = "You are a helpful assistant. Answer in one short sentence. " + " ".join(
    f"Rule {i}: be kind to animal number {i}." for i in range(14)
)


def seeded(task: str, seed: int) -> GenerationRequest:
    return GenerationRequest(
        messages=[Message(role="system", content=SYSTEM), Message(role="user", content=task)],
        max_tokens=32,
        temperature=1.0,
        seed=seed,
    )


def unrelated(backend: LlamaCppBackend, opening: str, words: int) -> None:
    """Another caller's request: it takes another sequence and grows the cache."""
    tokens = backend.engine.tokenize(opening + " the river kept flowing and" * words)
    greedy = GenerationRequest(messages=[], max_tokens=4, temperature=0.0)
    backend.engine.generate([tokens], [greedy], [None])


def forget_others(backend: LlamaCppBackend, prompt: list[int]) -> None:
    for seq, held in backend.engine.cached.items():
        if common_prefix(held, prompt) < CHUNK:
            backend.engine.forget(seq)


def test_seeded_request_repeats_whatever_the_cache_holds(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    engine = qwen.engine
    request = seeded("Invent a name for a cat.", 42)
    forget_cache(qwen)
    unrelated(qwen, "Once upon a time", 150)  # lies below the seeded sequence
    first = qwen.generate([request])[0]
    assert first.cached_tokens == 0 and first.text

    # Its own prompt cached: only the canonical chunk it samples from is decoded again.
    before = engine.stats.prompt_tokens_decoded
    second = qwen.generate([request])[0]
    assert second.cached_tokens > 0
    assert engine.stats.prompt_tokens_decoded - before <= CHUNK + 1
    assert second.text == first.text

    # Another sequence grows the cache: the attention window around it changes.
    unrelated(qwen, "In a far land", 400)
    third = qwen.generate([request])[0]
    assert third.cached_tokens > 0 and third.text == first.text

    # Other sequences freed below it: its cells could now fall out of order, so the cache
    # is not trusted and the whole prompt is decoded again, in the same chunks.
    forget_others(qwen, qwen.tokens(request))
    fourth = qwen.generate([request])[0]
    assert fourth.cached_tokens == 0
    assert fourth.text == first.text
    fifth = qwen.generate([request])[0]
    assert fifth.cached_tokens > 0 and fifth.text == first.text


def test_seeded_group_repeats_as_a_group(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    group = [seeded("Invent a name for a dog.", 7), seeded("Invent a name for a bird.", 8)]
    forget_cache(qwen)
    first = qwen.generate(group)
    assert [c.cached_tokens for c in first] == [0, 0]
    again = qwen.generate(group)  # the shared prefix and each own prompt come from the cache
    assert all(c.cached_tokens > 0 for c in again)
    assert [c.text for c in again] == [c.text for c in first]
    unrelated(qwen, "Once upon a time", 300)
    qwen.generate([seeded("Invent a name for a cat.", 42)])
    assert [c.text for c in qwen.generate(group)] == [c.text for c in first]
    forget_cache(qwen)
    assert [c.text for c in qwen.generate(group)] == [c.text for c in first]


def test_seeded_round_two_reuses_round_one_and_repeats(qwen: Backend) -> None:
    """The murmur shape: round 2 grows the shared part; it still decodes only new tokens,
    and the round gives the same texts whether round 1 ran just before it or not."""
    assert isinstance(qwen, LlamaCppBackend)
    round_one = [seeded("Role A: answer.", 1), seeded("Role B: answer.", 2)]
    notes = SYSTEM + " Notes: the team said hello and compared three names."
    round_two = [
        r.model_copy(update={"messages": [Message(role="system", content=notes), r.messages[1]]})
        for r in round_one
    ]
    forget_cache(qwen)
    qwen.generate(round_one)
    after_round_one = qwen.generate(round_two)
    assert all(c.cached_tokens > 0 for c in after_round_one)
    forget_cache(qwen)
    cold = qwen.generate(round_two)
    assert [c.cached_tokens for c in cold] == [0, 0]
    assert [c.text for c in cold] == [c.text for c in after_round_one]
