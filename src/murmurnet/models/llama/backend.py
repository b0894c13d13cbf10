"""GGUF models through llama.cpp: chat templates and the backend around `LlamaEngine`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec
from murmurnet.errors import ModelFileError
from murmurnet.models.base import TokenCallback
from murmurnet.models.builtin import BUNDLED, ensure_assembled, verify_file
from murmurnet.models.llama.engine import LlamaEngine
from murmurnet.models.llama.job import PieceCallback
from murmurnet.models.llama.template import PromptFormat
from murmurnet.models.registry import LoadOptions
from murmurnet.types import Completion, ContinuationScore, GenerationRequest, Message

_GGUF_MAGIC = b"GGUF"
# Base models have no chat template: a plain document they can continue, and stops that
# end the reply before the model starts a new section of its own.
_COMPLETION_STOPS = ["\n\n\n", "\n## ", "\n### ", "\nQuestion:", "\n質問："]


class LlamaCppBackend:
    """A GGUF model; a whole round of agents is decoded together in one context."""

    can_batch = True

    def __init__(self, name: str, engine: LlamaEngine, template: str, context_size: int):
        self.name = name
        self.engine = engine
        self.context_size = context_size
        if template == "completion":
            chosen: bytes | None = None
        elif template == "chatml":
            chosen = b"chatml"
        else:
            chosen = engine.chat_template()
        self.format = PromptFormat(name, engine.vocab, chosen)

    @property
    def is_chat(self) -> bool:
        return self.format.template is not None

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text: the model's own chat template, or a completion layout."""
        return self.format.render(messages)

    def tokens(self, request: GenerationRequest) -> list[int]:
        """Prompt tokens in which only the template's own markers are special tokens."""
        return self.format.tokens(request.messages)

    def load(self) -> dict[str, float]:
        return self.engine.load()

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        prompts = [self.tokens(r) for r in requests]
        if not self.is_chat:
            requests = [
                r.model_copy(update={"stop": [*r.stop, *_COMPLETION_STOPS]}) for r in requests
            ]
        callbacks: list[PieceCallback | None] = [
            None if on_token is None else _bind(on_token, index) for index in range(len(requests))
        ]
        return self.engine.generate(prompts, requests, callbacks, cancel)

    def score(
        self,
        messages: Sequence[Message],
        continuations: Sequence[str],
        cancel: Cancellation | None = None,
    ) -> list[ContinuationScore]:
        """How likely each text is as the start of the reply to `messages`. After a completion
        layout's answer line ("答え:", "Answer:") a reply starts with a space, as in text."""
        lead = "" if self.is_chat else " "
        tokens = [self.engine.tokenize(lead + text, add_special=False) for text in continuations]
        scored = self.engine.score(self.format.tokens(messages), tokens, cancel)
        return [
            ContinuationScore(text=text, logprob=sum(values), tokens=len(values))
            for text, values in zip(continuations, scored, strict=True)
        ]

    def count_tokens(self, text: str) -> int:
        return len(self.engine.tokenize(text, add_special=False))

    def close(self) -> None:
        self.engine.close()


def _bind(on_token: TokenCallback, index: int) -> PieceCallback:
    return lambda piece: on_token(index, piece)


def model_file(spec: ModelSpec, options: LoadOptions) -> Path:
    """The verified GGUF file a spec points at (assembling a bundled model if needed)."""
    if spec.bundled:
        return ensure_assembled(BUNDLED[spec.bundled], options.cache_folder)
    if spec.path is None:
        raise ModelFileError("a llama_cpp model needs `path:` (a GGUF file) or `bundled:`")
    path = Path(spec.path).expanduser()
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    with path.open("rb") as handle:
        if handle.read(4) != _GGUF_MAGIC:
            raise ModelFileError(f"model file {path} is not a GGUF file")
    if spec.sha256:
        verify_file(path, spec.sha256)
    return path


def create(spec: ModelSpec, options: LoadOptions) -> LlamaCppBackend:
    path = model_file(spec, options)
    context = options.context_size or spec.context_size
    engine = LlamaEngine(
        path,
        n_ctx=context * 2,
        n_seq_max=options.max_sequences,
        threads=spec.threads or options.threads,
    )
    name = spec.bundled or path.stem
    return LlamaCppBackend(name, engine, spec.template, context)
