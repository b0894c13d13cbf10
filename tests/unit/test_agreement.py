"""Agreement protocols and baseline strategies on the scripted backend."""

from __future__ import annotations

import re

import pytest

from murmurnet import GenerationRequest, MurmurNet, RunConfig, ScriptedBackend
from murmurnet.murmur.agreement import (
    answer_key,
    bft,
    bft_quorum,
    clusters,
    leader,
    parse_approval,
    vote,
)
from murmurnet.types import EntryKind


def test_answer_keys_and_clusters() -> None:
    assert answer_key("We add them.\nAnswer: 1,000") == "1000"
    assert answer_key("答え：東京です") == "東京です"
    assert clusters(["Answer: 4", "so 4", "Answer: 5"]) == [[0, 1], [2]]
    assert clusters(["Paris is the capital", "the capital is Paris", "Rome"]) == [[0, 1], [2]]


def test_vote_majority_and_tie() -> None:
    result = vote(["Answer: 4", "Answer: 5", "It is 4"])
    assert result.committed == "Answer: 4" and result.supporters == 2
    assert vote(["Answer: 4", "Answer: 5"]).committed is None


def test_leader_moves_to_the_next_term_when_rejected() -> None:
    answers = ["Answer: 5", "Answer: 4", "Answer: 4"]

    def approve(proposer: int, proposal: str) -> list[bool]:
        return ["4" in proposal for _ in answers]

    result = leader(answers, approve)
    assert result.committed == "Answer: 4" and result.rounds == 2
    assert leader(answers, lambda p, s: [False] * 3, max_terms=2).committed is None


def test_parse_approval() -> None:
    assert parse_approval("APPROVE") and parse_approval("**Agree**, it is right")
    assert parse_approval("承認します") and not parse_approval("OBJECT: wrong sum")
    assert not parse_approval("反対。理由：計算が違う")


@pytest.mark.parametrize(
    "reply",
    [
        "I APPROVE.",
        "The answer is correct. APPROVE",
        "はい、承認します",
        "**Approve**",
        "Yes. The proposal answers the question.",
        "I agree with agent 2.",
        "No objections: APPROVE",
        "答えは正しいので承認します。",
        "誤りはありません。承認。",
        "Looks correct to me.",
    ],
)
def test_approval_anywhere_in_a_short_reply(reply: str) -> None:
    assert parse_approval(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "I do not approve.",
        "I don\u2019t approve: 17 * 23 is 391.",
        "I cannot agree, the sum is wrong.",
        "APPROVE? No. OBJECT: the answer should be 5.",
        "OBJECT. I would approve only if it said 5.",
        "I disagree.",
        "The answer is not correct.",
        "The answer is incorrect, so I cannot give my approval.",
        "承認できません。",
        "承認はできません。答えは5です。",
        "反対です。承認しません。",
        "いいえ、間違っています。",
        "正しくないので反対します。",
        "I'm not sure this is right.",
        "The proposal restates the question.",
        "",
    ],
)
def test_dissent_is_never_approval(reply: str) -> None:
    assert not parse_approval(reply)


@pytest.mark.parametrize(("n", "quorum"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 5), (10, 7)])
def test_bft_quorum_is_at_least_a_strict_majority(n: int, quorum: int) -> None:
    assert bft_quorum(n) == quorum
    assert bft_quorum(n) * 2 > n


@pytest.mark.parametrize("n", [2, 3])
def test_bft_with_few_agents_needs_more_than_the_primary(n: int) -> None:
    """With 2 or 3 agents, the first primary's own vote must not commit its answer."""
    answers = [f"Answer: {i + 1}" for i in range(n)]
    asked: list[int] = []

    def nobody_else(proposer: int, proposal: str) -> list[bool]:
        asked.append(proposer)
        return [False] * n

    result = bft(answers, nobody_else)
    assert result.committed is None and asked == list(range(n))

    def only_agent_two(proposer: int, proposal: str) -> list[bool]:
        return [agent == 1 for agent in range(n)]

    result = bft(answers, only_agent_two)  # agent 2 backs agent 1's proposal: 2 votes
    assert result.committed == "Answer: 1" and result.supporters == 2


@pytest.mark.parametrize("liar", [0, 1, 2, 3])
def test_bft_is_unaffected_by_f_lying_agents(liar: int) -> None:
    """n=4 tolerates f=1: one agent that always lies cannot change the committed answer."""
    answers = ["Answer: 4"] * 4
    answers[liar] = "Answer: 5"

    def approve(proposer: int, proposal: str) -> list[bool]:
        return [("5" in proposal) if agent == liar else ("4" in proposal) for agent in range(4)]

    result = bft(answers, approve)
    assert result.committed is not None and answer_key(result.committed) == "4"


