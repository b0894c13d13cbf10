"""Messages to prompt tokens where only the chat template's own markers are special tokens.

User text and retrieved passages are data: a document that contains `<|im_start|>system`
must not become a real role marker. So the template is rendered with a placeholder for every
message, the template's own text is tokenized with special-token parsing and each message's
content without it, and the pieces are spliced in order.
"""

from __future__ import annotations

import ctypes
import logging
import re
from collections.abc import Sequence
from typing import Any

import llama_cpp

from murmurnet.errors import ModelFileError
from murmurnet.models.base import opens_answer
from murmurnet.models.llama.tokens import tokenize
from murmurnet.types import Message

_PLACEHOLDER = re.compile("\ue000([0-9]+)\ue001")
log = logging.getLogger("murmurnet.llama")

Segment = tuple[str, bool]
"""A piece of prompt text and whether it is message content (never parsed for specials)."""


def _placeholder(index: int) -> str:
    # Private-use characters: no template trims or escapes them, no real text holds them.
    return f"\ue000{index}\ue001"


class PromptFormat:
    """The model's chat template (or a plain completion layout) as text and as tokens."""

    def __init__(self, model_name: str, vocab: Any, template: bytes | None) -> None:
        self.model_name = model_name
        self.vocab = vocab
        self.template = template

    def segments(self, messages: Sequence[Message]) -> list[Segment]:
        if self.template is None:
            return self._completion_segments(messages)
        layout = self._apply([_placeholder(i) for i in range(len(messages))], messages)
        contents = [m.content for m in messages]
        rendered = self._apply(contents, messages)
        for transform in (lambda c: c, str.strip):
            pieces = self._splice(layout, [transform(c) for c in contents])
            if pieces is not None and "".join(text for text, _ in pieces) == rendered:
                return pieces
        # The template changes contents in some other way: keep its markers, take the
        # contents as given rather than ever parse them for special tokens.
        log.debug("chat template of %s rewrites message contents", self.model_name)
        pieces = self._splice(layout, contents)
        return pieces if pieces is not None else [(rendered, True)]

    def render(self, messages: Sequence[Message]) -> str:
        return "".join(text for text, _ in self.segments(messages))

    def tokens(self, messages: Sequence[Message]) -> list[int]:
        out: list[int] = []
        for text, is_content in self.segments(messages):
            if text:
                out += tokenize(self.vocab, text, add_special=False, parse_special=not is_content)
        if llama_cpp.llama_vocab_get_add_bos(self.vocab):
            out.insert(0, llama_cpp.llama_vocab_bos(self.vocab))
        if llama_cpp.llama_vocab_get_add_eos(self.vocab):
            out.append(llama_cpp.llama_vocab_eos(self.vocab))
        return out

    @staticmethod
    def _completion_segments(messages: Sequence[Message]) -> list[Segment]:
        """Base models have no template: a plain document they can continue, the system text
        first, ending with an answer line unless the last text already opens one (a cloze
        such as "質問: …\n答え:" must end there, not under a second, English one)."""
        ordered = [m.content for m in messages if m.role == "system"]
        ordered += [m.content for m in messages if m.role != "system"]
        out: list[Segment] = []
        for index, content in enumerate(ordered):
            out += [("\n\n" if index else "", False), (content, True)]
        if not ordered or not opens_answer(ordered[-1]):
            out.append(("\n\nAnswer:", False))
        return out

    @staticmethod
    def _splice(layout: str, contents: list[str]) -> list[Segment] | None:
        """Template text between placeholders, contents where the placeholders were."""
        pieces: list[Segment] = []
        at = 0
        for match in _PLACEHOLDER.finditer(layout):
            index = int(match.group(1))
            if index >= len(contents):
                return None
            pieces += [(layout[at : match.start()], False), (contents[index], True)]
            at = match.end()
        pieces.append((layout[at:], False))
        return pieces

    def _apply(self, contents: Sequence[str], messages: Sequence[Message]) -> str:
        array = (llama_cpp.llama_chat_message * len(messages))()
        keep: list[bytes] = []  # the C strings must outlive the call
        for slot, message, content in zip(array, messages, contents, strict=True):
            role, text = message.role.encode(), content.encode("utf-8")
            keep.extend((role, text))
            slot.role, slot.content = role, text
        size = sum(len(c) for c in keep) * 2 + 512
        buffer = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_chat_apply_template(
            self.template, array, len(messages), True, buffer, size
        )
        if n > size:
            buffer = ctypes.create_string_buffer(n)
            n = llama_cpp.llama_chat_apply_template(
                self.template, array, len(messages), True, buffer, n
            )
        if n < 0:
            raise ModelFileError(
                f"model {self.model_name!r} has a chat template llama.cpp cannot apply"
            )
        return buffer.raw[:n].decode("utf-8")
