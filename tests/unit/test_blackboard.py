from __future__ import annotations

from murmurnet.blackboard import InMemoryBlackboard, render
from murmurnet.models.base import rough_token_count
from murmurnet.murmur.prompts import stage_texts
from murmurnet.types import BlackboardEntry, EntryKind

LABELS = stage_texts("en").labels


def filled() -> InMemoryBlackboard:
    board = InMemoryBlackboard()
    board.write(EntryKind.QUESTION, "What is two plus two?")
    for r in (1, 2):
        for agent in (1, 2):
            board.write(
                EntryKind.CONTRIBUTION,
                f"round {r} agent {agent} " + "word " * 30,
                round=r,
                agent=agent,
                role="critic",
            )
        board.write(EntryKind.SUMMARY, f"summary {r} says four", round=r)
    return board


def test_entries_are_versioned_and_listened_to() -> None:
    seen: list[BlackboardEntry] = []
    board = InMemoryBlackboard(listeners=[seen.append])
    first = board.write(EntryKind.QUESTION, "q")
    second = board.write(EntryKind.CONTRIBUTION, "c", round=1, agent=1, role="critic")
    assert (first.version, second.version, board.version) == (1, 2, 2)
    assert seen == [first, second]
    assert board.entries(EntryKind.CONTRIBUTION) == [second]


def test_render_is_append_stable() -> None:
    board = InMemoryBlackboard()
    board.write(EntryKind.QUESTION, "q?")
    board.write(EntryKind.CONTRIBUTION, "a", round=1, agent=1, role="critic")
    before = render(board, LABELS, 10_000, rough_token_count)
    board.write(EntryKind.SUMMARY, "s", round=1)
    assert render(board, LABELS, 10_000, rough_token_count).startswith(before)


def test_render_fits_budget_and_keeps_question_and_summaries() -> None:
    board = filled()
    full = render(board, LABELS, 10_000, rough_token_count)
    assert "round 1 agent 1" in full
    small = render(board, LABELS, 60, rough_token_count)
    assert rough_token_count(small) <= 60
    assert "What is two plus two?" in small
    assert "summary 2 says four" in small
    assert "round 1 agent 1" not in small


def test_question_survives_any_budget() -> None:
    assert "What is two plus two?" in render(filled(), LABELS, 1, rough_token_count)
