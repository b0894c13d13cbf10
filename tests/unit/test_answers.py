"""Reading the one answer from a reply: the rules the murmur's vote and the scorer share.

Most reading cases are checked through `score` in test_eval_scoring.py; these check the core
functions directly, as the murmur calls them.
"""

from __future__ import annotations

import pytest

from murmurnet.answers import char_f1, named_choices, read_answer, span_matches

CHOICES = ["温泉", "ホテル", "理容室", "内科", "皮膚科"]


def test_number_canonical_key() -> None:
    assert read_answer("number", "Answer: 1,000.50") == "1000.5"
    assert read_answer("number", "Answer: 100") == "100"
    assert read_answer("number", "Answer: 0.0") == "0"
    assert read_answer("number", "nothing") == ""


def test_choice_key_is_the_choice_text() -> None:
    assert read_answer("choice", "答え：３", CHOICES) == "理容室"
    assert read_answer("choice", "答え：ＨＯＴＥＬ", ["hotel", "inn"]) == "hotel"
    assert read_answer("choice", "答え：温泉と内科", CHOICES) == ""  # ambiguous: no answer


def test_choice_reply_repeating_the_question() -> None:
    question = "ホテルの近くで散髪をする施設は？"
    reply = "ホテルの近くで散髪をする施設は？\n理容室に行きます。"
    assert read_answer("choice", reply, CHOICES[:3], question) == "理容室"
    assert read_answer("choice", reply, CHOICES[:3]) == ""  # without the question: two named


def test_choice_contained_in_a_longer_choice() -> None:
    choices = ["駅", "駅の売店", "線路"]
    assert named_choices("答え：駅の売店", choices) == ["駅の売店"]
    assert named_choices("答え：駅", choices) == ["駅"]
    assert named_choices("駅の売店か駅", choices) == ["駅", "駅の売店"]


def test_char_f1() -> None:
    assert char_f1("abc", "abc") == 1.0
    assert char_f1("ab", "abcd") == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert char_f1("", "abc") == 0.0
    assert char_f1("xyz", "abc") == 0.0


def test_span_key_is_normalised() -> None:
    assert read_answer("span", "答え：「ＲＫＢ ラジオ」。") == "rkbラジオ"
    assert read_answer("span", "「虹」です。\nきれいです。") == "虹です"


def test_span_matches() -> None:
    assert span_matches("グーテンベルク", "グーテンベルク")
    assert span_matches("グーテンベルクです", "グーテンベルク")
    assert not span_matches("活版印刷を発明したのはグーテンベルクです", "グーテンベルク")
