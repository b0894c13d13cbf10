"""The batched llama.cpp engine against one-at-a-time decoding on the real model."""

from __future__ import annotations

import re
import unicodedata

import pytest

from murmurnet.bench import agent_requests, forget_cache, shared_document
from murmurnet.models.base import Backend
from murmurnet.models.llama.backend import LlamaCppBackend
from murmurnet.models.llama.kv import common_prefix
from murmurnet.models.llama.tokens import foreign_ideograph
from murmurnet.models.loops import loop_start
from murmurnet.question import detect_language
from murmurnet.types import GenerationRequest, Message

pytestmark = pytest.mark.integration

SHARED = "You are a helpful assistant. Answer in one short sentence."


def request(task: str, **kw: object) -> GenerationRequest:
    return GenerationRequest(
        messages=[Message(role="system", content=SHARED), Message(role="user", content=task)],
        **{"max_tokens": 24, "temperature": 0.0, **kw},  # type: ignore[arg-type]
    )


def forget_everything(backend: LlamaCppBackend) -> None:
    forget_cache(backend)


def test_batched_greedy_equals_one_at_a_time(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    tasks = ["Name a fruit.", "What colour is the sky?", "Say hello in French."]
    forget_everything(qwen)
    batched = [c.text for c in qwen.generate([request(t) for t in tasks])]
    alone = []
    for task in tasks:
        forget_everything(qwen)
        alone.append(qwen.generate([request(task)])[0].text)
    # Batched and single-sequence decodes use different matrix shapes, so float sums can
    # differ in the last bits; greedy text is nevertheless expected to match here.
    assert batched == alone
    assert all(text.strip() for text in batched)


def test_shared_prefix_decoded_once_and_reused(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    forget_everything(qwen)
    stats = qwen.engine.stats
    before = stats.prompt_tokens_decoded
    prompts = [qwen.tokens(request(t)) for t in ("A?", "B?", "C?", "D?")]
    qwen.generate([request(t) for t in ("A?", "B?", "C?", "D?")])
    decoded = stats.prompt_tokens_decoded - before
    shared = len(prompts[0]) - 6  # everything up to the differing user text
    assert decoded < sum(len(p) for p in prompts) - 2 * shared
    # the same requests again: every prompt is served from the cache but its last token
    before = stats.prompt_tokens_decoded
    again = qwen.generate([request(t) for t in ("A?", "B?", "C?", "D?")])
    assert stats.prompt_tokens_decoded - before == 4
    assert all(c.cached_tokens == len(p) - 1 for c, p in zip(again, prompts, strict=True))


def test_stop_strings_lengths_and_streaming(qwen: Backend) -> None:
    pieces: dict[int, list[str]] = {0: [], 1: []}
    long, short = qwen.generate(
        [
            request("Count from 1 to 30 separated by spaces.", max_tokens=64),
            request("Count from 1 to 30 separated by spaces.", max_tokens=64, stop=[" 5"]),
        ],
        on_token=lambda i, piece: pieces[i].append(piece),
    )
    assert " 5" not in short.text and short.finish_reason == "stop"
    assert len(long.text) > len(short.text)
    assert "".join(pieces[0]) == long.text and "".join(pieces[1]) == short.text


def test_seeded_sampling_reproduces(qwen: Backend) -> None:
    sampled = request("Invent a name for a cat.", temperature=0.9, seed=42)
    first = qwen.generate([sampled])[0].text
    assert qwen.generate([sampled])[0].text == first


def test_cached_tokens_count_only_what_an_earlier_call_left(qwen: Backend) -> None:
    """A prefix decoded in this call and copied to the other agents is not "cached"."""
    assert isinstance(qwen, LlamaCppBackend)
    forget_everything(qwen)
    stats = qwen.engine.stats
    tasks = ("Agent A: name a fruit.", "Agent B: name a tree.", "Agent C: name a bird.", "D?")
    first = [request(t, max_tokens=8) for t in tasks]
    reused = stats.prompt_tokens_reused
    replies = qwen.generate(first)
    assert [c.cached_tokens for c in replies] == [0, 0, 0, 0]
    assert stats.prompt_tokens_reused == reused
    grown = [
        r.model_copy(
            update={
                "messages": [Message(role="system", content=SHARED + " Notes: hi."), r.messages[1]]
            }
        )
        for r in first
    ]
    left = [
        common_prefix(qwen.tokens(a), qwen.tokens(b)) for a, b in zip(first, grown, strict=True)
    ]
    again = qwen.generate(grown)
    assert all(n > 0 for n in left)
    assert [c.cached_tokens for c in again] == left
    assert stats.prompt_tokens_reused == reused + sum(left)


def test_completions_carry_consistent_timings(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    forget_everything(qwen)
    replies = qwen.generate([request("Name a fruit."), request("Name a colour.")])
    for reply in replies:
        assert reply.queue_seconds >= 0
        assert reply.prefill_seconds > 0  # a cold prompt was decoded
        assert reply.first_token_seconds is not None
        assert 0 < reply.first_token_seconds <= reply.queue_seconds + reply.seconds
        assert 0 <= reply.decode_seconds <= reply.seconds
        assert reply.finish_reason in ("stop", "length")


def test_japanese_text_survives_token_boundaries(qwen: Backend) -> None:
    reply = qwen.generate([request("水の化学式は何ですか？日本語で答えてください。")])[0]
    assert "\ufffd" not in reply.text
    assert "H2O" in unicodedata.normalize("NFKC", reply.text)
    assert detect_language(reply.text) == "ja"


def test_concurrent_callers_share_the_engine(qwen: Backend) -> None:
    """Threads asking at once are batched together and each gets its own correct reply."""
    import threading

    assert isinstance(qwen, LlamaCppBackend)
    tasks = ["Name a fruit.", "Name a colour.", "Name an animal.", "Name a country."]
    expected = {}
    for task in tasks:
        forget_everything(qwen)
        expected[task] = qwen.generate([request(task)])[0].text
    stats = qwen.engine.stats
    stats.max_active_sequences = 0
    results: dict[str, str] = {}

    def ask(task: str) -> None:
        results[task] = qwen.generate([request(task, max_tokens=24)])[0].text

    threads = [threading.Thread(target=ask, args=(t,)) for t in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == expected
    assert stats.max_active_sequences >= 2  # admitted into one running batch


def test_round_two_decodes_only_new_tokens(qwen: Backend) -> None:
    assert isinstance(qwen, LlamaCppBackend)
    forget_everything(qwen)
    first = [request(t) for t in ("Role A: answer.", "Role B: answer.")]
    qwen.generate(first)
    grown = [
        GenerationRequest(
            messages=[
                Message(role="system", content=SHARED + " Notes: the team said hello."),
                r.messages[1],
            ],
            max_tokens=8,
            temperature=0.0,
        )
        for r in first
    ]
    prompts = [qwen.tokens(r) for r in grown]
    before = qwen.engine.stats.prompt_tokens_decoded
    replies = qwen.generate(grown)
    decoded = qwen.engine.stats.prompt_tokens_decoded - before
    old = qwen.tokens(first[0])
    shared = common_prefix(prompts[0], prompts[1])
    # the grown shared part is decoded once, then only each agent's own suffix
    assert decoded == (shared - common_prefix(old, prompts[0])) + sum(
        len(p) - shared for p in prompts
    )
    assert all(c.cached_tokens > 0 for c in replies)
    assert decoded < sum(len(p) for p in prompts) // 2


def test_impossible_requests_are_typed_errors(qwen: Backend) -> None:
    from murmurnet.errors import ContextOverflowError

    huge = request("word " * 20000)
    with pytest.raises(ContextOverflowError, match="context holds"):
        qwen.generate([huge])
    with pytest.raises(ContextOverflowError, match="at most"):
        qwen.generate([request("hi")] * 40)
    assert qwen.generate([request("Say OK.")])[0].text  # still healthy afterwards


def test_prompts_longer_than_the_batch_are_split(qwen: Backend) -> None:
    """Prompts over n_batch (512) tokens decode in chunks; logits come from the last one."""
    assert isinstance(qwen, LlamaCppBackend)
    document = shared_document(qwen, 1200)
    requests = [r.model_copy(update={"max_tokens": 12}) for r in agent_requests(3, document, 12)]
    assert all(len(qwen.tokens(r)) > 2 * qwen.engine.n_batch for r in requests)
    forget_everything(qwen)
    together = [c.text for c in qwen.generate(requests)]
    alone = []
    for r in requests:
        forget_everything(qwen)
        alone.append(qwen.generate([r])[0].text)
    assert together == alone
    assert all(c.strip() for c in together)


def test_a_japanese_only_request_writes_no_korean_nor_simplified_chinese_when_asked_to(
    qwen: Backend,
) -> None:
    hangul = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
    asks = [
        [Message(role="user", content="Write 안녕하세요 three times.")],
        [Message(role="user", content="用中文介绍一下太阳。")],  # the model writes 太阳
    ]
    replies = qwen.generate(
        [
            GenerationRequest(messages=ask, max_tokens=24, temperature=0.0, japanese_only=only)
            for ask in asks
            for only in (False, True)
        ]
    )
    korean, no_korean, chinese, no_chinese = (reply.text for reply in replies)
    assert hangul.search(korean), korean  # the model does write Korean when let
    assert not hangul.search(no_korean) and no_korean.strip(), no_korean
    assert foreign_ideograph(chinese), chinese  # and simplified Chinese
    assert not foreign_ideograph(no_chinese) and no_chinese.strip(), no_chinese


def test_a_japanese_only_request_cannot_spell_a_foreign_character_byte_by_byte(
    qwen: Backend,
) -> None:
    """With its whole token banned, the model may write 鱼 as two tokens, one that begins
    the character and one that ends it; the engine bans the ending once one has begun it.
    Sampled (seeds 1-4): before the engine did so, seed 1 wrote 鱼 and 长 here."""
    ask = [Message(role="user", content="Repeat exactly: 鱼、颗、长、阳。")]
    replies = qwen.generate(
        [
            GenerationRequest(
                messages=ask, max_tokens=24, temperature=0.8, seed=seed, japanese_only=only
            )
            for only in (False, True)
            for seed in (1, 2, 3, 4)
        ]
    )
    free, banned = [r.text for r in replies[:4]], [r.text for r in replies[4:]]
    assert any(foreign_ideograph(text) for text in free), free
    assert not any(foreign_ideograph(text) for text in banned), banned
    assert all(text.strip() for text in banned), banned


def test_a_reply_that_loops_ends_where_the_loop_starts(qwen: Backend) -> None:
    """Asked plainly, the model says one sentence again and again until its limit
    (benchmarks/results/loop-guard/); the guard ends the reply before the loop, and the
    stream shows exactly the reply."""
    question = [Message(role="user", content="地球温暖化の主な原因を教えてください。")]
    asked = GenerationRequest(messages=question, max_tokens=512, temperature=0.0)
    pieces: dict[int, list[str]] = {0: [], 1: []}
    guarded, unguarded = qwen.generate(
        [asked, asked.model_copy(update={"repeat_guard": False})],
        on_token=lambda i, piece: pieces[i].append(piece),
    )
    assert unguarded.finish_reason == "length" and loop_start(unguarded.text) is not None
    assert guarded.finish_reason == "stop" and loop_start(guarded.text) is None
    assert guarded.completion_tokens < unguarded.completion_tokens // 2
    assert "".join(pieces[0]) == guarded.text
