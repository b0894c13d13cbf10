"""Agreement protocols among agents over their final-round answers.

These are protocols among the agents of one murmur, inspired by Raft (a leader proposes,
a majority commits) and PBFT (with n ≥ 3f+1 agents, 2f+1 matching votes commit, so f
agents that always lie cannot decide the outcome). They are not network consensus: every
"node" is an agent's answer, and approvals are asked of the agents in one batched call.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from murmurnet.answers import extract_final, last_number, strip_spaces_and_punctuation


class Protocol(StrEnum):
    NONE = "none"
    VOTE = "vote"
    LEADER = "leader"
    BFT = "bft"
    RANK = "rank"


@dataclass
class Agreement:
    """What a protocol decided; `committed` is None when the agents did not agree."""

    protocol: Protocol
    committed: str | None
    supporters: int = 0
    rounds: int = 1
    log: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    """Indices of the answers that make up the committed one (same key)."""
    majority: bool = True
    """False when no group held more than half of the votes and `committed` is a fallback
    (the short-answer path keeps the plain answer then)."""


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


def vote(answers: Sequence[str], weights: Sequence[float] | None = None) -> Agreement:
    """The heaviest cluster wins if it is strictly the heaviest; a tie commits nothing.

    Every answer weighs 1 unless `weights` says otherwise: an answer that was checked (a
    program that ran) can count for more than prose arithmetic from the same small model.
    """
    weight = list(weights) if weights is not None else [1.0] * len(answers)
    groups = sorted(clusters(answers), key=lambda g: sum(weight[i] for i in g), reverse=True)
    log = [f"clusters: {[[i + 1 for i in g] for g in groups]}"]
    if weights is not None:
        log.append(f"weights: {[weight[i] for i in range(len(answers))]}")
    tied = len(groups) > 1 and sum(weight[i] for i in groups[0]) == sum(
        weight[i] for i in groups[1]
    )
    if not groups or tied:
        return Agreement(Protocol.VOTE, None, 0, 1, [*log, "tie: the output agent decides"])
    winner = groups[0]
    return Agreement(Protocol.VOTE, answers[winner[0]], len(winner), 1, log, list(winner))


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


def bft_quorum(n: int) -> int:
    """Votes needed to commit among n agents: 2f+1, and never less than a strict majority.

    With f = (n-1)//3, 2f+1 is PBFT's quorum, but for n = 2 or 3 it is 1: the primary's own
    vote would commit its answer unchecked. A strict majority (n//2+1) closes that hole;
    from n = 4 on, 2f+1 is already at least a majority.
    """
    return max(2 * ((n - 1) // 3) + 1, n // 2 + 1)


def bft(answers: Sequence[str], approve: Approve) -> Agreement:
    """PBFT-inspired: with f = (n-1)//3 faulty agents tolerated, a quorum of votes commits.

    Each view's primary proposes its answer; every agent answers agree/disagree (the
    prepare phase). Without a quorum (`bft_quorum`) the view changes to the next primary.
    """
    n = len(answers)
    faulty = (n - 1) // 3
    quorum = bft_quorum(n)
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


Ranker = Callable[[list[list[int]]], list[list[int] | None]]
"""Ask every agent to rank the answers it is shown (agent i sees `views[i]`, in that order):
per agent, the shown answers best first, or None when its reply could not be read."""


def views(n: int, seed: int) -> list[list[int]]:
    """What each agent ranks: every other agent's answer (never its own), shuffled."""
    shuffler = random.Random(seed)
    shown = []
    for agent in range(n):
        others = [j for j in range(n) if j != agent]
        shuffler.shuffle(others)
        shown.append(others)
    return shown


