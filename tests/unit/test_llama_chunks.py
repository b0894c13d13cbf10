"""Canonical chunks: the fixed cuts a seeded request's prompt is decoded in."""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("llama_cpp")

from murmurnet.models.llama.kv import CHUNK, canonical_chunks, last_chunk_start


@pytest.mark.parametrize("length", [1, 2, 3, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK + 2, 5 * CHUNK + 7])
def test_chunks_cover_the_prompt_in_aligned_pieces(length: int) -> None:
    chunks = canonical_chunks(0, length, final=True)
    assert chunks[0][0] == 0 and chunks[-1][1] == length
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    assert all(start % CHUNK == 0 for start, _ in chunks)
    assert all(end - start == CHUNK for start, end in chunks[:-1])
    last = chunks[-1][1] - chunks[-1][0]
    assert last <= CHUNK + 1 and (last >= 2 or length == 1)  # never a lone row if avoidable
    assert last_chunk_start(length) == chunks[-1][0]


def test_a_cached_prefix_resumes_on_the_same_cuts() -> None:
    whole = canonical_chunks(0, 200, final=True)
    resumed = canonical_chunks(2 * CHUNK, 200, final=True)
    assert resumed == [c for c in whole if c[0] >= 2 * CHUNK]


def test_a_shared_prefix_is_cut_without_a_final_piece() -> None:
    assert canonical_chunks(0, 2 * CHUNK, final=False) == [(0, CHUNK), (CHUNK, 2 * CHUNK)]
