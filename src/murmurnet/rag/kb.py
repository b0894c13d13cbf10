"""A named knowledge base: open or create it, index files into it, search it.

Search is hybrid: BM25 over character bigrams finds exact names and numbers, multilingual
dense vectors find paraphrases and questions asked in the other language, and reciprocal
rank fusion merges the two without tuning weights per corpus.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np

from murmurnet.errors import ConfigError, InputError
from murmurnet.rag.catalog import check_name, index_path, known_kbs, unknown_kb
from murmurnet.rag.embeddings import (
    DEFAULT_EMBEDDER,
    Embedder,
    approx_tokens,
    kind_of,
    load_embedder,
)
from murmurnet.rag.fusion import reciprocal_rank_fusion
from murmurnet.rag.indexing import Indexer
from murmurnet.rag.lexical import coverage, fts_query, query_terms
from murmurnet.rag.models import IndexReport, KbInfo, Passage
from murmurnet.rag.store import Store

SearchMode = Literal["hybrid", "lexical", "dense"]

# In a fusion, a lexical candidate must hold a third of the question's content terms
# (measured: 0.2, 0.25, 0.3, 1/3 and 0.5 were tried; see benchmarks/bench_retrieval.py).
MIN_COVERAGE = 1 / 3


def list_kbs(cache_folder: Path) -> list[KbInfo]:
    """Every knowledge base under the cache folder, with its size and embedder."""
    infos = []
    for name in known_kbs(cache_folder):
        with KnowledgeBase.open(name, cache_folder) as kb:
            infos.append(kb.info())
    return infos


class KnowledgeBase:
    """Open with `open` (must exist) or `create` (made if missing); close when done."""

    def __init__(
        self,
        name: str,
        cache_folder: Path,
        store: Store,
        embedder: Embedder | None = None,
        threads: int | None = None,
    ) -> None:
        self.name = name
        self.cache_folder = Path(cache_folder)
        self.store = store
        self.threads = threads
        self._embedder = embedder
        self._embedder_loaded = embedder is not None
        self._dense: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.RLock()
        if embedder is not None:
            self._check_embedder(embedder)

    @classmethod
    def open(
        cls,
        name: str,
        cache_folder: Path,
        *,
        embedder: Embedder | None = None,
        threads: int | None = None,
    ) -> KnowledgeBase:
        """An existing knowledge base; InputError listing the known ones if there is none."""
        path = index_path(cache_folder, name)
        if not path.is_file():
            raise unknown_kb(name, cache_folder)
        return cls(name, cache_folder, Store(path), embedder, threads)

    @classmethod
    def create(
        cls,
        name: str,
        cache_folder: Path,
        *,
        embedder: str | Embedder | None = None,
        chunk_tokens: int = 200,
        overlap: int = 40,
        threads: int | None = None,
    ) -> KnowledgeBase:
        """Open `name`, creating it with these settings if it does not exist yet.

        `embedder` is a short name (e5, gguf, hash, none) or an instance; None means the
        existing base's own, or e5 for a new one. An existing base keeps its settings.
        """
        path = index_path(cache_folder, check_name(name))
        if path.is_file():
            instance = None if embedder is None or isinstance(embedder, str) else embedder
            kb = cls.open(name, cache_folder, embedder=instance, threads=threads)
            existing = kb.embedder_kind
            if isinstance(embedder, str) and embedder != existing:
                kb.close()
                raise ConfigError(
                    f"knowledge base {name!r} was built with the {existing!r} embedder",
                    hint=f"index into a new name, or remove it first: --remove {name}",
                )
            return kb
        embedder = DEFAULT_EMBEDDER if embedder is None else embedder
        if not 16 <= chunk_tokens <= 2048 or not 0 <= overlap < chunk_tokens:
            raise ConfigError("chunk size must be 16-2048 tokens and the overlap below it")
        kind = embedder if isinstance(embedder, str) else kind_of(embedder)
        loaded = (
            load_embedder(kind, cache_folder, threads) if isinstance(embedder, str) else embedder
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the knowledge base folder {path.parent} ({exc.strerror or exc})",
                hint="choose another --cache-folder, or check its permissions",
            ) from exc
        store = Store(path)
        with store.transaction():
            store.set_meta("embedder", kind)
            store.set_meta("embedder_id", loaded.name if loaded else "none")
            store.set_meta("dim", str(loaded.dim if loaded else 0))
            store.set_meta("chunk_tokens", str(chunk_tokens))
            store.set_meta("overlap", str(overlap))
            store.set_meta("created", str(time.time()))
        return cls(name, cache_folder, store, loaded, threads)

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None

    # -- settings -------------------------------------------------------------------------

    @property
    def embedder_kind(self) -> str:
        return self.store.get_meta("embedder") or DEFAULT_EMBEDDER

    def _setting(self, key: str, default: int) -> int:
        value = self.store.get_meta(key)
        return int(value) if value is not None else default

    def _check_embedder(self, embedder: Embedder) -> None:
        expected = self.store.get_meta("embedder_id")
        if expected and expected != embedder.name:
            raise ConfigError(
                f"knowledge base {self.name!r} was built with {expected}, not {embedder.name}",
                hint="search it with the embedder it was built with, or index it again",
            )

    @property
    def embedder(self) -> Embedder | None:
        """The dense model, loaded on first use (a lexical-only base never loads one)."""
        if not self._embedder_loaded:
            self._embedder = load_embedder(self.embedder_kind, self.cache_folder, self.threads)
            self._embedder_loaded = True
            if self._embedder is not None:
                self._check_embedder(self._embedder)
        return self._embedder

    def count_tokens(self, text: str) -> int:
        """Tokens of the embedding model, which must see a whole passage at once."""
        embedder = self.embedder
        return embedder.count_tokens(text) if embedder is not None else approx_tokens(text)

    def info(self) -> KbInfo:
        files, chunks = self.store.counts()
        return KbInfo(
            name=self.name,
            path=str(self.store.path.parent),
            embedder=self.store.get_meta("embedder_id") or self.embedder_kind,
            files=files,
            chunks=chunks,
            size_bytes=self.store.path.stat().st_size,
        )

    # -- indexing -------------------------------------------------------------------------

    def add_paths(
        self, paths: Sequence[Path | str], jsonl_field: str = "text", progress: bool = True
    ) -> IndexReport:
        """Index files and folders; unchanged files are skipped by content hash."""
        started = time.perf_counter()
        report = IndexReport(kb=self.name)
        indexer = Indexer(
            self.store,
            self.embedder,
            self.count_tokens,
            self._setting("chunk_tokens", 200),
            self._setting("overlap", 40),
        )
        with self._lock:
            try:
                indexer.run((Path(p) for p in paths), jsonl_field, report, progress)
            finally:
                self._dense = None
        report.files, report.chunks = self.store.counts()
        report.seconds = time.perf_counter() - started
        return report

    # -- searching ------------------------------------------------------------------------

    def _lexical_ranking(
        self, query: str, match: str, depth: int, filtered: bool
    ) -> list[tuple[int, float]]:
        """BM25 candidates that contain enough of the question (a "minimum should match").

        BM25 ranks any passage sharing one common word with the question; in a bilingual
        base a question about a text in the other language then gets a confident but
        meaningless lexical ranking that outvotes the dense one in the fusion. On the shipped
        corpus the filter lifts hybrid recall@1 on cross-language questions from 0.08 to 0.38
        (benchmarks/bench_retrieval.py). Without a dense ranking to protect, BM25 is unfiltered.
        """
        found = self.store.lexical(match, depth)
        if not filtered:
            return found
        terms = query_terms(query)
        stored = self.store.terms([chunk_id for chunk_id, _ in found])
        return [
            (chunk_id, score)
            for chunk_id, score in found
            if coverage(terms, stored.get(chunk_id, set())) >= MIN_COVERAGE
        ]

    def _dense_ranking(self, query: str, depth: int) -> tuple[list[int], dict[int, float]]:
        embedder = self.embedder
        if embedder is None:
            return [], {}
        if self._dense is None:
            self._dense = self.store.vectors(self._setting("dim", embedder.dim))
        ids, matrix = self._dense
        if not len(ids):
            return [], {}
        scores = matrix @ embedder.embed_query(query)
        top = np.argsort(-scores, kind="stable")[:depth]
        return [int(ids[i]) for i in top], {int(ids[i]): float(scores[i]) for i in top}

    def search(self, query: str, k: int = 5, mode: SearchMode = "hybrid") -> list[Passage]:
        """The `k` best passages, fused by reciprocal rank, with every score that made them."""
        if not query.strip():
            raise InputError("the search query is empty")
        if k < 1:
            raise InputError(f"k must be at least 1, not {k}")
        if mode == "dense" and self.embedder_kind == "none":
            raise InputError(f"knowledge base {self.name!r} has no dense index (lexical only)")
        depth = max(50, k * 10)
        with self._lock:
            dense: list[int] = []
            dense_scores: dict[int, float] = {}
            if mode != "lexical":
                dense, dense_scores = self._dense_ranking(query, depth)
            lexical: list[tuple[int, float]] = []
            match = fts_query(query)
            if mode != "dense" and match is not None:
                lexical = self._lexical_ranking(query, match, depth, filtered=bool(dense))
            lexical_ids = [chunk_id for chunk_id, _ in lexical]
            fused = reciprocal_rank_fusion([lexical_ids, dense])[:k]
            rows = self.store.chunks([chunk_id for chunk_id, _ in fused])
        lexical_scores = dict(lexical)
        lexical_rank = {chunk_id: rank for rank, chunk_id in enumerate(lexical_ids, start=1)}
        dense_rank = {chunk_id: rank for rank, chunk_id in enumerate(dense, start=1)}
        return [
            Passage(
                text=rows[chunk_id].text,
                source=rows[chunk_id].source,
                title=rows[chunk_id].title,
                position=rows[chunk_id].position,
                char_start=rows[chunk_id].char_start,
                char_end=rows[chunk_id].char_end,
                rank=rank,
                fused_score=score,
                lexical_score=lexical_scores.get(chunk_id),
                dense_score=dense_scores.get(chunk_id),
                lexical_rank=lexical_rank.get(chunk_id),
                dense_rank=dense_rank.get(chunk_id),
            )
            for rank, (chunk_id, score) in enumerate(fused, start=1)
            if chunk_id in rows
        ]