def rank(answers: Sequence[str], ask: Ranker, seed: int = 0) -> Agreement:
    """llm-council's ranking: each agent ranks the others' answers, anonymised and shuffled;
    a Borda count (m-1 points for first of m, 0 for last) decides; a tie commits nothing.
    Self-votes are impossible since no agent sees its own answer."""
    n = len(answers)
    rankings = ask(views(n, seed))
    points = [0] * n
    log = []
    for agent, ranking in enumerate(rankings):
        if ranking is None:
            log.append(f"agent {agent + 1}: no readable ranking")
            continue
        log.append(f"agent {agent + 1}: {' > '.join(str(j + 1) for j in ranking)}")
        for place, j in enumerate(ranking):
            points[j] += len(ranking) - 1 - place
    log.append(f"Borda points: {points}")
    best = max(points, default=0)
    leaders = [j for j in range(n) if points[j] == best]
    if best == 0 or len(leaders) > 1:
        return Agreement(Protocol.RANK, None, 0, 1, [*log, "tie: the output agent decides"])
    return Agreement(Protocol.RANK, answers[leaders[0]], best, 1, log, [leaders[0]])


_LETTER = re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])")


def parse_ranking(reply: str, shown: int) -> list[int] | None:
    """Positions (0-based, in the order shown) best first, from a reply such as "B, A, C" or
    "1位：B 2位：A"; None unless every shown letter appears."""
    text = unicodedata.normalize("NFKC", reply)
    letters = [ord(m.group(1)) - ord("A") for m in _LETTER.finditer(text)]
    order = list(dict.fromkeys(x for x in letters if 0 <= x < shown))
    return order if len(order) == shown else None


# Approval is read from anywhere in a short reply ("I APPROVE.", "The answer is correct.
# APPROVE", "はい、承認します", "**Approve**"), but any sign of dissent wins: a reply that
# objects, disagrees or negates its approval ("I do not approve", "承認できません") is never
# an approval, even though the word "approve" is in it. A wrong commit costs more than a
# missed one, since without agreement the output agent still decides.
_APPROVAL_WINDOW = 400
_NO_OBJECTION = re.compile(
    r"\bno\s+(?:objections?|issues?|problems?|errors?|mistakes?)\b|\bnothing\s+wrong\b"
    r"|\bnot\s+wrong\b|(?:異議|誤り|間違い|問題)(?:は|も)?(?:なし|ない|ありません)"
)
_DISSENT = re.compile(
    r"\b(?:object(?:s|ed|ion|ions)?|reject(?:s|ed)?|disagree(?:s|d)?|disapprove(?:s|d)?"
    r"|incorrect|wrong|false|nay|deny|denied)\b"
    r"|^\W*no\b"
    r"|\b(?:not\s+sure|unsure|uncertain|doubt(?:s|ful)?)\b"
    r"|\b(?:not|never|cannot|can'?t|won'?t|don'?t|doesn'?t|isn'?t)\s+(?:\w+\s+){0,3}?"
    r"(?:approv|agree|accept|correct|right|support)"
    r"|反対|不承認|非承認|否認|却下|誤り|誤っ|間違|違い?ます|違う|いいえ|いけない|だめ|ダメ|不正解"
    r"|正しくな|正しくあり|(?:承認|賛成|同意|支持)(?:は|を)?(?:でき|し)(?:ない|ません|かねます)"
)
_ASSENT = re.compile(
    r"\b(?:approve[sd]?|approval|agree[sd]?|accept(?:s|ed)?|yes|lgtm)\b"
    r"|\b(?:is|it's|that's|looks|seems)\s+(?:\w+\s+)?(?:correct|right)\b|^\W*(?:correct|right)\b"
    r"|承認|賛成|同意|(?:^|[\s、。,.!！*「])はい|正しい|正解"
)


def parse_approval(reply: str) -> bool:
    """Does an agent's reply approve the proposal? Assent anywhere, and no dissent at all."""
    text = unicodedata.normalize("NFKC", reply).casefold().replace("\u2019", "'")
    text = text[:_APPROVAL_WINDOW]
    text = _NO_OBJECTION.sub(" ", text)
    return not _DISSENT.search(text) and bool(_ASSENT.search(text))
