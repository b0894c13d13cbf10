"""The transformers backend against a tiny random Llama built on the spot (no hub access)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

# huggingface_hub reads this when imported, so it must be set before transformers loads.
os.environ["HF_HUB_OFFLINE"] = "1"

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from murmurnet.cancellation import Cancellation  # noqa: E402
from murmurnet.config import ModelSpec  # noqa: E402
from murmurnet.errors import (  # noqa: E402
    CancelledError,
    InputError,
    ModelFileError,
    ModelNotFoundError,
)
from murmurnet.models.registry import LoadOptions, create_backend  # noqa: E402
from murmurnet.models.transformers import TransformersBackend, create  # noqa: E402
from murmurnet.types import GenerationRequest, Message  # noqa: E402

pytestmark = pytest.mark.integration

SENTENCES = [
    "the cat sat on the mat and the dog ran to the park",
    "a small model can answer a short question about the weather today",
    "blue green red yellow purple orange black white grey brown",
    "one two three four five six seven eight nine ten",
    "system : user : assistant : hello world , please think .",
]
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
TEMPLATE = (
    "{% for m in messages %}<s> {{ m['role'] }} : {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant :{% endif %}"
)


def _build(folder: Path) -> None:
    words = sorted({word for line in SENTENCES for word in line.split()})
    vocab = {token: i for i, token in enumerate([*SPECIALS, *words])}
    raw = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    raw.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=raw,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
    )
    tokenizer.chat_template = TEMPLATE
    tokenizer.save_pretrained(folder)
    config = transformers.LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        # Large weights give peaked logits, so greedy choices are never near-ties.
        initializer_range=0.5,
        pad_token_id=vocab["<pad>"],
        bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"],
    )
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(folder)


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-llama")
    _build(folder)
    return folder


@pytest.fixture(scope="module")
def backend(model_folder: Path) -> TransformersBackend:
    spec = ModelSpec(type="transformers", path=model_folder)
    return create(spec, LoadOptions(cache_folder=model_folder))


def _ask(text: str, **settings: object) -> GenerationRequest:
    messages = [
        Message(role="system", content="please think ."),
        Message(role="user", content=text),
    ]
    return GenerationRequest(messages=messages, **settings)  # type: ignore[arg-type]


PROMPTS = ["the cat sat on the mat", "one two", "blue green red yellow purple orange black"]


def test_batch_returns_one_completion_per_request_within_limits(
    backend: TransformersBackend,
) -> None:
    requests = [
        _ask(p, max_tokens=n, temperature=0) for p, n in zip(PROMPTS, (3, 9, 6), strict=True)
    ]
    replies = backend.generate(requests)
    assert len(replies) == 3
    for request, reply in zip(requests, replies, strict=True):
        assert 0 < reply.completion_tokens <= request.max_tokens
        assert reply.prompt_tokens > len(request.messages[-1].content.split())
        assert reply.seconds > 0
    # Different prompts of different lengths: the order of the answers follows the requests.
    singles = [backend.generate([r])[0] for r in requests]
    assert [r.text for r in replies] == [s.text for s in singles]
    assert replies[0].prompt_tokens < replies[2].prompt_tokens


def test_greedy_is_deterministic_and_batching_does_not_change_it(
    backend: TransformersBackend,
) -> None:
    requests = [_ask(p, max_tokens=12, temperature=0) for p in PROMPTS]
    first = backend.generate(requests)
    second = backend.generate(requests)
    assert [c.text for c in first] == [c.text for c in second]
    singles = [backend.generate([r])[0] for r in requests]
    assert [c.text for c in first] == [c.text for c in singles]
    assert [c.completion_tokens for c in first] == [c.completion_tokens for c in singles]
    assert any(c.text for c in first)


def test_seeded_sampling_reproduces(backend: TransformersBackend) -> None:
    requests = [_ask(p, max_tokens=10, temperature=1.5, seed=7, top_k=0) for p in PROMPTS]
    first = backend.generate(requests)
    again = backend.generate(requests)
    assert [c.text for c in first] == [c.text for c in again]
    others = [backend.generate(requests)[0].text for _ in range(3)]
    assert all(text == first[0].text for text in others)


def test_mixed_settings_are_grouped_and_kept_in_order(backend: TransformersBackend) -> None:
    greedy = [_ask(p, max_tokens=8, temperature=0) for p in PROMPTS]
    expected = [c.text for c in backend.generate(greedy)]
    sampled = _ask(PROMPTS[0], max_tokens=5, temperature=1.0, seed=3)
    mixed = backend.generate([greedy[0], sampled, greedy[1], greedy[2]])
    assert [mixed[0].text, mixed[2].text, mixed[3].text] == expected
    assert 0 < mixed[1].completion_tokens <= 5


def test_stop_string_cuts_the_text(backend: TransformersBackend) -> None:
    plain = backend.generate([_ask(PROMPTS[0], max_tokens=12, temperature=0)])[0]
    words = plain.text.split()
    if len(words) < 3:
        pytest.skip("the random model stopped too early to pick a stop word")
    stop = words[2]
    cut = backend.generate([_ask(PROMPTS[0], max_tokens=12, temperature=0, stop=[stop])])[0]
    assert cut.text == plain.text[: plain.text.find(stop)]
    assert stop not in cut.text
    assert cut.finish_reason == "stop"
    # The row stopped at the stop word instead of running on to max_tokens.
    assert cut.completion_tokens < plain.completion_tokens


def test_streaming_callback_and_token_counts(backend: TransformersBackend) -> None:
    seen: list[tuple[int, str]] = []
    # Without the loop guard, which may hold a token's last characters back until the next
    # shows they start no loop.
    replies = backend.generate(
        [_ask(p, max_tokens=4, temperature=0, repeat_guard=False) for p in PROMPTS[:2]],
        on_token=lambda i, t: seen.append((i, t)),
    )
    # Text arrives piece by piece as it is made, and the pieces add up to each reply.
    for index, reply in enumerate(replies):
        pieces = [piece for i, piece in seen if i == index]
        assert "".join(pieces) == reply.text
        assert len(pieces) == reply.completion_tokens > 1
    assert {i for i, _ in seen[:2]} == {0, 1}, "rows stream side by side, not one after another"
    guarded: list[tuple[int, str]] = []
    replies = backend.generate(
        [_ask(p, max_tokens=4, temperature=0) for p in PROMPTS[:2]],
        on_token=lambda i, t: guarded.append((i, t)),
    )
    for index, reply in enumerate(replies):
        assert "".join(piece for i, piece in guarded if i == index) == reply.text
    assert backend.count_tokens("the cat sat") == 3
    assert backend.context_size == 256
    assert backend.can_batch


def test_completion_template_for_base_models(model_folder: Path) -> None:
    spec = ModelSpec(type="transformers", path=model_folder, template="completion")
    backend = create_backend(spec, LoadOptions(cache_folder=model_folder))
    reply = backend.generate([_ask(PROMPTS[0], max_tokens=4, temperature=0)])[0]
    # "please think ." + "the cat sat on the mat": blank lines are whitespace, and this
    # tokenizer adds no BOS, so nothing else is counted (the chat template adds role words).
    assert reply.prompt_tokens == 3 + 6
    assert isinstance(backend, TransformersBackend) and not backend.is_chat
    # A document that ends with its own answer line gets no blank lines after it.
    cloze = [Message(role="user", content="the cat sat on the mat\nAnswer:")]
    assert (
        backend._encode(cloze) == backend._tokenizer("the cat sat on the mat\nAnswer:")["input_ids"]
    )
    backend.close()


def test_missing_model_raises_typed_errors(tmp_path: Path) -> None:
    options = LoadOptions(cache_folder=tmp_path)
    with pytest.raises(ModelFileError, match="does not exist"):
        create(ModelSpec(type="transformers", path=tmp_path / "nowhere"), options)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFileError, match="empty"):
        create(ModelSpec(type="transformers", path=empty), options)
    with pytest.raises(ModelNotFoundError, match="no-such/model") as caught:
        create(ModelSpec(type="transformers", hf_name="no-such/model"), options)
    assert caught.value.hint is not None and "--no-local-files" in caught.value.hint
    assert "\n" not in caught.value.one_line()


class Boom(Exception):
    """What a caller's token callback raises."""


