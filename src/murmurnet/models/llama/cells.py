"""Where llama.cpp's unified KV cache puts each token, mirrored in Python.

llama.cpp does not say which cell holds which token, yet a seeded request needs to know:
attention sums over the cells in cell order, so cells out of position order change the last
bits. The allocator is simple enough to follow exactly: a decode's tokens take the first
free cells from `head` on, in batch order (from 0 when many free cells lie below `head`),
and `head` moves past the last one; removing tokens frees cells no sequence holds any more
and moves `head` down to the lowest one freed; copying a prefix to another sequence shares
its cells. That is llama.cpp's `find_slot`, `apply_ubatch`, `seq_rm` and `seq_cp` for one
stream without sliding-window attention. Anything else (a failed decode) makes the mirror
untrusted, and nothing is reused on its word again.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence


class CellMap:
    def __init__(self, size: int, trusted: bool = True) -> None:
        self.size = size
        self.free = bytearray(b"\x01") * size
        self.refs = [0] * size
        self.head = 0
        self.used = 0
        self.cells: dict[int, list[int]] = {}
        self.trusted = trusted

    def allocate(self, seqs: Sequence[int]) -> None:
        """Cells for one decode's rows (one ubatch), each row one token of `seqs[i]`."""
        n = len(seqs)
        at = 0 if self.head > self.used + 2 * n else self.head
        taken: list[int] = []
        wrapped = False
        while len(taken) < n:
            cell = self.free.find(1, at)
            if cell < 0:
                if wrapped:
                    self.trusted = False  # llama.cpp would have refused this decode
                    return
                wrapped, at = True, 0
                continue
            self.free[cell] = 0
            taken.append(cell)
            at = cell + 1
        for cell, seq in zip(taken, seqs, strict=True):
            self.refs[cell] = 1
            self.cells.setdefault(seq, []).append(cell)
        self.used += n
        self.head = taken[-1] + 1

    def release(self, seq: int, keep: int) -> None:
        """A sequence drops its tokens from position `keep` on."""
        held = self.cells.get(seq, [])
        lowest = self.size
        for cell in held[keep:]:
            self.refs[cell] -= 1
            if self.refs[cell] == 0:
                self.free[cell] = 1
                self.used -= 1
                lowest = min(lowest, cell)
        del held[keep:]
        self.head = min(self.head, lowest)

    def share(self, src: int, dst: int, length: int) -> None:
        """An emptied `dst` takes `src`'s first `length` cells."""
        shared = self.cells.get(src, [])[:length]
        for cell in shared:
            self.refs[cell] += 1
        self.cells[dst] = shared

    def orderly(self, seq: int, keep: int) -> bool:
        """Would the sequence's first `keep` cells stay in position order, with every cell it
        takes from now on above them? True when they are in order and no free cell lies below
        the last of them (new cells always take the lowest free ones)."""
        if keep == 0:
            return True
        if not self.trusted:
            return False
        held = self.cells.get(seq, [])[:keep]
        if len(held) < keep or any(a >= b for a, b in itertools.pairwise(held)):
            return False
        lowest_free = self.free.find(1)
        return lowest_free < 0 or lowest_free > held[-1]
