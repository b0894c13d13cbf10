"""The KV cache of the batched context: which tokens each sequence holds, and which of them
a seeded request may reuse without changing its arithmetic.

Contract: a seeded request (a seed and temperature > 0) samples from bit-identical logits,
so repeats its text, every time it is asked again on the same engine, whatever the cache
holds from earlier calls (its own prompt cached or not, other sequences grown, trimmed or
dropped), as long as no other caller's request is decoded at the same time. A `generate`
call of several seeded requests repeats as a whole under the same condition. Requests
decoded side by side share each batch, and the batch's shape changes the last bits. Models
with sliding-window attention (Gemma 3) are outside the contract: llama.cpp reuses their
window's cells out of order.

Why it takes work: llama.cpp's result for a token depends, in the last bits, on the shape
it was decoded in (the ubatch's rows pick the matmul and attention kernels; a lone row over
a long cache takes a split-KV attention kernel) and on the order of the KV cells it attends
to. So a seeded request's prompt is decoded in *canonical chunks* (cut at fixed multiples of
`CHUNK`, each chunk alone in its decode, never a single row), a lone seeded row gets a
throwaway companion, and only cached tokens decoded that way, in cells still in position
order (`cells` follows where llama.cpp puts them), are reused.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llama_cpp

from murmurnet.errors import ContextOverflowError
from murmurnet.models.llama.cells import CellMap

CHUNK = 32
"""Canonical chunk: under 64 rows, llama.cpp's CPU flash attention takes the path whose result
depends only on the order of the attended cells, not on where they are or how many there are."""


@dataclass
class EngineStats:
    """Counters that show where the work went (tests assert on them)."""

    decode_calls: int = 0
    prompt_tokens_decoded: int = 0
    prompt_tokens_reused: int = 0
    tokens_generated: int = 0
    max_active_sequences: int = 0


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def canonical_chunks(start: int, end: int, final: bool) -> list[tuple[int, int]]:
    """[start, end) cut at multiples of CHUNK; a final piece (the one sampled from) keeps at
    least two tokens, so it never becomes a one-row decode."""
    last_cut = end - 2 if final else end - 1
    cuts = [start, *range((start // CHUNK + 1) * CHUNK, last_cut + 1, CHUNK), end]
    return list(itertools.pairwise(cuts))


def last_chunk_start(length: int) -> int:
    """Where the canonical chunk holding a prompt's last token starts."""
    return canonical_chunks(0, length, final=True)[-1][0]


class KvCache:
    """One context's sequences: tokens held, canonical prefixes, cells, one reusable batch."""

    def __init__(self, ctx: Any, n_seq_max: int, n_batch: int, mirrored: bool = True) -> None:
        self.ctx = ctx
        self.memory = llama_cpp.llama_get_memory(ctx)
        self.batch = llama_cpp.llama_batch_init(max(n_batch, n_seq_max + 1), 0, n_seq_max)
        self.cached: dict[int, list[int]] = {seq: [] for seq in range(n_seq_max)}
        self.canonical: dict[int, int] = dict.fromkeys(range(n_seq_max), 0)
        self.cells = CellMap(llama_cpp.llama_n_ctx(ctx), trusted=mirrored)
        self.stats = EngineStats()
        self.last_batch = 0
        """Tokens in the latest decode: how full the shared batch is."""
        self._rows: list[int] = []

    def gauges(self, active: int, waiting: int) -> dict[str, float]:
        return {
            "active_sequences": active,
            "waiting_requests": waiting,
            "kv_cells_used": self.cells.used,
            "kv_cells_total": self.cells.size,
            "last_batch_tokens": self.last_batch,
        }

    def reusable(self, seq: int, prompt: Sequence[int]) -> int:
        """Cached tokens a seeded request may keep: whole canonical chunks, never the chunk
        it samples from (whether their cells allow it is `orderly`'s question)."""
        keep = min(self.canonical[seq], common_prefix(self.cached[seq], prompt))
        return min(keep - keep % CHUNK, last_chunk_start(len(prompt)))

    def orderly(self, seq: int, keep: int) -> bool:
        return self.cells.orderly(seq, keep)

    def forget(self, seq: int, keep: int) -> None:
        """Drop a sequence's tokens from `keep` on."""
        if keep >= len(self.cached[seq]):
            return
        llama_cpp.llama_memory_seq_rm(self.memory, seq, keep, -1)
        self.cells.release(seq, keep)
        del self.cached[seq][keep:]
        self.canonical[seq] = min(self.canonical[seq], keep)

    def copy(self, src: int, dst: int, length: int) -> None:
        """Share src's first `length` tokens with an emptied dst (the same cells, no decode)."""
        llama_cpp.llama_memory_seq_cp(self.memory, src, dst, 0, length)
        self.cells.share(src, dst, length)
        self.cached[dst] = self.cached[src][:length]
        self.canonical[dst] = min(self.canonical[src], length)

    def put(self, index: int, token: int, seq: int, logits: bool) -> None:
        """Place the next token of `seq` in the batch (and count it as cached)."""
        held = self.cached[seq]
        self._set(index, token, len(held), seq, logits)
        held.append(token)

    def put_spare(self, index: int, seq: int) -> None:
        """A throwaway row after `seq`'s last token, so a lone row is never decoded alone
        (one-row decodes over a long cache take a different attention kernel)."""
        held = self.cached[seq]
        self._set(index, held[-1], len(held), seq, False)

    def drop_spare(self, seq: int) -> None:
        # It took the lowest free cell and gives it straight back.
        position = len(self.cached[seq])
        llama_cpp.llama_memory_seq_rm(self.memory, seq, position, -1)
        self.cells.release(seq, position)

    def _set(self, index: int, token: int, position: int, seq: int, logits: bool) -> None:
        batch = self.batch
        batch.token[index] = token
        batch.pos[index] = position
        batch.n_seq_id[index] = 1
        batch.seq_id[index][0] = seq
        batch.logits[index] = logits
        self._rows.append(seq)

    def decode(self, n_tokens: int) -> None:
        rows, self._rows = self._rows, []
        self.batch.n_tokens = n_tokens
        self.last_batch = n_tokens
        status = llama_cpp.llama_decode(self.ctx, self.batch)
        self.stats.decode_calls += 1
        if status != 0:
            self.cells.trusted = False
            raise ContextOverflowError(
                f"llama_decode failed with status {status} (no free KV cells for "
                f"{n_tokens} tokens)",
                hint="lower --agents or the token limits, or raise --context-size",
            )
        self.cells.allocate(rows)

    def mark_canonical(self, seq: int, start: int, end: int) -> None:
        """A whole aligned chunk decoded alone extends the sequence's canonical prefix."""
        if end - start == CHUNK and self.canonical[seq] == start:
            self.canonical[seq] = end

    def free(self) -> None:
        llama_cpp.llama_batch_free(self.batch)