def test_bft_needs_a_quorum() -> None:
    answers = ["Answer: 1", "Answer: 2", "Answer: 3", "Answer: 4"]
    result = bft(answers, lambda proposer, proposal: [False] * 4)
    assert result.committed is None and result.rounds == 4


def liar_backend(liar: int) -> ScriptedBackend:
    """Agents answer 4 except the liar (5); approvals follow each agent's belief."""

    def respond(request: GenerationRequest) -> str:
        numbered = re.search(r"agent (\d+)", request.tag)
        agent = int(numbered.group(1)) - 1 if numbered else -1
        belief = "5" if agent == liar else "4"
        if request.tag.startswith("agreement"):
            proposal = re.search(r"«(.*)»", request.messages[-1].content, re.S)
            assert proposal is not None
            return "APPROVE" if belief in proposal.group(1) else "OBJECT: wrong"
        if request.tag.startswith("round"):
            return f"Answer: {belief}"
        return "The answer is 4." if request.tag == "output" else "summary"

    return ScriptedBackend(respond)


@pytest.mark.parametrize("liar", [0, 2])
def test_bft_through_the_murmur(liar: int) -> None:
    config = RunConfig(agents=4, consensus="bft")
    with MurmurNet(config, backends={"default": liar_backend(liar)}) as net:
        answer = net.ask("What is 2 + 2?")
    agreed = [e for e in answer.entries if e.kind is EntryKind.AGREEMENT]
    assert len(agreed) == 1 and answer_key(agreed[0].text) == "4"
    assert agreed[0].role == "bft" and agreed[0].agent is not None and agreed[0].agent >= 3
    assert any(t.stage.startswith("agreement") for t in answer.timings)


def test_leader_and_vote_through_the_murmur() -> None:
    for protocol in ("leader", "vote"):
        config = RunConfig(agents=3, consensus=protocol)
        fake = liar_backend(0)
        with MurmurNet(config, backends={"default": fake}) as net:
            answer = net.ask("What is 2 + 2?")
        agreed = [e for e in answer.entries if e.kind is EntryKind.AGREEMENT]
        assert answer_key(agreed[0].text) == "4", protocol
        outputs = [r for r in fake.requests if r.tag == "output"]
        if protocol == "vote":
            # a calculation takes the short-answer path: the vote's answer is the reply
            assert not outputs and answer_key(answer.text) == "4"
            continue
        # the output agent writes the reply from the committed answer, not from the notes
        task = outputs[0].messages[-1].content
        assert task.startswith("The team agreed on this answer") and agreed[0].text in task
        assert answer.text == "The answer is 4."


def test_without_agreement_the_output_agent_decides() -> None:
    replies = ["The sea is blue.", "Whales live in it.", "summary", "The sea is big and blue."]
    fake = ScriptedBackend(replies)
    with MurmurNet(RunConfig(agents=2, consensus="vote"), backends={"default": fake}) as net:
        answer = net.ask("Tell me about the sea.")
    assert answer.text == "The sea is big and blue."  # a tie: the output agent wrote the reply


def test_single_strategy_makes_one_call() -> None:
    fake = ScriptedBackend(["Answer: 4"])
    with MurmurNet(RunConfig(strategy="single"), backends={"default": fake}) as net:
        answer = net.ask("What is 2 + 2?")
    assert answer.text == "Answer: 4" and answer.strategy == "single"
    assert [len(b) for b in fake.batches] == [1]
    assert fake.requests[0].messages[-1].content == "What is 2 + 2?"


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        (["Answer: 5", "Answer: 4", "4 it is."], "Answer: 4"),  # a majority outvotes sample 1
        (["Answer: 5", "Answer: 4", "I cannot say."], "Answer: 5"),  # a tie keeps the greedy one
    ],
)
def test_self_consistency_votes_as_the_murmur_does(replies: list[str], expected: str) -> None:
    config = RunConfig(strategy="self-consistency", seed=3, samples=3)
    fake = ScriptedBackend(replies)
    with MurmurNet(config, backends={"default": fake}) as net:
        answer = net.ask("What is 2 + 2?")
    assert [len(b) for b in fake.batches] == [3]
    assert answer.text == expected and answer.strategy == "self-consistency"
    assert [r.temperature for r in fake.requests] == [0.0, 0.7, 0.7]
    assert len({r.seed for r in fake.requests}) == 3
    assert all(r.messages[0].content == "What is 2 + 2?" for r in fake.requests)
