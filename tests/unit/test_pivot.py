"""Japanese questions of fact: recalled in English by one agent, written in Japanese by another."""

from __future__ import annotations

from murmurnet import GenerationRequest, MurmurNet, RunConfig, ScriptedBackend
from murmurnet.types import EntryKind

CAPITAL = "日本の首都はどこですか？"


def replies(request: GenerationRequest) -> str:
    return {
        "english": "The capital of Japan is Tokyo.",
        "output": "日本の首都は東京です。",
        "plain": "日本の首都は京都です。",
    }.get(request.tag or "", "答え：京都")


def test_a_japanese_question_of_fact_is_recalled_in_english_and_written_in_japanese() -> None:
    fake = ScriptedBackend(replies)
    streamed: list[str] = []
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        answer = net.ask(CAPITAL, on_token=streamed.append)
    assert answer.text == "日本の首都は東京です。" == "".join(streamed)
    recall, write = fake.requests  # two agents, one after the other; no vote
    assert recall.messages[0].content == "日本の首都はどこですか?\n\nAnswer in English."  # NFKC
    assert recall.temperature == 0.0 and write.temperature == 0.0
    assert "日本の首都はどこですか?" in write.messages[0].content
    assert "The capital of Japan is Tokyo." in write.messages[0].content
    (bilingual,) = [e for e in answer.entries if e.kind is EntryKind.CONTRIBUTION]
    assert bilingual.role == "bilingual" and bilingual.text == "The capital of Japan is Tokyo."


def test_an_english_question_of_fact_gets_the_plain_answer_as_it_streams() -> None:
    """No sampled agents to outvote it (benchmarks/results/factoid-en/)."""
    fake = ScriptedBackend(lambda r: {"plain": "Ankara."}.get(r.tag or "", "Istanbul."))
    streamed: list[str] = []
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        answer = net.ask("What is the capital of Turkey?", on_token=streamed.append)
    assert answer.text == "Ankara." == "".join(streamed)
    assert [r.tag for r in fake.requests] == ["plain"]


def test_without_an_english_answer_the_japanese_vote_answers() -> None:
    fake = ScriptedBackend(lambda r: "" if r.tag == "english" else replies(r))
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        answer = net.ask(CAPITAL)
    # The plain answer and both agents agree on 京都: told in the plain answer's words.
    assert answer.text == "日本の首都は京都です。"
    assert [r.tag for r in fake.requests][:2] == ["english", "plain"]


def test_a_fact_the_writer_left_in_english_stands_and_is_not_streamed_twice() -> None:
    """A right fact in English serves better than the Japanese vote's wrong one."""
    english = "The capital of Japan is Tokyo."
    fake = ScriptedBackend(lambda r: english if r.tag == "output" else replies(r))
    streamed: list[str] = []
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        answer = net.ask(CAPITAL, on_token=streamed.append)
    assert answer.text == english == "".join(streamed)
    assert [r.tag for r in fake.requests] == ["english", "output"]


def test_an_open_question_written_in_english_gets_the_plain_answer() -> None:
    question = "睡眠不足が体に与える影響について説明してください。"
    said = {"english": "It tires you.", "output": "It tires you.", "plain": "疲れます。"}
    fake = ScriptedBackend(lambda r: said[r.tag])
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        assert net.ask(question).text == "疲れます。"


def test_by_default_a_japanese_open_question_is_written_out_from_english() -> None:
    written = {"english": "Sleep loss tires the body.", "output": "睡眠不足は体を疲れさせます。"}
    fake = ScriptedBackend(lambda r: written[r.tag])
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        answer = net.ask("睡眠不足が体に与える影響について説明してください。")
    assert answer.text == "睡眠不足は体を疲れさせます。"
    recall, write = fake.requests
    assert recall.messages[0].content.endswith("Answer in English.")
    assert "一文" not in write.messages[0].content and write.japanese_only


def test_by_default_an_english_open_question_gets_the_plain_answer() -> None:
    fake = ScriptedBackend(lambda r: {"plain": "Air scatters blue light."}[r.tag])
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        assert net.ask("Why is the sky blue?").text == "Air scatters blue light."


def test_a_reply_that_only_says_the_question_again_gives_the_plain_answer() -> None:
    question = "雨はどのようにして降るのですか？"
    said = {"english": "Water vapour cools into drops.", "output": question, "plain": "雲から。"}
    fake = ScriptedBackend(lambda r: said[r.tag])
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        assert net.ask(question).text == "雲から。"


def test_the_write_task_said_back_is_left_out() -> None:
    question = "睡眠不足が体に与える影響について説明してください。"
    task = "この答えを使って、質問に日本語で答えてください。"
    said = {"english": "It tires you.", "output": f"体が疲れます。\n\n{task}"}
    fake = ScriptedBackend(lambda r: said[r.tag])
    with MurmurNet(RunConfig(), backends={"default": fake}) as net:
        assert net.ask(question).text == "体が疲れます。"
