"""GGUF models through llama.cpp: chat templates and the backend around `LlamaEngine`."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path

import llama_cpp

from murmurnet.config import ModelSpec
from murmurnet.errors import ModelFileError
from murmurnet.models.base import TokenCallback
from murmurnet.models.builtin import BUNDLED, ensure_assembled, verify_file
from murmurnet.models.llama.engine import LlamaEngine
from murmurnet.models.llama.job import PieceCallback
from murmurnet.models.registry import LoadOptions
from murmurnet.types import Completion, GenerationRequest, Message

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
            self._template: bytes | None = None
        elif template == "chatml":
            self._template = b"chatml"
        else:
            self._template = engine.chat_template()

    @property
    def is_chat(self) -> bool:
        return self._template is not None

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text: the model's own chat template, or a completion layout."""
        if self._template is None:
            system = "\n\n".join(m.content for m in messages if m.role == "system")
            rest = "\n\n".join(m.content for m in messages if m.role != "system")
            return f"{system}\n\n{rest}\n\nAnswer:"
        array = (llama_cpp.llama_chat_message * len(messages))()
        keep: list[bytes] = []  # the C strings must outlive the call
        for slot, message in zip(array, messages, strict=True):
            role, content = message.role.encode(), message.content.encode("utf-8")
            keep.extend((role, content))
            slot.role, slot.content = role, content
        size = sum(len(m.content.encode("utf-8")) for m in messages) * 2 + 512
        buffer = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_chat_apply_template(
            self._template, array, len(messages), True, buffer, size
        )
        if n > size:
            buffer = ctypes.create_string_buffer(n)
            n = llama_cpp.llama_chat_apply_template(
                self._template, array, len(messages), True, buffer, n
            )
        if n < 0:
            raise ModelFileError(f"model {self.name!r} has a chat template llama.cpp cannot apply")
        return buffer.raw[:n].decode("utf-8")

    def tokens(self, request: GenerationRequest) -> list[int]:
        return self.engine.tokenize(self.render(request.messages), add_special=True)

    def generate(
        self, requests: Sequence[GenerationRequest], on_token: TokenCallback | None = None
    ) -> list[Completion]:
        prompts = [self.tokens(r) for r in requests]
        if not self.is_chat:
            requests = [
                r.model_copy(update={"stop": [*r.stop, *_COMPLETION_STOPS]}) for r in requests
            ]
        callbacks: list[PieceCallback | None] = [
            None if on_token is None else _bind(on_token, index) for index in range(len(requests))
        ]
        return self.engine.generate(prompts, requests, callbacks)

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
