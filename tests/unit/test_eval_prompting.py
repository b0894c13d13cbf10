"""Which text each strategy is asked: the plain question for all, the task text for `single`."""

from __future__ import annotations

import pytest

from murmurnet.evaluation.dataset import EvalRow
from murmurnet.evaluation.prompting import (
    describe_question_rule,
    plain_text,
    question_for,
    task_text,
)
from murmurnet.question import read_question

NUMBER_EN = EvalRow(
    id="n",
    question="  Penny has $20 and spends $15. How much is left?\n",
    answer="5",
    kind="number",
)
NUMBER_JA = EvalRow(
    id="nj", question="りんごが3個、みかんが4個あります。全部で何個？", answer="7",
    kind="number", lang="ja",
)  # fmt: skip
CHOICE_JA = EvalRow(
    id="c", question="主に食品を販売する所は？", answer="スーパー", kind="choice",
    choices=["スーパー", "洋品店", "書店"], lang="ja",
)  # fmt: skip
CHOICE_EN = EvalRow(
    id="ce", question="Which animal purrs?", answer="cat", kind="choice", choices=["dog", "cat"]
)
SPAN_JA = EvalRow(
    id="s", question="ラオスの首都は？", answer="ヴィエンチャン", kind="span",
    context="ラオス [SEP] ラオスの首都はヴィエンチャンである。", lang="ja",
)  # fmt: skip
SPAN_EN = EvalRow(
    id="se", question="What is the capital of Laos?", answer="Vientiane", kind="span",
    context="Laos [SEP] The capital of Laos is Vientiane.",
)  # fmt: skip
ROWS = [NUMBER_EN, NUMBER_JA, CHOICE_JA, CHOICE_EN, SPAN_JA, SPAN_EN]


@pytest.mark.parametrize(
    ("row", "text"),
    [
        (
            NUMBER_EN,
            "Penny has $20 and spends $15. How much is left?\n\n"
            "Think step by step, then give the final answer as a number on the last line.",
        ),
        (
            NUMBER_JA,
            "りんごが3個、みかんが4個あります。全部で何個？\n\n"
            "順を追って考え、最後の行に答えの数を書いてください。",
        ),
        (CHOICE_JA, "主に食品を販売する所は？\n1. スーパー\n2. 洋品店\n3. 書店"),
        (CHOICE_EN, "Which animal purrs?\n1. dog\n2. cat"),
        (
            SPAN_JA,
            "文章を読んで、質問に文章中の短い語句だけで答えてください。\n"
            "文章: ラオス\nラオスの首都はヴィエンチャンである。\n質問: ラオスの首都は？\n答え:",
        ),
        (
            SPAN_EN,
            "Read the passage and answer the question with a short phrase from it.\n"
            "Passage: Laos\nThe capital of Laos is Vientiane.\n"
            "Question: What is the capital of Laos?\nAnswer:",
        ),
    ],
)
def test_plain_text_is_the_question_as_typed(row: EvalRow, text: str) -> None:
    assert plain_text(row) == text


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_plain_text_never_asks_for_the_task_texts_answer_line(row: EvalRow) -> None:
    """The request a user adds opens the answer at most; it never asks for a closing
    "Answer: …" line in a set format, which is what `single`'s task text does."""
    text = plain_text(row)
    for instruction in ("Answer: <", "答え：<", "本文：", "最後の行を"):
        assert instruction not in text


LONG_SPAN_JA = SPAN_JA.model_copy(
    update={
        "context": "ラオス [SEP] ラオス人民民主共和国は東南アジアの内陸国で、首都はヴィエンチャン"
        "である。北は中国、東はベトナム、南はカンボジア、西はタイとミャンマーに接している。"
    }
)
LONG_SPAN_EN = SPAN_EN.model_copy(
    update={
        "context": "Laos [SEP] Laos is a landlocked country in Southeast Asia. Its capital "
        "and largest city is Vientiane, on the Mekong river."
    }
)


@pytest.mark.parametrize("row", [LONG_SPAN_JA, LONG_SPAN_EN], ids=["ja", "en"])
def test_a_reading_question_is_read_as_a_passage_and_its_question(row: EvalRow) -> None:
    """The request and the opened answer line must not hide the question from the router."""
    assert read_question(plain_text(row)).kind == "exact"
    assert read_question(plain_text(row).rsplit("\n", 1)[0]).kind == "exact"


def test_span_without_a_passage_is_the_bare_question() -> None:
    open_book = SPAN_EN.model_copy(update={"context": " "})
    assert plain_text(open_book) == "What is the capital of Laos?"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_single_keeps_the_task_text_and_every_other_strategy_gets_plain(row: EvalRow) -> None:
    assert question_for(row, "single") == task_text(row)
    for strategy in ("plain", "murmur", "self-consistency", "plain+likelihood"):
        assert question_for(row, strategy) == plain_text(row)
    assert question_for(row, "single") != question_for(row, "plain")


def test_the_report_states_the_rule() -> None:
    sentence = describe_question_rule(["plain", "single", "murmur"])
    assert "`plain`, `murmur` got the question as a user would type it" in sentence
    assert "`single` got the harness's task text" in sentence
    assert "single" not in describe_question_rule(["murmur"])
