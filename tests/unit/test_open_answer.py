"""Open questions with `open_answer: agreement`: independent replies, the most agreed shown."""

from __future__ import annotations

from collections.abc import Callable

from murmurnet import GenerationRequest, MurmurNet, RunConfig, ScriptedBackend
from murmurnet.murmur.open_answer import most_agreed, overlap
from murmurnet.types import EntryKind

WHY = "Why is the sky blue?"
SCATTER = "Sunlight is scattered by the air; blue light is scattered most, so the sky looks blue."


def by_tag(replies: dict[str, str]) -> Callable[[GenerationRequest], str]:
    return lambda request: replies[request.tag]


def ask(
    replies: dict[str, str], question: str = WHY, **config: object
) -> tuple[str, ScriptedBackend]:
    fake = ScriptedBackend(by_tag(replies), honour_limits=True)
    settings = RunConfig(open_answer="agreement", **config)  # type: ignore[arg-type]
    with MurmurNet(settings, backends={"default": fake}) as net:  # type: ignore[arg-type]
        answer = net.ask(question)
    assert not answer.entries or answer.entries[-1].kind == EntryKind.FINAL
    return answer.text, fake


def test_the_reply_the_others_agree_with_wins_over_the_plain_one() -> None:
    text, fake = ask(
        {
            "plain": "The sky is blue because the ocean reflects its colour into the air.",
            "round 1/agent 2": SCATTER,
            "round 1/agent 3": SCATTER,
        }
    )
    assert text == SCATTER
    (batch,) = fake.batches  # one batch: no summary, no output agent
    plain, *roles = batch
    assert plain.messages[0].content == WHY and plain.temperature == 0.0
    assert not plain.japanese_only
    for request in roles:  # the question, then the role's instruction; sampled
        assert request.messages[0].content.startswith(WHY + "\n\n")
        assert request.temperature == 0.7


def test_a_tie_keeps_the_plain_reply_and_an_empty_reply_never_wins() -> None:
    text, _ = ask({"plain": SCATTER, "round 1/agent 2": SCATTER, "round 1/agent 3": ""})
    assert text == SCATTER
    assert most_agreed(["", "", ""]).committed is None
    assert most_agreed(["a b", "", ""]).committed == "a b"


def test_a_reply_stuck_repeating_itself_agrees_least() -> None:
    loop = "The sky is blue. " + "Blue is blue. " * 40
    result = most_agreed([loop, SCATTER, "Air scatters blue light most, so the sky is blue."])
    assert result.committed != loop and result.members != [0]
    assert overlap(loop, SCATTER) < overlap(SCATTER, "Air scatters blue light most.")


def test_japanese_roles_write_japanese_only_and_the_plain_reply_stays_as_asked() -> None:
    question = "空が青いのはなぜですか？"
    replies = {
        "plain": "光の散乱です。",
        "round 1/agent 2": "光の散乱。",
        "round 1/agent 3": "海の色。",
    }
    text, fake = ask(replies, question)
    assert text == "光の散乱です。"
    plain, *roles = fake.batches[0]
    assert not plain.japanese_only and all(r.japanese_only for r in roles)


def test_rounds_or_a_consensus_asked_for_bring_the_discussion_back() -> None:
    replies = {"plain": SCATTER, "output": SCATTER, "summary 1": "Same.", "summary 2": "Same."}
    replies |= {f"round {r}/agent {a}": SCATTER for r in (1, 2) for a in (1, 2, 3)}
    _, fake = ask(replies, iterations=2)
    assert any(r.tag == "output" for batch in fake.batches for r in batch)


def test_by_default_an_open_question_gets_the_plain_answer_as_it_streams() -> None:
    fake = ScriptedBackend(by_tag({"plain": SCATTER}), honour_limits=True)
    streamed: list[str] = []
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:  # type: ignore[arg-type]
        answer = net.ask(WHY, on_token=streamed.append)
    assert answer.text == SCATTER == "".join(streamed)
    ((plain,),) = fake.batches
    assert plain.messages[0].content == WHY and plain.temperature == 0.0


def test_an_answer_asked_for_in_another_language_brings_the_discussion() -> None:
    """Neither the plain answer nor the English recall writes in the language asked for."""
    replies = {"round 1/agent 1": "Tokyo.", "round 1/agent 2": "Tokyo.", "summary 1": "Tokyo."}
    fake = ScriptedBackend(by_tag({**replies, "output": "Tokyo is the capital."}))
    with MurmurNet(RunConfig(language="en"), backends={"default": fake}) as net:  # type: ignore[arg-type]
        assert net.ask("日本の首都について教えてください。").text == "Tokyo is the capital."
