from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from murmurnet.answers import extract_final
from murmurnet.errors import InputError
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import task_text

NUMBER = {
    "question": "Penny has $20 and spends $15. How much is left?",
    "answer": "5",
    "kind": "number",
}
CHOICE = {
    "question": "主に食品を販売する所は？",
    "choices": ["スーパー", "洋品店", "書店"],
    "answer": "スーパー",
    "kind": "choice",
    "lang": "ja",
}
SPAN = {
    "question": "ラオスの首都は？",
    "context": "ラオス [SEP] ラオスの首都はヴィエンチャンである。",
    "answer": "ヴィエンチャン",
    "aliases": ["ヴィエンチャン"],
    "kind": "span",
    "lang": "ja",
}


def write(tmp_path: Path, *rows: Any, name: str = "set.jsonl") -> Path:
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_three_kinds(tmp_path: Path) -> None:
    rows = load_rows(write(tmp_path, NUMBER, "", CHOICE, SPAN))
    assert [r.kind for r in rows] == ["number", "choice", "span"]
    assert rows[0].lang == "en"  # detected when absent
    assert rows[1].lang == "ja"
    assert all(r.source == "set" for r in rows)
    assert rows[2].aliases == ["ヴィエンチャン"]


def test_ids_are_stable_and_unique(tmp_path: Path) -> None:
    first = load_rows(write(tmp_path, NUMBER, CHOICE, NUMBER))
    second = load_rows(write(tmp_path, CHOICE, NUMBER))
    assert len({r.id for r in first}) == 3
    assert first[0].id == second[1].id  # content-derived, not position-derived
    assert first[2].id.endswith("-3")  # the duplicate row gets its line number
    given = load_rows(write(tmp_path, {**NUMBER, "id": 17}))
    assert given[0].id == "17"


def test_limit(tmp_path: Path) -> None:
    path = write(tmp_path, NUMBER, CHOICE, "{broken")
    assert len(load_rows(path, limit=2)) == 2
    with pytest.raises(InputError, match="at least 1"):
        load_rows(path, limit=0)


def test_number_answers_may_be_json_numbers(tmp_path: Path) -> None:
    assert load_rows(write(tmp_path, {**NUMBER, "answer": 1500}))[0].answer == "1500"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "q", "answer": "1"', r"set\.jsonl:2: bad JSON"),
        ({"question": "q", "kind": "number"}, r"set\.jsonl:2: missing field 'answer'"),
        ({"question": "q", "answer": "a", "kind": "essay"}, r":2: unknown kind 'essay'"),
        ({**CHOICE, "answer": "書籍"}, r":2: answer '書籍' is not one of the choices"),
        ({**CHOICE, "choices": ["スーパー"]}, r":2: .*at least two"),
        ({**NUMBER, "answer": "five"}, r":2: answer 'five' contains no number"),
        ([1, 2], r":2: a row must be a JSON object"),
        ({**NUMBER, "id": "a"}, r":2: id 'a' already used on line 1"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, line: Any, message: str) -> None:
    path = write(tmp_path, {**NUMBER, "id": "a"}, line)
    with pytest.raises(InputError, match=message) as caught:
        load_rows(path)
    assert "\n" not in caught.value.one_line()


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not found: .*nope\.jsonl"):
        load_rows(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="no rows"):
        load_rows(write(tmp_path, ""))


def test_task_text_follows_the_language(tmp_path: Path) -> None:
    number, choice, span = load_rows(write(tmp_path, NUMBER, CHOICE, SPAN))
    assert task_text(number).endswith('"Answer: <number>".')
    assert "1. スーパー\n2. 洋品店\n3. 書店" in task_text(choice)
    assert "答え：" in task_text(choice)
    text = task_text(span)
    assert "[SEP]" not in text
    assert text.index("ヴィエンチャンである") < text.index("ラオスの首都は？")
    assert "本文からそのまま抜き出した" in text


@pytest.mark.parametrize(
    ("reply", "final"),
    [
        ("Let me think.\nAnswer: 42", "42"),
        ("Answer: 41\nWait.\nFinal answer: **42**", "42"),
        ("考えます。\n答え：虹\n以上です。", "虹"),
        ("答え:\n\n「虹」", "虹"),
        ("no marker here", "no marker here"),
    ],
)
def test_extract_final(reply: str, final: str) -> None:
    assert extract_final(reply) == final
