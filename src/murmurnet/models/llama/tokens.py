"""Text to llama.cpp tokens; shared by the engine and the GGUF embedder, which need no more."""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp


def tokenize(vocab: Any, text: str, add_special: bool, parse_special: bool) -> list[int]:
    """Text → tokens with llama.cpp, growing the buffer when the first guess is too small."""
    data = text.encode("utf-8")
    room = len(data) + 16
    while True:
        buffer = (llama_cpp.llama_token * room)()
        n = llama_cpp.llama_tokenize(
            vocab, data, len(data), buffer, room, add_special, parse_special
        )
        if n >= 0:
            return list(buffer[:n])
        room = -n


def token_piece(vocab: Any, token: int) -> bytes:
    """One token's bytes (a piece may be part of a UTF-8 character)."""
    size = 64
    while True:
        buffer = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(vocab, token, buffer, size, 0, False)
        if n >= 0:
            return buffer.raw[:n]
        size = -n
