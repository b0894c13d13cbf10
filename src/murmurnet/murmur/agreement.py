"""Agreement protocols among agents over their final-round answers.

These are protocols among the agents of one murmur, inspired by Raft (a leader proposes,
a majority commits) and PBFT (with n ≥ 3f+1 agents, 2f+1 matching votes commit, so f
agents that always lie cannot decide the outcome). They are not network consensus: every
"node" is an agent's answer, and approvals are asked of the agents in one batched call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from murmurnet.answers import extract_final, last_number, strip_spaces_and_punctuation


class Protocol(StrEnum):
    NONE = "none"
    VOTE = "vote"
    LEADER = "leader"
    BFT = "bft"


@dataclass
class Agreement:
    """What a protocol decided; `committed` is None when the agents did not agree."""

    protocol: Protocol
    committed: str | None
    supporters: int = 0
    rounds: int = 1
    log: list[str] = field(default_factory=list)


_SIMILAR = 0.6


def answer_key(reply: str) -> str:
    """A comparable form of an answer: its final line's number, else its normalised text."""
    final = extract_final(reply)
    number = last_number(final)
    if number is not None:
        return number
    return strip_spaces_and_punctuation(final)[:80]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(max(1, len(text) - 1))}


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if not a or not b or a.lstrip("-").replace(".", "").isdigit():
        return False
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) >= _SIMILAR


def clusters(answers: Sequence[str]) -> list[list[int]]:
    """Group answers whose keys match (numbers exactly, free text by bigram overlap)."""
    keys = [answer_key(a) for a in answers]
    groups: list[list[int]] = []
    for index, key in enumerate(keys):
        if not key:
            continue
        for group in groups:
            if _similar(keys[group[0]], key):
                group.append(index)
                break
        else:
            groups.append([index])
    return groups


def vote(answers: Sequence[str]) -> Agreement:
    """The largest cluster wins if it is strictly the largest; a tie commits nothing."""
    groups = sorted(clusters(answers), key=len, reverse=True)
    log = [f"clusters: {[[i + 1 for i in g] for g in groups]}"]
    if not groups or (len(groups) > 1 and len(groups[0]) == len(groups[1])):
        return Agreement(Protocol.VOTE, None, 0, 1, [*log, "tie: the output agent decides"])
    winner = groups[0]
    return Agreement(Protocol.VOTE, answers[winner[0]], len(winner), 1, log)


Approve = Callable[[int, str], list[bool]]
"""Ask every agent whether it approves a proposal (leader index, proposal) → one bool each."""


def leader(answers: Sequence[str], approve: Approve, max_terms: int | None = None) -> Agreement:
    """Raft-inspired: term t's leader proposes its answer; a majority of approvals commits."""
    n = len(answers)
    log: list[str] = []
    for term in range(max_terms or n):
        chief = term % n
        votes = approve(chief, answers[chief])
        votes[chief] = True
        count = sum(votes)
        log.append(f"term {term + 1}: agent {chief + 1} proposed, {count}/{n} approved")
        if count * 2 > n:
            return Agreement(Protocol.LEADER, answers[chief], count, term + 1, log)
    return Agreement(Protocol.LEADER, None, 0, max_terms or n, [*log, "no majority"])


def bft(answers: Sequence[str], approve: Approve) -> Agreement:
    """PBFT-inspired: with f = (n-1)//3 faulty agents tolerated, 2f+1 agreeing votes commit.

    Each view's primary proposes its answer; every agent answers agree/disagree (the
    prepare phase). Without 2f+1 agreements the view changes to the next primary.
    """
    n = len(answers)
    faulty = (n - 1) // 3
    quorum = 2 * faulty + 1
    log = [f"n={n}, tolerates f={faulty}, quorum {quorum}"]
    for view in range(n):
        primary = view % n
        votes = approve(primary, answers[primary])
        votes[primary] = True
        count = sum(votes)
        log.append(f"view {view + 1}: primary agent {primary + 1}, {count}/{n} agree")
        if count >= quorum:
            return Agreement(Protocol.BFT, answers[primary], count, view + 1, log)
    return Agreement(Protocol.BFT, None, 0, n, [*log, "no quorum in any view"])


def parse_approval(reply: str) -> bool:
    """An agent approves when its reply starts with APPROVE/AGREE/YES (or 承認/賛成/はい)."""
    head = reply.strip().lstrip("*#- ").upper()
    return head.startswith(("APPROVE", "AGREE", "YES", "承認", "賛成", "はい"))
