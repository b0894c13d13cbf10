"""Lexical side: Japanese bigrams, query terms, coverage; and rank fusion."""

from __future__ import annotations

from murmurnet.rag.fusion import reciprocal_rank_fusion
from murmurnet.rag.lexical import content_terms, coverage, fts_query, query_terms, tokenize


def test_japanese_runs_become_overlapping_bigrams() -> None:
    assert tokenize("東京タワー") == ["東京", "京タ", "タワ", "ワー"]
    assert "富士" in tokenize("富士山は高い") and "士山" in tokenize("富士山は高い")


def test_a_single_kanji_is_kept_and_scripts_split_from_latin_words() -> None:
    assert tokenize("山 Tokyo2020年") == ["山", "tokyo2020", "年"]


def test_full_width_text_is_folded_and_english_stopwords_dropped() -> None:
    assert tokenize("ＡＢＣ　１２３ The Cat of the house") == ["abc", "123", "cat", "house"]


def test_a_whitespace_tokenizer_would_miss_what_bigrams_match() -> None:
    document = set(tokenize("富士山は日本で最も高い山です。"))
    assert document & set(tokenize("日本一高い山は？"))  # 日本, 高い, ...


def test_question_terms_drop_hiragana_only_bigrams() -> None:
    terms = query_terms("季語とは何ですか？")
    assert "季語" in terms and "です" not in terms and "とは" not in terms
    assert query_terms("これはなに") == tokenize("これはなに")  # nothing else left: keep them


def test_content_terms_and_coverage() -> None:
    question = query_terms("ミツバチは仲間に花の方向をどうやって伝えますか？")
    assert content_terms(question) == ["ミツ", "ツバ", "バチ", "仲間", "方向"]
    assert coverage(question, {"ミツ", "ツバ", "バチ", "仲間"}) == 0.8
    assert coverage(question, {"花の", "伝え"}) == 0.0


def test_fts_query_quotes_terms() -> None:
    assert fts_query('say "hi" 日本') == '"say" OR "hi" OR "日本"'
    assert fts_query("の、は。") is not None
    assert fts_query("?!") is None


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["d", "b", "e"]])
    assert fused[0] == ("b", 1 / 62 + 1 / 62)  # second twice beats first once
    assert [item for item, _ in fused][1:3] == ["a", "d"]


def test_rrf_scores_and_ties() -> None:
    fused = dict(reciprocal_rank_fusion([["x", "y"]], k=10))
    assert fused == {"x": 1 / 11, "y": 1 / 12}
    tie = reciprocal_rank_fusion([["a"], ["b"]])
    assert [item for item, _ in tie] == ["a", "b"]  # equal scores keep first-seen order
    assert reciprocal_rank_fusion([[], []]) == []
