"""The transformers backend against a tiny random Llama built on the spot (no hub access)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# huggingface_hub reads this when imported, so it must be set before transformers loads.
os.environ["HF_HUB_OFFLINE"] = "1"

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from murmurnet.config import ModelSpec  # noqa: E402
from murmurnet.errors import ModelFileError, ModelNotFoundError  # noqa: E402
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
    replies = backend.generate(
        [_ask(p, max_tokens=4, temperature=0) for p in PROMPTS[:2]],
        on_token=lambda i, t: seen.append((i, t)),
    )
    assert seen == [(0, replies[0].text), (1, replies[1].text)]
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
