"""Lexical tokens for Japanese and English, and the full-text query built from them.

Japanese has no spaces, so a whitespace tokenizer (the original project's) sees a whole
sentence as one word and never matches a question. Overlapping character bigrams over runs
of kanji and kana are the classic CJK answer (Lucene's CJKAnalyzer): they need no
dictionary, never fail on names or new words, and rank well with BM25, which discounts
the bigrams that particles produce because they occur everywhere. On the shipped corpus
they reach the recall in benchmarks/bench_retrieval.py without a morphological analyser.
Latin words are lowercased and NFKC folds full-width letters and digits to ASCII.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶ"
_TOKEN = re.compile(f"(?P<cjk>[{_CJK}]+)|(?P<word>[^\\W_{_CJK}]+)")
# Only the commonest English function words: they make every chunk match a question.
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from how i in is it its of on or that the "
    "this to was were what when where which who why will with".split()
)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str) -> list[str]:
    """Index terms: English words, and kanji/kana runs as overlapping character bigrams."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(normalise(text)):
        run = match.group("cjk")
        if run is None:
            word = match.group("word")
            if word not in STOPWORDS:
                tokens.append(word)
        elif len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def fts_document(text: str) -> str:
    """The text as SQLite FTS5 stores it: tokens separated by spaces."""
    return " ".join(tokenize(text))


def fts_query(text: str) -> str | None:
    """An FTS5 OR query of the question's distinct terms; None when it has none."""
    terms = list(dict.fromkeys(tokenize(text)))
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