def test_streamed_pieces_never_show_the_stop_string(backend: TransformersBackend) -> None:
    plain = backend.generate([_ask(PROMPTS[0], max_tokens=12, temperature=0)])[0]
    words = plain.text.split()
    if len(words) < 3:
        pytest.skip("the random model stopped too early to pick a stop word")
    stop = words[2]
    seen: list[str] = []
    cut = backend.generate(
        [_ask(PROMPTS[0], max_tokens=12, temperature=0, stop=[stop])],
        on_token=lambda _i, piece: seen.append(piece),
    )[0]
    assert "".join(seen) == cut.text and stop not in "".join(seen)


def test_cancel_ends_generation_at_the_next_step(backend: TransformersBackend) -> None:
    cancel = Cancellation()
    seen: list[str] = []

    def on_token(_index: int, piece: str) -> None:
        seen.append(piece)
        if len(seen) == 2:
            cancel.cancel("user pressed stop")

    request = _ask(PROMPTS[0], max_tokens=60, temperature=0)
    full = backend.generate([request])[0]
    assert full.completion_tokens > 4, "the model must talk long enough to be cut short"
    with pytest.raises(CancelledError, match="user pressed stop"):
        backend.generate([request, request], on_token=on_token, cancel=cancel)
    # Stopped within a step of the cancel, not at the end of the reply.
    assert len(seen) <= 4 < 2 * full.completion_tokens
    # The model is free for the next caller.
    assert backend.generate([request])[0].text == full.text


