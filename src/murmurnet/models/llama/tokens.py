"""Text to llama.cpp tokens and the token lists a sampler may ban; shared by the engine and
the GGUF embedder, which need no more."""

from __future__ import annotations

import ctypes
import functools
import math
import re
from typing import Any

import llama_cpp

from murmurnet.types import GenerationRequest


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


_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
_HANGUL_LEADS = (0xEA, 0xEB, 0xEC, 0xED)
"""First bytes of the 3-byte UTF-8 forms of Hangul syllables (U+AC00-U+D7FF; 0xEA also
starts a few rare scripts): a token that ends with one, alone or with one continuation byte,
starts a syllable that the next token would end."""


_IDEOGRAPH = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


def foreign_ideograph(text: str) -> bool:
    """Whether the text holds a Chinese character that Japanese is not written with, such as
    the simplified 太阳, 铁, 长 the 0.5B model slips into mid-sentence for 太陽, 鉄, 長.

    Japanese is written with the characters of code page 932 (JIS X 0208 and its common
    extensions: 髙, 﨑) and of JIS X 0213 (剝, 頰, 𠮟, added to the everyday kanji in 2010);
    JIS X 0213 also holds a few simplified forms (阳, 碱), so a character outside code page
    932 that simplified Chinese (GB 2312) writes counts as foreign."""
    for char in _IDEOGRAPH.findall(text):
        if _encodes(char, "cp932"):
            continue
        if _encodes(char, "gb2312") or not _encodes(char, "euc_jis_2004"):
            return True
    return False


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def non_japanese_tokens(vocab: Any, n_vocab: int) -> list[int]:
    """Every token that writes Hangul, starts a Hangul syllable that the next token ends, or
    writes a Chinese character Japanese is not written with (`foreign_ideograph`). A token
    that ends part-way through a Chinese character is kept: its end may be Japanese."""
    found = []
    for token in range(n_vocab):
        piece = token_piece(vocab, token)
        tail = piece[-2:]
        partial = any(
            byte in _HANGUL_LEADS and all(0x80 <= b < 0xC0 for b in tail[at + 1 :])
            for at, byte in enumerate(tail)
        )
        text = piece.decode("utf-8", errors="ignore")
        if partial or _HANGUL.search(text) or foreign_ideograph(text):
            found.append(token)
    return found


def continuation_pieces(vocab: Any, n_vocab: int) -> dict[int, bytes]:
    """Every token whose piece starts inside a UTF-8 character (with a continuation byte):
    the only tokens that can end a character an earlier token began."""
    pieces = {}
    for token in range(n_vocab):
        piece = token_piece(vocab, token)
        if piece and 0x80 <= piece[0] < 0xC0:
            pieces[token] = piece
    return pieces


def foreign_endings(begun: bytes, pieces: dict[int, bytes]) -> list[int]:
    """The tokens of `pieces` that would end the character `begun` started as Hangul or as a
    Chinese character Japanese is not written with: the 0.5B model sometimes spells one
    byte by byte over two tokens (鱼, 颗), which the ban on whole tokens does not see."""
    found = []
    for token, piece in pieces.items():
        text = (begun + piece).decode("utf-8", errors="ignore")
        if _HANGUL.search(text) or foreign_ideograph(text):
            found.append(token)
    return found


class Bannable:
    """Tokens a request may forbid its sampler, each list scanned from the vocabulary once."""

    def __init__(self, vocab: Any, n_vocab: int) -> None:
        self.vocab = vocab
        self.n_vocab = n_vocab
        self._endings: dict[bytes, list[int]] = {}

    @functools.cached_property
    def end_tokens(self) -> list[int]:
        """Every end-of-generation token (for `ignore_eos`)."""
        is_eog = llama_cpp.llama_vocab_is_eog
        return [t for t in range(self.n_vocab) if is_eog(self.vocab, t)]

    @functools.cached_property
    def non_japanese_tokens(self) -> list[int]:
        """Every token that writes what Japanese is not written with (for `japanese_only`)."""
        return non_japanese_tokens(self.vocab, self.n_vocab)

    @functools.cached_property
    def _continuations(self) -> dict[int, bytes]:
        return continuation_pieces(self.vocab, self.n_vocab)

    def foreign_endings(self, begun: bytes) -> list[int]:
        """For `japanese_only`, once a token has begun a character: the tokens that would end
        it as one Japanese is not written with (`foreign_endings`), kept per beginning."""
        if begun not in self._endings:
            self._endings[begun] = foreign_endings(begun, self._continuations)
        return self._endings[begun]

    def forbid_foreign_endings(self, ctx: Any, index: int, begun: bytes) -> None:
        """When the reply so far ends part-way through a character (`begun`), forbid the
        tokens that would end it as a foreign one in batch row `index`'s logits, which the
        sampler reads next: a ban that depends on the text so far cannot be set in the
        sampler chain when the request starts."""
        if begun:
            logits = llama_cpp.llama_get_logits_ith(ctx, index)
            for token in self.foreign_endings(begun):
                logits[token] = -math.inf

    def banned(self, request: GenerationRequest) -> list[int]:
        return [
            *(self.end_tokens if request.ignore_eos else ()),
            *(self.non_japanese_tokens if request.japanese_only else ()),
        ]
