"""Reciprocal rank fusion of the lexical and dense rankings.

BM25 scores and cosine similarities live on unrelated scales, so adding them needs tuning
per corpus; fusing ranks does not (Cormack et al., 2009). k = 60 is the paper's constant:
it keeps one retriever's first place from outweighing agreement between both.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int = RRF_K
) -> list[tuple[K, float]]:
    """Items of all rankings, best first, scored by the sum of 1 / (k + rank), rank from 1."""
    scores: dict[K, float] = {}
    first_seen: dict[K, int] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(item, len(first_seen))
    return sorted(scores.items(), key=lambda pair: (-pair[1], first_seen[pair[0]]))
