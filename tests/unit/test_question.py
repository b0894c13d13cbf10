from __future__ import annotations

import pytest

from murmurnet.errors import InputError
from murmurnet.question import classify, detect_language, normalise, read_question


def test_normalise_nfkc_and_spaces() -> None:
    assert normalise("  ＡＢＣ　 １２３  \n\n x ") == "ABC 123\nx"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("日本の首都はどこですか？", "ja"),
        ("What is the capital of Japan?", "en"),
        ("Pythonでリストを並べ替える方法は？", "ja"),
        ("Explain the GIL in CPython and 並行処理", "en"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("What are the pros and cons of remote work?", "discussion"),
        ("在宅勤務のメリットとデメリットを比較して", "discussion"),
        ("How should I plan a three-day trip to Kyoto?", "planning"),
        ("引っ越しの準備の手順を教えて", "planning"),
        ("こんにちは、元気ですか？", "conversational"),
        ("What is the boiling point of water?", "informational"),
        ("光合成とは何ですか？", "informational"),
        ("Tom has 6 bags of 7 apples. How many apples does he have?", "calculation"),
        ("りんごを3個買うといくらですか？", "calculation"),
        ("Which is a fruit?\n\nChoices:\n1. apple\n2. desk", "exact"),
        ("本文：…\n\n質問：…\n\n本文からそのまま抜き出した短い語句で答えてください。", "exact"),
    ],
)
def test_question_types(text: str, kind: str) -> None:
    assert classify(text) == kind


@pytest.mark.parametrize("text", ["", "   ", "\n\t　"])
def test_empty_question_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        read_question(text)
