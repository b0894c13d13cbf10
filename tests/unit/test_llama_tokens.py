"""Which characters a Japanese answer may not be written with."""

from __future__ import annotations

import pytest

from murmurnet.models.llama.tokens import foreign_ideograph


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
