"""Chunking: Japanese and English sentence ends, token budgets, overlap, offsets."""

from __future__ import annotations

import itertools

import pytest

from murmurnet.rag.chunking import chunk_text, sentence_spans
from murmurnet.rag.embeddings import approx_tokens


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def count_chars(text: str) -> int:
    """One token per non-space character: easy to reason about in assertions."""
    return sum(1 for c in text if not c.isspace())


def count_words(text: str) -> int:
    return len(text.split())


def test_japanese_sentence_ends() -> None:
    text = "富士山は高い。本当ですか？はい！「そうです。」と彼は言った。"
    assert sentences(text) == [
        "富士山は高い。",
        "本当ですか？",
        "はい！",
        "「そうです。」",
        "と彼は言った。",
    ]


def test_english_sentence_ends_skip_abbreviations_and_decimals() -> None:
    text = "Mr. Smith paid 3.5 dollars, e.g. coins. Was it enough? Yes! The end"
    assert sentences(text) == [
        "Mr. Smith paid 3.5 dollars, e.g. coins.",
        "Was it enough?",
        "Yes!",
        "The end",
    ]


def test_mixed_language_paragraphs_headings_and_lists() -> None:
    text = "# 見出し\n本文です。Second sentence here.\n\n- item one\n- item two"
    assert sentences(text) == [
        "# 見出し",
        "本文です。",
        "Second sentence here.",
        "- item one",
        "- item two",
    ]


def test_chunks_fit_the_budget_and_point_back_into_the_text() -> None:
    text = "".join(f"これは{i}番目の文です。" for i in range(40))
    chunks = chunk_text(text, count_chars, max_tokens=50, overlap=10)
    assert len(chunks) > 3
    for index, chunk in enumerate(chunks):
        assert chunk.position == index
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.tokens <= 50
        assert chunk.text.endswith("。")  # never cut mid-sentence


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    chunks = chunk_text(text, count_words, max_tokens=40, overlap=12)
    for before, after in itertools.pairwise(chunks):
        assert after.start < before.end, "the next chunk starts inside the previous one"
        shared = text[after.start : before.end]
        assert shared.endswith(".") and shared.startswith("Sentence")
        assert count_words(shared) <= 12
    assert chunks[-1].end == len(text)


def test_without_overlap_chunks_tile_the_text() -> None:
    text = "一つ目。二つ目。三つ目。四つ目。五つ目。"
    chunks = chunk_text(text, count_chars, max_tokens=8, overlap=0)
    assert "".join(c.text for c in chunks) == text


def test_an_over_long_sentence_is_cut_at_clauses_then_characters() -> None:
    text = "あ" * 30 + "、" + "い" * 30 + "、" + "う" * 100 + "。"
    chunks = chunk_text(text, count_chars, max_tokens=40, overlap=0)
    assert all(c.tokens <= 40 for c in chunks)
    assert chunks[0].text == "あ" * 30 + "、"
    assert "".join(c.text for c in chunks) == text


def test_empty_text_has_no_chunks_and_tiny_budgets_are_refused() -> None:
    assert chunk_text("   \n\n ", count_chars) == []
    assert len(chunk_text("A short one.", approx_tokens)) == 1
    with pytest.raises(ValueError):
        chunk_text("text", count_chars, max_tokens=2)
