"""The short-answer path: independent answers, the plain one among them, and a vote."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from murmurnet import GenerationRequest, MurmurNet, RunConfig, ScriptedBackend
from murmurnet.memory import Turn
from murmurnet.types import EntryKind, Message

SUM = "Tom has 20 apples and eats 3 of them. How many apples does he have now?"
SHOP = "主に食品を販売する所は？\n1. スーパー\n2. 洋品店\n3. 書店"


def by_tag(replies: dict[str, str]) -> Callable[[GenerationRequest], str]:
    """Replies by request tag: "plain", "round 1/agent 2", … ("output" for the output agent).
    An agent a test does not script replies nothing and so abstains (the programmer's more
    instructions are agents 4 and 5 of a calculation's first round)."""

    def respond(request: GenerationRequest) -> str:
        if request.tag in replies or "agent" not in request.tag:
            return replies[request.tag]
        return ""

    return respond


def ask(
    question: str,
    replies: dict[str, str],
    likelihood: Callable[[Sequence[Message], str], float] | None = None,
    **config: object,
) -> tuple[str, ScriptedBackend]:
    fake = ScriptedBackend(by_tag(replies), likelihood=likelihood, honour_limits=True)
    with MurmurNet(RunConfig(**config), backends={"default": fake}) as net:  # type: ignore[arg-type]
        return net.ask(question).text, fake


def test_agents_answer_independently_in_one_batch_beside_the_plain_answer() -> None:
    text, fake = ask(
        SUM,
        {
            "plain": "20 - 3 = 17. He has 17 apples.",
            "round 1/agent 2": "He has 20 - 3 = 17.\nAnswer: 17",
            "round 1/agent 3": "```python\nprint(20 - 3)\n```",
        },
    )
    assert text.startswith("20 - 3 = 17. He has 17 apples.")  # the plain answer's words
    (batch,) = fake.batches  # no summary, no second round, no output agent
    plain, *agents = batch
    assert [m.role for m in plain.messages] == ["user"] and plain.temperature == 0.0
    assert plain.messages[0].content == SUM
    for request in agents:  # the question, then the role's own instruction; no peers' notes
        assert request.messages[0].content.startswith(SUM + "\n\n")
        assert len(request.messages) == 1


def test_the_programmer_writes_greedy_and_a_second_programmer_samples() -> None:
    """With six agents the roles repeat (solver, programmer, checker, solver, solver,
    programmer): the second programmer, greedy too, would only copy the first one's vote."""
    program = "```python\nprint(20 - 3)\n```"
    replies = {"plain": "17", **{f"round 1/agent {n}": program for n in range(2, 8)}}
    _, fake = ask(SUM, replies, agents=6, seed=1)
    (batch,) = fake.batches
    programmers = [r for r in batch if "Python" in r.messages[0].content]
    # each programmer is asked its instruction and its two more; the first one greedy
    assert [r.temperature for r in programmers] == [0.0, 0.7, 0.0, 0.0, 0.7, 0.7]
    assert all(r.temperature == 0.7 for r in batch[1:] if r not in programmers)


def test_the_programmers_more_instructions_each_write_a_program_that_votes() -> None:
    """Three greedy programs from three instructions: where two ran and agree, they outvote
    the plain answer and the solver agreeing on another number (4 against 2)."""
    replies = {
        "plain": "He has 23.",
        "round 1/agent 2": "Answer: 23",
        "round 1/agent 3": "```python\nprint(20 - 3)\n```",
        "round 1/agent 4": "```python\ndef solution():\n    return 20 - 3\nprint(solution())\n```",
        "round 1/agent 5": "```python\nprint(apples)\n```",  # fails: abstains
    }
    text, fake = ask(SUM, replies)
    assert text.endswith("Answer: 17")
    (batch,) = fake.batches
    more = [r.messages[0].content.split("\n\n")[-1] for r in batch[3:]]
    assert more[0].startswith("Write a Python function solution()")
    assert more[1].startswith("Before any code")
    assert all(r.temperature == 0.0 for r in batch[2:])


def test_a_majority_overrules_the_plain_answer_and_a_tie_keeps_it() -> None:
    wrong = "He has 23 apples."
    overruled, _ = ask(
        SUM,
        {
            "plain": wrong,
            "round 1/agent 2": "20 - 3 = 17\nAnswer: 17",
            "round 1/agent 3": "```python\nprint(20 - 3)\n```",
        },
    )
    assert overruled == "20 - 3 = 17\nAnswer: 17"  # the explaining agent's words, not the code
    tied, _ = ask(
        SUM, {"plain": wrong, "round 1/agent 2": "Answer: 17"}, agents=1
    )  # one against one
    assert tied == wrong


def test_a_program_that_ran_outweighs_one_answer_but_not_two_that_agree() -> None:
    replies = {
        "plain": "He has 17.",
        "round 1/agent 2": "Answer: 16",
        "round 1/agent 3": "```python\nprint(20 - 3 - 1)\n```",
    }
    text, _ = ask(SUM, replies)
    assert text.endswith("16")  # the program and the solver: 16
    replies["round 1/agent 3"] = "```python\nprint(20 + 3)\n```"
    text, _ = ask(SUM, replies)
    assert text.endswith("23")  # three answers: the program weighs two
    replies["round 1/agent 2"] = "Answer: 17"
    text, _ = ask(SUM, replies)
    assert text == "He has 17."  # two prose answers agree against it


def test_a_failed_program_abstains() -> None:
    text, fake = ask(
        SUM,
        {
            "plain": "He has 17.",
            "round 1/agent 2": "Answer: 23",
            "round 1/agent 3": "```python\napples = 23\nprint(apples / pears)\n```",
        },
    )
    # Had the failed program voted its code's last number (23), 23 would hold a majority;
    # without it, 17 against 23 is a tie that the plain answer keeps.
    assert text == "He has 17."
    program = fake.requests[2]
    assert program.tag == "round 1/agent 3"


def test_options_are_answered_by_their_likelihood_without_asking_the_agents() -> None:
    def likelihood(messages: Sequence[Message], option: str) -> float:
        return {"スーパー": -9.0, "洋品店": -9.0, "書店": -1.0}[option]

    text, fake = ask(SHOP, {}, likelihood=likelihood)  # no reply scripted: none asked
    assert text == "書店"
    assert fake.scored == [["スーパー", "洋品店", "書店"]] and fake.requests == []


def test_options_asked_for_the_one_that_does_not_fit_go_to_the_agents_alone() -> None:
    def likelihood(messages: Sequence[Message], option: str) -> float:
        return {"スーパー": -1.0, "洋品店": -9.0, "書店": -9.0}[option]

    question = "食品を売る所ではないのはどれ？\n1. スーパー\n2. 洋品店\n3. 書店"
    replies = {"plain": "洋品店", "round 1/agent 2": "答え：洋品店", "round 1/agent 3": "書店"}
    text, fake = ask(question, replies, likelihood=likelihood)
    assert text == "洋品店"  # the likeliest, スーパー, neither answers nor votes
    assert fake.scored == [] and len(fake.requests) == 3


def test_options_are_read_as_the_scorer_reads_them_and_likelihood_votes() -> None:
    def likelihood(messages: Sequence[Message], option: str) -> float:
        return {"スーパー": -9.0, "洋品店": -9.0, "書店": -1.0}[option]

    text, fake = ask(
        SHOP,
        {"plain": "スーパーです。", "round 1/agent 2": "答え：書店", "round 1/agent 3": "書店"},
        likelihood=likelihood,
        choice_answer="vote",
    )
    assert text == "書店"  # the shortest reply of the winning option
    assert fake.scored == [["スーパー", "洋品店", "書店"]]


def test_the_plain_answer_gives_way_only_to_a_majority() -> None:
    def likelihood(messages: Sequence[Message], option: str) -> float:
        return {"スーパー": -9.0, "洋品店": -9.0, "書店": -1.0}[option]

    two_of_four = {
        "plain": "スーパー",
        "round 1/agent 2": "答え：書店",
        "round 1/agent 3": "洋品店",
    }
    kept, _ = ask(SHOP, two_of_four, likelihood=likelihood, choice_answer="vote")
    assert kept == "スーパー"  # 書店 leads 2 to 1, but 2 of 4 is not a majority
    three_of_four = {**two_of_four, "round 1/agent 3": "書店"}
    left, _ = ask(SHOP, three_of_four, likelihood=likelihood, choice_answer="vote")
    assert left == "書店"


def test_without_a_readable_answer_the_plain_answer_stands() -> None:
    text, fake = ask(
        SUM,
        {"plain": "I am not sure.", "round 1/agent 2": "Hmm.", "round 1/agent 3": "No code."},
    )
    assert text == "I am not sure."
    assert [[r.tag for r in batch] for batch in fake.batches] == [
        ["plain", *(f"round 1/agent {n}" for n in range(2, 6))]
    ]


def test_an_empty_plain_answer_and_no_votes_go_to_the_output_agent() -> None:
    replies = {"plain": "", "round 1/agent 2": "Hmm.", "round 1/agent 3": "x", "output": "17."}
    text, fake = ask(SUM, replies)
    assert text == "17." and fake.batches[-1][0].tag == "output"


def test_a_reply_cut_at_its_token_limit_abstains() -> None:
    working = "20 - 3 = 17, and then 17 + 6 = 23 " * 40  # far beyond the limit below
    text, _ = ask(
        SUM,
        {"plain": "He has 17.", "round 1/agent 2": working, "round 1/agent 3": "Answer: 23"},
        answer_tokens=20,
        agents=2,
    )
    assert text == "He has 17."  # 17 against 23; the cut reply's 23 did not count


def test_the_ballots_are_on_the_blackboard() -> None:
    program = "```python\nimport os\nprint(os.getcwd())\n```"
    fake = ScriptedBackend(
        by_tag({"plain": "17", "round 1/agent 2": "Answer: 17", "round 1/agent 3": program})
    )
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        answer = net.ask(SUM)
    contributions = [e for e in answer.entries if e.kind is EntryKind.CONTRIBUTION]
    assert [e.role for e in contributions] == ["plain", "solver", *["programmer"] * 3]
    assert "could not be run: only `import math` is allowed" in contributions[2].text
    assert "Answer:" not in contributions[2].text
    (agreed,) = [e for e in answer.entries if e.kind is EntryKind.AGREEMENT]
    assert agreed.text == "17" and agreed.agent == 2


PASSAGE = (
    "石油\n20世紀半ばから後半にかけて、石油は最も重要な戦略資源となり、各国はその確保を"
    "外交の中心に置いた。産油国は価格と生産量を通じて大きな影響力を持ち、"
    "二度の石油危機は先進国の経済に深い傷を残した。\n\n"
    "20世紀半ばから後半にかけて戦略資源となった資源は？"
)


def test_without_the_plain_answer_the_shortest_agreeing_span_is_told() -> None:
    """The plain sentence is not in the text, so it abstains; of two agents that agree, the
    one that gave the span alone tells it, not the one that kept more of the sentence."""
    told = "「石油は最も重要な戦略資源となり」\n答え：石油"
    text, _ = ask(
        PASSAGE,
        {
            "plain": "天然ガスが戦略資源でした。",
            "round 1/agent 2": "答え：石油は最も重要な戦略資源",
            "round 1/agent 3": told,
        },
    )
    assert text == told


def test_a_span_that_is_not_in_the_text_does_not_vote() -> None:
    """Two agents that echo their instructions alike agree with each other; neither answer
    is in the passage, so the plain span stands (JSQuAD dev rows 81–120, 3 rows)."""
    echo = "短く順を追って考え、最後の行に「答え：」に続けて答えだけを書いてください。"
    text, _ = ask(
        PASSAGE,
        {
            "plain": "石油",
            "round 1/agent 2": echo,
            "round 1/agent 3": "「答え：」に続けて答えだけを書いてください",
        },
    )
    assert text == "石油"


def test_agents_sentences_around_the_plain_span_do_not_replace_it() -> None:
    """(JSQuAD: "480件" scored, a sentence around it not.)"""
    text, _ = ask(
        PASSAGE,
        {
            "plain": "石油",
            "round 1/agent 2": "答え：石油は20世紀半ばから戦略資源となった",
            "round 1/agent 3": "石油が戦略資源となった資源である",
        },
    )
    assert text == "石油"


def test_the_plain_span_tells_an_answer_it_agrees_with() -> None:
    """A peer whose sentence holds a shorter form of the plain span agrees with it, but
    its words are not the better answer: "2度" was once shown as a peer's sentence that
    ended "答え: 2"."""
    text, _ = ask(
        "文章: ドミニカ国\nクリケットが最も人気のあるスポーツの一つである。他のカリブ海諸国等との"
        "多国籍チームの西インド諸島代表として国際試合を行っており、過去にはクリケット・"
        "ワールドカップで2度の優勝経験がある。\n"
        "質問: ドミニカは、過去のクリケット・ワールドカップで何度優勝しているか？",
        {
            "plain": "2度",
            "round 1/agent 2": "答え：3次",
            "round 1/agent 3": "ワールドカップで2度の優勝経験がある。\n答え: 2",
        },
    )
    assert text == "2度"


def test_a_long_span_is_cut_to_the_phrase_that_answers() -> None:
    """The model copies the sentence around the phrase; asked about that sentence alone, it
    names the phrase (JSQuAD: "アイルランド" for a sentence ending "…国はアイルランドです")."""
    sentence = "石油は最も重要な戦略資源となり"
    replies = {"plain": sentence, "round 1/agent 2": "石油", "round 1/agent 3": sentence}
    text, fake = ask(PASSAGE, {**replies, "span cut": "石油"})
    assert text == "石油"
    (cut,) = fake.batches[-1]
    assert cut.temperature == 0.0
    asked = cut.messages[0].content  # the question without its passage, then the answer
    assert asked.startswith("質問: 20世紀半ばから後半にかけて戦略資源となった資源は")
    assert f"\n答え: {sentence}\n" in asked and "石油危機" not in asked


def test_a_cut_that_is_not_a_shorter_piece_of_the_answer_is_refused() -> None:
    sentence = "石油は最も重要な戦略資源となり"
    replies = {"plain": sentence, "round 1/agent 2": sentence, "round 1/agent 3": sentence}
    for refused in ("天然ガス", sentence, "石油は最も重要な戦略資源となり、各国は"):
        text, _ = ask(PASSAGE, {**replies, "span cut": refused})
        assert text == sentence


def test_a_short_span_and_a_question_without_a_text_are_not_cut() -> None:
    """No "span cut" reply is scripted: a request for one would fail the test."""
    short = {"plain": "石油", "round 1/agent 2": "石油", "round 1/agent 3": "天然ガス"}
    assert ask(PASSAGE, short)[0] == "石油"
    long = "東京は日本の首都であり最大の都市です"
    replies = {"plain": long, "round 1/agent 2": long, "round 1/agent 3": long}
    assert ask("What is the capital of Japan, and which city is the largest?", replies)[0] == long


def test_spans_group_by_overlap_or_containment() -> None:
    from murmurnet.murmur.short import same_answer

    assert same_answer("span", "石油", "石油は戦略資源となった資源です")
    assert same_answer("span", "東京都", "東京")
    assert not same_answer("span", "石炭", "石油は戦略資源となった資源です")
    assert not same_answer("number", "17", "170")


def test_a_program_outweighs_prose_when_the_question_is_the_arithmetic_itself() -> None:
    """ "What is 17 * 23?" once came back as 409: the plain answer, kept on a three-way tie."""
    text, _ = ask(
        "What is 17 * 23?",
        {
            "plain": "17 * 23 equals 409.",
            "round 1/agent 2": "Answer: 421",
            "round 1/agent 3": "```python\nprint(17 * 23)\n```",
        },
    )
    assert text.endswith("Program output: 391\nAnswer: 391")


def test_with_confidence_weights_a_sure_answer_outweighs_a_hesitant_majority() -> None:
    replies = {
        "plain": "He has 23 apples.",
        "round 1/agent 2": "Answer: 23",
        "round 1/agent 3": "20 - 3 = 17\nAnswer: 17",
    }
    sure = {"plain": 0.3, "round 1/agent 2": 0.3, "round 1/agent 3": 0.95}
    sure |= {"round 1/agent 4": 1.0, "round 1/agent 5": 1.0}  # the more programs abstain
    fake = ScriptedBackend(by_tag(replies), confidence=lambda request: sure[request.tag])
    weighed = RunConfig(vote_weight="confidence", agents=2)
    with MurmurNet(weighed, backends={"default": fake}) as net:
        answer = net.ask(SUM)
    assert answer.text == replies["round 1/agent 3"]  # 0.95 against 0.3 + 0.3
    assert all(request.logprobs for request in fake.requests)
    counted, _ = ask(SUM, replies, agents=2)  # one vote each: 23 has two
    assert counted == replies["plain"]


def test_confidence_is_read_from_the_replys_last_tokens() -> None:
    from murmurnet.murmur.option_rank import option_confidence
    from murmurnet.murmur.short import TAIL_TOKENS, tail_confidence
    from murmurnet.types import Completion, ContinuationScore

    hesitant_start = [math.log(0.01)] * 20 + [math.log(0.9)] * TAIL_TOKENS
    reply = Completion(text="x", token_logprobs=hesitant_start)
    assert tail_confidence(reply) == pytest.approx(0.9)
    assert tail_confidence(reply, whole=True) < 0.1
    assert tail_confidence(Completion(text="x")) == 1.0  # not measured: one plain vote
    options = [
        ContinuationScore(text=t, logprob=math.log(p), tokens=1)
        for t, p in [("a", 0.6), ("b", 0.3), ("c", 0.1)]
    ]
    assert option_confidence(options) == pytest.approx(0.6)


def test_the_plain_baseline_asks_the_agents_model_as_the_murmurs_plain_answer_does() -> None:
    agents = ScriptedBackend(lambda request: "17", likelihood=lambda messages, option: -1.0)
    writer = ScriptedBackend(lambda request: "the output model")
    models = {"small": agents, "big": writer}
    settings = {"internal_model": "small", "output_model": "big"}
    for strategy in ("plain", "plain+likelihood"):
        with MurmurNet(RunConfig(strategy=strategy, **settings), backends=models) as net:  # type: ignore[arg-type]
            assert net.ask(SHOP if strategy != "plain" else SUM).text in ("17", "スーパー")
    assert not writer.requests
    assert agents.requests[0].messages == [Message(role="user", content=SUM)]


SPLIT = {
    "plain": "He has 17.",
    "round 1/agent 2": "Answer: 23",
    "round 1/agent 3": "I am not sure.",
}


def test_a_split_vote_keeps_the_plain_answer_by_default() -> None:
    text, fake = ask(SUM, SPLIT)
    assert text == "He has 17." and len(fake.batches) == 1


def test_a_split_vote_can_be_discussed_in_a_second_round() -> None:
    replies = {
        **SPLIT,
        "summary 1": "They disagree: 17 or 23.",
        "round 2/agent 2": "20 - 3 = 17.",
        "round 2/agent 3": "17, since 3 are eaten.",
        "round 1/agent 4": "No idea.",  # the programmer's more: outside the second round
        "output": "He has 17 apples.",
    }
    text, fake = ask(SUM, replies, split_vote="discuss")
    assert text == "He has 17 apples."
    assert [r.tag for r in fake.requests][5:] == [
        "summary 1",
        "round 2/agent 2",
        "round 2/agent 3",
        "output",
    ]
    later = " ".join(m.content for r in fake.requests[5:] for m in r.messages)
    assert "agreed" not in later  # the plain fallback is not shown as the team's answer
    second, third = (r.messages[-1].content for r in fake.requests[6:8])
    # every agent sees the plain answer and the other agent's, never its own or a name
    assert all("He has 17." in shown and "Agent" not in shown for shown in (second, third))
    assert "Answer: 23" not in second and "Answer: 23" in third
    assert "I am not sure." in second and "I am not sure." not in third
    assert "No idea." in second and "No idea." in third
    again = ScriptedBackend(by_tag(replies))
    with MurmurNet(RunConfig(split_vote="discuss"), backends={"default": again}) as net:
        answer = net.ask(SUM)
    # a role keeps its agent number from the first round (where the plain answer is agent 1)
    rounds = [(c.round, c.agent, c.role) for c in answer.contributions()]
    assert rounds[:3] == [(1, 1, "plain"), (1, 2, "solver"), (1, 3, "programmer")]
    assert rounds[3:5] == [(1, 4, "programmer"), (1, 5, "programmer")]  # its more
    assert rounds[5:] == [(2, 2, "solver"), (2, 3, "programmer")]


def test_a_majority_or_a_program_that_ran_is_not_discussed() -> None:
    agreed = {**SPLIT, "round 1/agent 3": "It is 17."}
    text, fake = ask(SUM, agreed, split_vote="discuss")
    assert text == "He has 17." and len(fake.batches) == 1
    checked = {**SPLIT, "round 1/agent 3": "```python\nprint(20 - 3 + 0)\n```"}
    checked |= {"plain": "He has 23.", "round 1/agent 2": "Answer: 19"}
    text, fake = ask(SUM, checked, split_vote="discuss")
    assert text.endswith("17") and len(fake.batches) == 1  # the program wins alone


def test_on_a_question_about_a_pasted_text_a_program_is_one_vote() -> None:
    """A program must first copy the text's facts into code, which the small model does
    badly: on one JSQuAD dev row a program counting a made-up list (4) outvoted a right
    plain "14人". Here a lone program's answer against the plain one is a tie that the plain
    answer keeps; on a bare word problem the same ballots let the program win."""
    text = (
        "グスタフ・マーラーはボヘミアの村で、14人兄弟の第2子として生まれた。兄弟の多くは幼くして"
        "病気で亡くなり、長男も早世したため、グスタフはいわば長男として育てられた。のちに"
        "ウィーンで指揮者として名声を得て、交響曲を10曲書いた。"
    )
    question = f"{text}\nグスタフ・マーラーは、何人兄弟か？"
    replies = {
        "plain": "14人",
        "round 1/agent 2": "短く答えてください。",
        "round 1/agent 3": '```python\nprint(len(["子供", "長男"]) * 2)\n```',
    }
    answer, _ = ask(question, replies)
    assert answer == "14人"
    bare = {**replies, "plain": "He has 14."}
    answer, _ = ask(SUM, bare)
    assert answer.endswith("Program output: 4\nAnswer: 4")


def test_on_a_question_about_a_pasted_text_the_agents_sample_the_plain_question() -> None:
    """The roles' instructions made the small model worse at reading spans: the agents are
    asked exactly what the plain answer is asked, but sampled."""
    text = (
        "グスタフ・マーラーはボヘミアの村で、14人兄弟の第2子として生まれた。兄弟の多くは幼くして"
        "病気で亡くなり、長男も早世したため、グスタフはいわば長男として育てられた。のちに"
        "ウィーンで指揮者として名声を得て、交響曲を10曲書いた。"
    )
    question = f"{text}\nマーラーが指揮者として名声を得た都市はどこか？"
    replies = {"plain": "ボヘミア", "round 1/agent 2": "ウィーン", "round 1/agent 3": "ウィーン市"}
    answer, fake = ask(question, replies)
    assert answer == "ウィーン"  # two sampled answers that agree outvote the plain one
    (batch,) = fake.batches
    plain, *agents = batch
    assert len(agents) == 2
    for request in agents:
        assert request.messages == plain.messages and request.temperature > 0.0


def test_a_base_model_ranks_options_by_what_the_question_adds_to_each() -> None:
    """A base scorer reads a cloze (the question without its options, then an answer line)
    and each option is ranked by its likelihood there less its likelihood after the answer
    line alone: 洋品店 is likelier anyway, 書店 gains most from the question."""
    seen: list[str] = []

    def likelihood(messages: Sequence[Message], option: str) -> float:
        seen.append(messages[-1].content)
        anyway = {"スーパー": -6.0, "洋品店": -2.0, "書店": -5.0}[option]
        return anyway + (3.0 if messages[-1].content != "答え:" and option == "書店" else 0.0)

    agents = ScriptedBackend([])
    base = ScriptedBackend([], likelihood=likelihood, is_chat=False, name="base")
    config = RunConfig(choice_model="base")
    with MurmurNet(config, backends={"default": agents, "base": base}) as net:
        assert net.ask(SHOP).text == "書店"
    assert set(seen) == {"質問: 主に食品を販売する所は?\n答え:", "答え:"}  # NFKC: ？ → ?
    assert not agents.requests and not agents.scored  # the agents' model is not asked


def test_options_the_question_raises_alike_are_ranked_by_the_cloze_alone() -> None:
    """When the question makes every option far likelier (all are planets), PMI would pick
    the one least likely anyway, 海王星; the cloze alone keeps the best-known, 木星."""
    anyway = {"木星": -14.0, "土星": -16.0, "海王星": -19.0}
    rise = {"木星": 9.0, "土星": 10.0, "海王星": 12.0}

    def likelihood(messages: Sequence[Message], option: str) -> float:
        return anyway[option] + (0.0 if messages[-1].content == "答え:" else rise[option])

    base = ScriptedBackend([], likelihood=likelihood, is_chat=False, name="base")
    question = "太陽系で一番大きい惑星は？\n1. 木星\n2. 土星\n3. 海王星"
    with MurmurNet(
        RunConfig(choice_model="base"), backends={"default": ScriptedBackend([]), "base": base}
    ) as net:
        assert net.ask(question).text == "木星"
    for option in rise:  # a mean rise under 8: PMI ranks them
        rise[option] -= 3.0
    with MurmurNet(
        RunConfig(choice_model="base"), backends={"default": ScriptedBackend([]), "base": base}
    ) as net:
        assert net.ask(question).text == "海王星"


def test_the_bundled_base_model_ranks_options_only_beside_the_bundled_default() -> None:
    assert RunConfig().model_for("choice") == "gemma-3-270m"
    assert RunConfig(model_type="GGUF").model_for("choice") == "gemma-3-270m"
    assert RunConfig(model_name="gemma-3-270m").model_for("choice") == "default"
    assert RunConfig(internal_model="big").model_for("choice") == "big"
    assert RunConfig(internal_model="big", choice_model="small").model_for("choice") == "small"


def test_a_follow_up_is_asked_after_the_conversation_that_explains_it() -> None:
    """ "How many are left now?" means nothing alone: every agent reads the earlier turn as a
    chat shows it, the latest turns that fit beside the question."""
    fake = ScriptedBackend(by_tag({"plain": "17"}), honour_limits=True)
    earlier = [Turn(question="x " * 8000, answer="old"), Turn(question=SUM, answer="17 apples.")]
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:  # type: ignore[arg-type]
        net.runtime.run("He eats 2 more. How many are left now?", history=earlier)
    for request in fake.batches[0]:
        first, reply, asked = request.messages
        assert (first.role, first.content) == ("user", SUM)
        assert (reply.role, reply.content) == ("assistant", "17 apples.")
        assert asked.content.startswith("He eats 2 more.")
