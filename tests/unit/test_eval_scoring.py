from __future__ import annotations

import pytest

from murmurnet.evaluation.dataset import EvalRow
from murmurnet.evaluation.scoring import score


def number_row(answer: str) -> EvalRow:
    return EvalRow(id="n", question="How many?", answer=answer, kind="number")


def choice_row() -> EvalRow:
    return EvalRow(
        id="c",
        question="散髪をする施設は？",
        answer="理容室",
        kind="choice",
        choices=["温泉", "ホテル", "理容室", "内科", "皮膚科"],
        lang="ja",
    )


def span_row() -> EvalRow:
    return EvalRow(
        id="s",
        question="活版印刷の発明者は？",
        answer="ヨハネス・グーテンベルク",
        aliases=["ヨハネス・グーテンベルク", "グーテンベルク"],
        kind="span",
        context="グーテンベルクは活版印刷を発明した。",
        lang="ja",
    )


@pytest.mark.parametrize(
    ("reply", "answer", "correct"),
    [
        ("They need 45 more dollars.\nAnswer: 45", "45", True),
        ("Answer: $1,000", "1000", True),
        ("1,000 people came", "1000", True),
        ("The total is 124,600 / 2 = 62,300", "62300", True),
        ("答え：１２３", "123", True),  # full-width digits
        ("答え：１，２３４円", "1234", True),  # full-width comma
        ("The answer is 3.0", "3", True),
        ("It drops to -5 degrees", "-5", True),
        ("It drops to \u22125 degrees", "-5", True),  # U+2212 minus sign
        ("Pages 3-5, so 5", "5", True),  # a range hyphen is not a minus sign
        ("Half is 2.5", "2.5", True),
        ("First 10, then 20, finally 30", "30", True),  # the last number wins
        ("First 30, then 20, finally 10", "30", False),
        ("Answer: 42\nCheck: 6 * 7 = 42, and 40 + 2 = 42 — not 43", "42", True),
        ("Answer: 3 × $5 = $15", "15", True),  # last number of the marker's line
        ("No idea.", "7", False),
        ("1,2", "12", False),  # a list, not a thousands separator
    ],
)
def test_number(reply: str, answer: str, correct: bool) -> None:
    assert score(reply, number_row(answer)).correct is correct


def test_number_falls_back_to_whole_reply_when_marker_has_no_number() -> None:
    assert score("It is 12 in total.\nAnswer: twelve", number_row("12")).correct


@pytest.mark.parametrize(
    ("reply", "correct"),
    [
        ("答え：理容室", True),
        ("理容室です。", True),
        ("答え：「理容室」", True),
        ("答え：3", True),  # 1-based index
        ("答え：３番", True),  # full-width index
        ("(3)", True),
        ("答え：選択肢3", True),
        ("答え：2", False),
        ("答え：0", False),  # 0-based indices are not accepted
        ("答え：6", False),  # out of range
        ("温泉か理容室のどちらか", False),  # names two options
        ("答え：理容室、または内科", False),
        ("温泉も考えたが違う。\n答え：理容室", True),  # only the final part is read
        ("分かりません", False),
    ],
)
def test_choice(reply: str, correct: bool) -> None:
    assert score(reply, choice_row()).correct is correct


def test_choice_naming_two_extracts_nothing() -> None:
    assert score("答え：温泉と内科", choice_row()).extracted == ""


def test_choice_english_words_stand_alone() -> None:
    row = EvalRow(
        id="e", question="Which?", answer="cat", kind="choice", choices=["cat", "category"]
    )
    assert score("Answer: Category", row).correct is False
    assert score("Answer: The CAT.", row).correct is True


