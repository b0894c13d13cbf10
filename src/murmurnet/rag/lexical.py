"""Lexical tokens for Japanese and English, and the full-text query built from them.

Japanese has no spaces, so a whitespace tokenizer (the original project's) sees a whole
sentence as one word and never matches a question. Overlapping character bigrams over runs
of kanji and kana are the classic CJK answer (Lucene's CJKAnalyzer): they need no
dictionary, never fail on names or new words, and rank well with BM25, which discounts
the bigrams that particles produce because they occur everywhere. On the shipped corpus
they find the right document first for every question asked in the document's language
(lexical recall@1 0.61: all 20 such questions of 33), where the original whitespace split
manages 0.30 (benchmarks/bench_retrieval.py).
Latin words are lowercased and NFKC folds full-width letters and digits to ASCII.
"""

from __future__ import annotations

import re
import unicodedata

# Hiragana, katakana (with the long-vowel mark), CJK ideographs and the iteration marks.
_CJK = (
    "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶ"
)
_TOKEN = re.compile(f"(?P<cjk>[{_CJK}]+)|(?P<word>[^\\W_{_CJK}]+)")
_HIRAGANA = re.compile("[\u3041-\u309f]+")
_CONTENT = re.compile(
    "[^\\W_\u3040-\u30ff\u3400-\u9fff]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶ]+"
    "|[\u30a1-\u30fa\u30fc-\u30ff]+"
)
# Only the commonest English function words: they make every chunk match a question.
_STOPWORDS = (
    "a an and are as at be by did do does for from how i in is it its of on or that the "
    "this to was were what when where which who why will with"
)
STOPWORDS = frozenset(_STOPWORDS.split(" "))


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


def content_terms(terms: list[str]) -> list[str]:
    """Terms that carry meaning on their own: English words, all-kanji or all-katakana bigrams.

    A bigram across a script boundary (山は, ーフの) or of hiragana (です) says little about
    the topic; when a question has content terms, only they count towards its coverage.
    """
    content = [term for term in terms if _CONTENT.fullmatch(term)]
    return content or terms


def coverage(question: list[str], document: set[str]) -> float:
    """The share of the question's content terms that a passage contains."""
    wanted = content_terms(question)
    if not wanted:
        return 0.0
    return sum(term in document for term in wanted) / len(wanted)


def fts_document(text: str) -> str:
    """The text as SQLite FTS5 stores it: tokens separated by spaces."""
    return " ".join(tokenize(text))


def query_terms(text: str) -> list[str]:
    """The question's distinct terms, without all-hiragana bigrams when others remain.

    All-hiragana bigrams of a question are mostly particles and endings (のは, です, なぜ):
    they match every Japanese passage, and in a mixed-language base they hand the fusion a
    confident-looking but meaningless lexical ranking for a question about an English text.
    """
    terms = list(dict.fromkeys(tokenize(text)))
    content = [term for term in terms if not _HIRAGANA.fullmatch(term)]
    return content or terms


def fts_query(text: str) -> str | None:
    """An FTS5 OR query of the question's content terms; None when it has none."""
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
