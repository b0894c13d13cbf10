"""Log-probabilities from the real engine: generated tokens, and given continuations scored."""

from __future__ import annotations

import pytest

from murmurnet.errors import InputError
from murmurnet.models.base import Backend, likelihood_scorer
from murmurnet.models.llama.backend import LlamaCppBackend
from murmurnet.types import GenerationRequest, Message

pytestmark = pytest.mark.integration


def user(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def test_a_greedy_reply_scores_as_its_own_token_logprobs(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    messages = user("Name three colours of the rainbow.")
    request = GenerationRequest(messages=messages, max_tokens=24, temperature=0, logprobs=True)
    reply = qwen.generate([request])[0]
    assert len(reply.token_logprobs) == reply.completion_tokens > 0
    assert all(value <= 0 for value in reply.token_logprobs)
    # The same text scored after the same prompt: one batched decode instead of a token at a
    # time, so the numbers agree up to the kernels' rounding, token by token.
    tokens = qwen.engine.tokenize(reply.text, add_special=False)
    if len(tokens) == reply.completion_tokens:  # the reply re-tokenises to the same tokens
        scored = qwen.engine.score(qwen.format.tokens(messages), [tokens])[0]
        assert scored == pytest.approx(reply.token_logprobs, abs=0.1)
    unasked = qwen.generate([request.model_copy(update={"logprobs": False})])[0]
    assert unasked.text == reply.text and unasked.token_logprobs == []


def test_the_likely_answer_scores_highest_and_the_prompt_is_decoded_once(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    scorer = likelihood_scorer(qwen)
    messages = user("What is the capital of France? Answer with the city's name only.")
    prompt = len(qwen.format.tokens(messages))
    choices = ["Paris", "Berlin", "Madrid", "a small fishing village in Norway"]
    before = qwen.engine.stats.prompt_tokens_decoded
    scores = scorer.score(messages, choices)
    decoded = qwen.engine.stats.prompt_tokens_decoded - before
    assert [s.text for s in scores] == choices
    assert all(s.logprob < 0 and s.tokens >= 1 for s in scores)
    assert max(scores, key=lambda s: s.per_char).text == "Paris"
    assert max(scores, key=lambda s: s.logprob).text == "Paris"
    # The prompt once (less what a cache held), then each choice with the token before it,
    # whose logits score the choice's first token: never the prompt once per choice.
    assert decoded <= prompt + sum(s.tokens + 1 for s in scores) < 2 * prompt
    again = scorer.score(messages, choices)
    assert [s.logprob for s in again] == pytest.approx([s.logprob for s in scores], abs=1e-3)


def test_an_empty_continuation_is_refused(qwen: Backend) -> None:
    with pytest.raises(InputError, match="empty"):
        likelihood_scorer(qwen).score(user("Hello"), ["fine", ""])