@pytest.mark.parametrize(
    ("reply", "correct", "f1"),
    [
        ("答え：ヨハネス・グーテンベルク", True, 1.0),
        ("答え：ヨハネス グーテンベルク", True, 1.0),  # spaces and ・ are ignored
        ("答え：「グーテンベルク」。", True, 1.0),  # alias, quotes and 。 stripped
        ("答え：ｸﾞｰﾃﾝﾍﾞﾙｸ", True, 1.0),  # half-width katakana (NFKC)
        ("答え:<グーテンベルク>", True, 1.0),  # the format's placeholder brackets copied
        ("答：グーテンベルク", True, 1.0),  # the short marker
        ("答案：グーテンベルク", True, 1.0),  # Qwen's Chinese marker
        # Lenient: the alias inside a reply at most twice its length counts (F1 stays partial).
        ("答え：グーテンベルクです", True, 2 * 7 / (7 + 9)),
        ("答え：グーテンベルクが発明したと本文にあります", False, 2 * 7 / (7 + 20)),
        ("答え：活版印刷", False, 0.0),
    ],
)
def test_span(reply: str, correct: bool, f1: float) -> None:
    result = score(reply, span_row())
    assert result.correct is correct
    assert result.f1 == pytest.approx(f1)


def test_span_ascii_punctuation_and_case() -> None:
    row = EvalRow(id="r", question="Q?", answer="RKBラジオ", kind="span", aliases=["RKBラジオ"])
    assert score('Answer: "rkb-ラジオ!"', row).correct


# Replies to the plain question: no "Answer:" line, read as a person reads a chat reply.


@pytest.mark.parametrize(
    ("reply", "extracted"),
    [
        ("理容室です。\n温泉やホテルでは髪は切りません。", "理容室"),  # answer first, then why
        ("答えは理容室です", "理容室"),
        ("**理容室**", "理容室"),
        ("3. 理容室", "理容室"),
        # The options pasted back, then the answer: the list chooses nothing.
        ("1. 温泉\n2. ホテル\n3. 理容室\n4. 内科\n5. 皮膚科\n\n理容室が正解です。", "理容室"),
        ("温泉\nホテル\n理容室\n内科\n皮膚科\n\n3", "理容室"),
        ("選択肢は温泉、ホテル、理容室、内科、皮膚科です。\n理容室", "理容室"),
        # A first line that discusses a choice is not an answer; two named stay ambiguous.
        ("温泉は違います。\n理容室かもしれません。", ""),
        ("温泉か理容室のどちらか", ""),
        ("理容室だと思う。\n答え：温泉、ホテル、理容室、内科、皮膚科", ""),  # final part lists all
    ],
)
def test_choice_plain_replies(reply: str, extracted: str) -> None:
    assert score(reply, choice_row()).extracted == extracted


def test_choice_reply_repeating_the_question() -> None:
    row = EvalRow(
        id="q",
        question="ホテルの近くで散髪をする施設は？",
        answer="理容室",
        kind="choice",
        choices=["温泉", "ホテル", "理容室"],
        lang="ja",
    )
    assert score("ホテルの近くで散髪をする施設は？\n理容室に行きます。", row).correct
    assert score("Hotel?", row.model_copy(update={"question": "h"})).extracted == ""


def test_choice_english_plain_reply() -> None:
    row = EvalRow(
        id="e", question="Which pet purrs?", answer="cat", kind="choice", choices=["cat", "dog"]
    )
    assert score("The answer is cat.\nDogs bark instead.", row).correct
    assert score("Not the dog: the cat.\nDogs bark.", row).extracted == ""


@pytest.mark.parametrize(
    ("reply", "correct"),
    [
        ("グーテンベルクです。", True),
        ("ヨハネス・グーテンベルクです。\n彼は15世紀のドイツの人物です。", True),  # first line
        ("グーテンベルク", True),
        ("活版印刷を発明したのはヨハネス・グーテンベルクという人物です。", False),  # too long
        ("本文によると、\nグーテンベルクです。", False),  # the first line is the answer
        ("分かりません。", False),
    ],
)
def test_span_plain_replies(reply: str, correct: bool) -> None:
    assert score(reply, span_row()).correct is correct


def test_span_plain_reply_f1_is_on_the_first_line() -> None:
    result = score("グーテンベルク\n活版印刷の発明者として知られる。", span_row())
    assert (result.correct, result.f1, result.extracted) == (True, 1.0, "グーテンベルク")


def test_span_english_plain_reply() -> None:
    row = EvalRow(
        id="r", question="Where?", answer="the Alps", aliases=["the Alps", "Alps"], kind="span"
    )
    assert score("In the Alps.\nThey are high.", row).correct
    assert not score("Somewhere in Europe, probably the Alps region overall.", row).correct
