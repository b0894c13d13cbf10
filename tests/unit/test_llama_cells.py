"""The mirror of llama.cpp's KV cell allocator that decides what a seeded request may reuse."""

from __future__ import annotations

from murmurnet.models.llama.cells import CellMap


def test_tokens_take_the_lowest_free_cells_from_head_in_batch_order() -> None:
    cells = CellMap(16)
    cells.allocate([0, 0, 1])
    assert cells.cells == {0: [0, 1], 1: [2]} and cells.head == 3
    cells.allocate([1, 0])
    assert cells.cells == {0: [0, 1, 4], 1: [2, 3]}


def test_freeing_moves_head_down_and_the_hole_is_filled_first() -> None:
    cells = CellMap(16)
    cells.allocate([0] * 4 + [1] * 4)
    cells.release(0, 0)
    assert cells.head == 0 and cells.used == 4
    cells.allocate([2, 2])
    assert cells.cells[2] == [0, 1]


def test_shared_cells_are_freed_by_the_last_holder_only() -> None:
    cells = CellMap(8)
    cells.allocate([0, 0, 0])
    cells.share(0, 1, 2)
    cells.release(0, 0)
    assert cells.used == 2 and cells.cells[1] == [0, 1]
    cells.release(1, 0)
    assert cells.used == 0 and cells.head == 0


def test_a_kept_prefix_is_orderly_only_without_a_free_cell_below_it() -> None:
    cells = CellMap(32)
    cells.allocate([1] * 4)  # another sequence, low
    cells.allocate([0] * 4)
    assert cells.orderly(0, 4)
    cells.release(0, 2)  # its own tail: the freed cells lie above what it keeps
    assert cells.orderly(0, 2)
    cells.release(1, 0)  # a hole below it: its next token would land there
    assert not cells.orderly(0, 2)
    assert cells.orderly(0, 0)


def test_cells_out_of_position_order_are_not_orderly() -> None:
    cells = CellMap(32)
    cells.allocate([1] * 4 + [0] * 2)
    cells.release(1, 0)
    cells.allocate([0, 0])  # lands in the hole, below its first two
    assert cells.cells[0] == [4, 5, 0, 1]
    assert not cells.orderly(0, 4)


def test_far_below_head_the_search_starts_again_from_zero() -> None:
    cells = CellMap(64)
    cells.allocate([0] * 20 + [1] * 4)
    cells.release(0, 0)
    cells.head = 24  # not reached by the engine, but llama.cpp has the rule: mirror it
    cells.allocate([2])  # 24 > used (4) + 2: llama.cpp searches from cell 0
    assert cells.cells[2] == [0]


def test_an_untrusted_mirror_allows_no_reuse() -> None:
    cells = CellMap(4, trusted=False)
    cells.allocate([0, 0])
    assert not cells.orderly(0, 2) and cells.orderly(0, 0)
    full = CellMap(2)
    full.allocate([0, 0])
    full.allocate([1])  # llama.cpp would refuse: no free cell
    assert not full.trusted
