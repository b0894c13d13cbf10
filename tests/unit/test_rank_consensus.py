"""`--consensus rank`: agents rank each other's answers, anonymised and shuffled; Borda count."""

from __future__ import annotations

import pytest

from murmurnet import GenerationRequest, MurmurNet, RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.config import load_config
from murmurnet.errors import ConfigError, InputError
from murmurnet.evaluation.variants import parse_variants
from murmurnet.murmur.agreement import Protocol, parse_ranking, rank, views
from murmurnet.server.profiles import profiles
from murmurnet.types import EntryKind


def test_no_agent_sees_its_own_answer_and_the_order_is_shuffled() -> None:
    shown = views(4, seed=1)
    for agent, view in enumerate(shown):
        assert sorted(view) == [j for j in range(4) if j != agent]
    assert any(view != sorted(view) for seed in range(5) for view in views(4, seed))


def test_borda_count_and_ties() -> None:
    answers = ["Paris", "Lyon", "Paris, France"]
    # everyone prefers answer 1 (agent 1's own is never shown to it)
    result = rank(answers, lambda vs: [sorted(v, key=lambda j: (j != 0, j)) for v in vs])
    assert result.protocol is Protocol.RANK and result.committed == "Paris"
    assert result.members == [0]
    tie = rank(["a", "b"], lambda vs: [list(v) for v in vs])  # each ranks the only other first
    assert tie.committed is None  # one answer each: Borda gives no points
    unread = rank(["a", "b", "c"], lambda vs: [None for _ in vs])
    assert unread.committed is None and "no readable ranking" in unread.log[0]


@pytest.mark.parametrize(
    ("reply", "shown", "order"),
    [
        ("B, A", 2, [1, 0]),
        ("C > A > B", 3, [2, 0, 1]),
        ("1位：Ｂ、2位：Ａ", 2, [1, 0]),  # full-width letters
        ("The best is B. Then A.", 2, [1, 0]),
        ("A", 2, None),  # not every shown answer ranked
        ("I cannot rank these.", 2, None),
    ],
)
def test_parse_ranking(reply: str, shown: int, order: list[int] | None) -> None:
    assert parse_ranking(reply, shown) == order


def test_rank_end_to_end_with_anonymised_answers() -> None:
    answers = {1: "Paris is the capital.", 2: "It is Lyon.", 3: "Paris."}

    def reply(request: GenerationRequest) -> str:
        if request.tag.startswith("round"):
            return answers[int(request.tag.rsplit(" ", 1)[1])]
        if request.tag.startswith("ranking"):
            task = request.messages[-1].content
            letters = [line[0] for line in task.splitlines() if line[1:3] == ": "]
            lyon = [line[0] for line in task.splitlines() if "Lyon" in line]
            return ", ".join([*(x for x in letters if x not in lyon), *lyon])  # Lyon last
        return "summary"

    fake = ScriptedBackend(reply)
    config = RunConfig(agents=3, consensus="rank", seed=2)
    with MurmurNet(config, backends={"default": fake}) as net:
        answer = net.ask("What is the capital of France?")
    rankings = [r for r in fake.requests if r.tag.startswith("ranking")]
    assert len(rankings) == 3 and [r.tag for r in fake.batches[-2]] == [r.tag for r in rankings]
    for request in rankings:
        text = request.messages[-1].content
        assert "Agent" not in text and "Round" not in text  # no names, no rounds
        assert sum(line[1:3] == ": " for line in text.splitlines()) == 2  # the two others
    agreed = next(e for e in answer.entries if e.kind is EntryKind.AGREEMENT)
    assert agreed.role == "rank"
    output = fake.requests[-1].messages[-1].content  # written from the committed answer
    assert output.startswith("The team agreed") and agreed.text in (
        "Paris is the capital.",
        "Paris.",
    )
    assert agreed.text in output and answer.text == "summary"


def test_rank_with_two_agents_is_a_one_line_settings_error() -> None:
    with pytest.raises(ConfigError, match="consensus 'rank' needs at least 3 agents, got 2"):
        load_config({"consensus": "rank", "agents": 2})
    assert load_config({"consensus": "rank", "agents": 3}).agents == 3


def test_every_way_to_ask_for_rank_with_two_agents_is_a_one_line_error() -> None:
    with (
        pytest.raises(ConfigError, match="invalid settings for this run: consensus 'rank'"),
        Runtime(RunConfig(), backends={"default": ScriptedBackend(["x"])}) as runtime,
    ):
        runtime.run("Why is the sea blue?", consensus="rank")
    with pytest.raises(InputError, match=r"murmur\[consensus=rank\]': bad settings: consensus"):
        parse_variants("murmur[consensus=rank]", RunConfig(), ["murmur"])
    config = RunConfig(profiles={"council": {"consensus": "rank"}})
    with pytest.raises(ConfigError, match="profile 'council': consensus 'rank' needs"):
        profiles(config)
