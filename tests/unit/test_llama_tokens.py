"""Which characters a Japanese answer may not be written with."""

from __future__ import annotations

import pytest

from murmurnet.models.llama.tokens import foreign_endings, foreign_ideograph


@pytest.mark.parametrize("text", ["太阳", "铁", "长い", "这是", "纪元", "氧", "碱"])
def test_simplified_chinese_characters_are_foreign_to_japanese(text: str) -> None:
    assert foreign_ideograph(text)


@pytest.mark.parametrize(
    "text",
    ["太陽", "鉄", "長い", "紀元", "髙橋", "﨑", "剝がす", "頰", "𠮟る", "H2O", "", "ｶﾀｶﾅ"],
)
def test_japanese_writing_is_not_foreign(text: str) -> None:
    # 髙 and 﨑 are in code page 932's extensions (names); 剝, 頰 and 𠮟 only in JIS X 0213.
    assert not foreign_ideograph(text)


def test_a_character_begun_by_one_token_is_not_ended_as_a_foreign_one() -> None:
    # 鱼 and 长 (simplified) begin with the same UTF-8 byte as 長; 한 is Hangul.
    fish, long, simplified_long = "鱼".encode(), "長".encode(), "长".encode()
    pieces = {1: fish[1:], 2: long[1:] + "い".encode(), 3: simplified_long[1:]}
    assert fish[0] == long[0] == simplified_long[0]
    assert foreign_endings(fish[:1], pieces) == [1, 3]
    assert foreign_endings("한".encode()[:2], {4: "한".encode()[2:]}) == [4]