def test_cancel_from_another_thread_and_before_the_call(backend: TransformersBackend) -> None:
    cancel = Cancellation()
    cancel.cancel("too late")
    with pytest.raises(CancelledError, match="too late"):
        backend.generate([_ask(PROMPTS[0], max_tokens=4)], cancel=cancel)
    cancel = Cancellation()
    started = threading.Event()
    # The tiny model is fast, so only a callback that waits can keep generation running
    # long enough for another thread's cancel to land mid-way.
    threading.Thread(target=lambda: started.wait(5) and cancel.cancel("stop")).start()

    def on_token(_index: int, _piece: str) -> None:
        started.set()
        time.sleep(0.01)

    begun = time.monotonic()
    with pytest.raises(CancelledError):
        backend.generate([_ask(PROMPTS[1], max_tokens=250, temperature=0)], on_token, cancel)
    assert time.monotonic() - begun < 5


def test_raising_on_token_reaches_the_caller_unchanged(backend: TransformersBackend) -> None:
    boom = Boom("callback failed")

    def on_token(_index: int, _piece: str) -> None:
        raise boom

    requests = [_ask(p, max_tokens=8, temperature=0) for p in PROMPTS]
    with pytest.raises(Boom) as caught:
        backend.generate(requests, on_token=on_token)
    assert caught.value is boom
    assert len(backend.generate(requests)) == 3  # the lock was released


def test_timings_are_filled(backend: TransformersBackend) -> None:
    greedy = _ask(PROMPTS[2], max_tokens=8, temperature=0)
    short = _ask(PROMPTS[0], max_tokens=1, temperature=0)
    sampled = _ask(PROMPTS[0], max_tokens=6, temperature=1.0, seed=1)
    first, one, second = backend.generate([greedy, short, sampled])
    for reply in (first, one, second):
        assert reply.first_token_seconds is not None
        assert reply.prefill_seconds > 0 and reply.decode_seconds >= 0
        assert reply.seconds == pytest.approx(reply.prefill_seconds + reply.decode_seconds)
        assert reply.first_token_seconds >= reply.prefill_seconds
    # The prompt pass is shared by the padded batch; a one-token row stops its clock early.
    assert first.prefill_seconds == one.prefill_seconds
    assert one.decode_seconds <= first.decode_seconds and one.completion_tokens == 1
    # The sampled request runs as a second group, after the greedy one: it queued.
    assert second.queue_seconds >= first.seconds > 0


def _by_hand(backend: TransformersBackend, ids: list[int]) -> Any:
    """The model's log-probabilities at every position of `ids`, one plain forward pass."""
    model = backend._model
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    return torch.log_softmax(logits, dim=-1)


def test_token_logprobs_are_the_models_own_for_every_row_of_a_batch(
    backend: TransformersBackend,
) -> None:
    requests = [
        _ask(p, max_tokens=5, temperature=0, repeat_penalty=1.0, logprobs=True) for p in PROMPTS
    ]
    replies = backend.generate([*requests, _ask(PROMPTS[0], max_tokens=5, temperature=0)])
    assert replies[-1].token_logprobs == []  # not asked, not given
    for request, reply in zip(requests, replies, strict=False):
        assert len(reply.token_logprobs) == reply.completion_tokens > 0
        # Greedy from the raw logits: each step's token is the likeliest one, and its
        # log-probability is what one forward pass over the prompt and the reply gives.
        ids = backend._encode(request.messages)
        for value in reply.token_logprobs:
            table = _by_hand(backend, ids)[-1]
            assert value == pytest.approx(float(table.max()), abs=1e-4)
            ids.append(int(table.argmax()))


def test_scoring_matches_a_plain_forward_pass_with_and_without_a_cache_object(
    backend: TransformersBackend,
) -> None:
    messages = _ask("which colour ?").messages
    options = ["blue", "green red", "the cat sat on the mat"]
    scores = backend.score(messages, options)
    assert [s.text for s in scores] == options and [s.tokens for s in scores] == [1, 2, 6]
    prompt = backend._encode(messages)
    for option, score in zip(options, scores, strict=True):
        tokens = backend._tokenizer(option, add_special_tokens=False)["input_ids"]
        table = _by_hand(backend, [*prompt, *tokens])
        expected = sum(float(table[len(prompt) - 1 + j, t]) for j, t in enumerate(tokens))
        assert score.logprob == pytest.approx(expected, abs=1e-3)
    with pytest.raises(InputError, match="empty"):
        backend.score(messages, ["blue", ""])
    # A model that returns its cache as plain tuples gets the prompt again per option.
    model = backend._model
    original = model.forward

    def legacy(*args: Any, **kwargs: Any) -> Any:
        output = original(*args, **kwargs)
        if kwargs.get("use_cache"):
            output.past_key_values = tuple(output.past_key_values)
        return output

    model.forward = legacy
    try:
        again = backend.score(messages, options)
    finally:
        model.forward = original
    assert [s.logprob for s in again] == pytest.approx([s.logprob for s in scores], abs=1e-3)
