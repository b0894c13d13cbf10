"""Reading the question: normalise it, detect its language and classify its type.

The type picks the agents' roles, so it must come from what the person asked: a bare
"What is 17 * 23?" deserves the solver and the programmer as much as an evaluation row
does. Rules and keywords live in `prompts/question_types.yaml` so that users can tune them
without touching code; every rule adds points to one type, and `explain` lists the rules
that fired, so the result is always traceable. None of the rules may key on the evaluation
harness's own task wording (a unit test checks the YAML against it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import yaml

from murmurnet.errors import InputError
from murmurnet.options import LABELLED_LINE, loosely_listed

Language = Literal["ja", "en"]
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACES = re.compile(r"[ \t\u3000]+")
# NFKC would turn "3²" into "32" and "①" into "1", changing what the question says:
# superscripts and enclosed (circled, parenthesised) numbers and letters keep their form.
_KEEP = re.compile(r"([\u00b2\u00b3\u00b9\u2070-\u209f\u2460-\u24ff\u2776-\u2793\u3251-\u32bf]+)")


@dataclass(frozen=True)
class Question:
    text: str
    language: Language
    kind: str


@dataclass(frozen=True)
class Hit:
    """One rule that fired: the type it points at, what matched, and the points it adds."""

    kind: str
    rule: str
    points: int


def _nfkc(text: str) -> str:
    parts = _KEEP.split(text)
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


def normalise(text: str) -> str:
    """NFKC (full-width ASCII → ASCII), trimmed, runs of spaces collapsed; newlines kept.

    Superscripts and circled numbers are kept as written (see `_KEEP`).
    """
    text = _nfkc(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)


def detect_language(text: str) -> Language:
    """Japanese as soon as kana or kanji make up a fair share of the letters."""
    japanese = len(_JAPANESE.findall(text))
    latin = len(_LATIN.findall(text))
    return "ja" if japanese and japanese * 3 >= latin * 0.5 else "en"


# --- the rules, compiled once from the YAML -------------------------------------------

# Option labels by style: (label pattern at a line start, inline pattern, first two labels).
# The text is case-folded first, so "A)" and "a)" are one style.
_OPTION_STYLES: dict[str, tuple[str, str | None, tuple[str, str]]] = {
    "letter": (r"^\(?([a-h])[).:](?!\d)\s*\S", r"(?:^|\s)\(?([a-h])\)\s*\S", ("a", "b")),
    "number": (r"^\(?([1-9])[).](?!\d)\s*\S", r"(?:^|\s)\(([1-9])\)\s*\S", ("1", "2")),
    "iroha": (r"^([イロハニホ])\s*[.、)]\s*\S", None, ("イ", "ロ")),
    "kana": (r"^([アイウエオ])\s*[.、)]\s*\S", None, ("ア", "イ")),
    "circled": (r"^([①-⑩])\s*\S", r"([①-⑩])\s*\S", ("①", "②")),
}
_QUESTION_WORDS = re.compile(
    r"\?|\b(?:what|who|when|where|which|why|how)\b|何|誰|だれ|なに|いつ|どこ|どれ|なぜ|どの|どう|ですか"
)
_ANSWER_CUE = re.compile(r"^\W*\w{1,8}\W*[:：]\W*$")
# How a Japanese question ends when it has no question word: a topic left open ("日本の公用語は。"),
# the question particle か closing a sentence ("判明しているか。", not a request "…くれないか。"),
# a test sheet's imperative ("一つあげよ"), or "なんの" / "なんと呼ぶ".
_QUIZ_ENDING = re.compile(
    r"(?:(?:は|を|なに|なん)\s*[?？。]?|(?<!ない)か\s*[?？。]|(?:答え|あげ|挙げ|述べ|選べ)よ\s*。?)\s*$"
    r"|なん(?:の|と(?:いう|言う|呼))"
)
# A Japanese question about a text may name what it asks for and stop there (体言止め, as
# quizzes and test sheets do): "…における仮説", "…と言い難い理由", "…で結婚すること". A line
# that ends so, without a full stop, asks for what it names, unless it names a task
# ("この文章の要約", "英語に翻訳"); a request ends in kana ("訳してほしい").
_NAMED_ENDING = re.compile(r"(?:[\u3400-\u9fff\u30a0-\u30ffー]|こと|もの|ところ)\s*$")
# Advice asked after the asker's own story is not answered by a phrase of it: 「転職するか迷って
# います。…\nどう考えたらいいでしょうか」 (a Japanese character counts twice towards a pasted
# text's length, so a few lines of context now reach it).
_ADVICE = re.compile(
    r"どう(?:考え|すれば|したら|する)|(?:ばいい|たらいい|べき|おすすめ|アドバイス)"
    r"|\b(?:should i|should we|what should|how should|how do i|how can i|advice|recommend)\b",
    re.IGNORECASE,
)
_TASK = re.compile(
    r"(?:要約|翻訳|説明|解説|修正|作成|添削|校正|訂正|分析|評価|比較|整理|チェック|レビュー|リライト)\s*$"
)
# What a question before a pasted text may ask that is not answered by a phrase of it.
_ASKED_TASK = re.compile(
    r"要約|翻訳|訳して|添削|校正|直して|書き直|まとめて|説明して|解説して|チェックして"
    r"|\b(?:summari[sz]e|translate|rewrite|proofread|fix|improve|review|check|explain|shorten)\b"
)
_QUOTES = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』')
_EITHER_OR = re.compile(
    r"\S\s+or\s+(?:(?:an?|the)\s+)?[\w'-]+(?:\s+[\w'-]+){0,2}\s*\?\s*$"
    r"|[^\s、。?]{1,20}か\s*[、,]?\s*[^\s、。?]{0,19}[^\s、。?すま]か\s*\??\s*$"
)
_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NOT_A_QUANTITY = re.compile(
    r"\b(?:in|since|by|from|until|before|after|of|year)\s+(?:1[5-9]\d\d|20\d\d)\b"
    r"|(?:1[5-9]\d\d|20\d\d)\s*年"
    r"|\b\d+(?:st|nd|rd|th)\b"
    r"|\d+\s*[/-]\s*\d+\s*[/-]\s*\d+"
)


def _keyword(word: str) -> re.Pattern[str]:
    """Whole words for ASCII keywords ("per" is not "person"); a trailing * for prefixes."""
    word = word.strip().lower()
    prefix = word.endswith("*")
    word = word.rstrip("*")
    if not word[:1].isascii() or not word[:1].isalnum():
        return re.compile(re.escape(word))
    tail = r"[a-z]*" if prefix else r"(?![a-z0-9])"
    return re.compile(r"(?<![a-z0-9])" + re.escape(word) + tail)


@dataclass(frozen=True)
class _Rules:
    order: tuple[str, ...]
    keywords: tuple[tuple[str, str, re.Pattern[str], int], ...]
    patterns: tuple[tuple[str, str, re.Pattern[str], int], ...]
    cues: tuple[tuple[str, re.Pattern[str]], ...]
    weak_cues: tuple[tuple[str, re.Pattern[str]], ...]
    number_words: re.Pattern[str]
    kanji_counted: re.Pattern[str]
    word_problem_points: tuple[int, int]
    option_points: int
    either_or_points: int
    quote_points: int
    quote_chars: int
    passage_points: int
    passage_chars: int


def _words(raw: dict[str, Any], section: str) -> dict[str, list[str]]:
    return {kind: [str(w) for w in words] for kind, words in (raw.get(section) or {}).items()}


@cache
def _rules() -> _Rules:
    text = files("murmurnet.prompts").joinpath("question_types.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    keywords = [
        (kind, word, _keyword(word), points)
        for section, points in (("keywords", 1), ("strong_keywords", 3))
        for kind, words in _words(raw, section).items()
        for word in words
    ]
    patterns = [
        (str(p["kind"]), str(p["name"]), re.compile(str(p["regex"])), int(p["points"]))
        for p in raw.get("patterns") or []
    ]
    problem = raw["word_problem"]
    numbers = "|".join(re.escape(str(w)) for w in problem["number_words"])
    kinds = list(raw["order"])
    kinds += [k for k in (*_words(raw, "keywords"), "informational") if k not in kinds]
    return _Rules(
        order=tuple(kinds),
        keywords=tuple(keywords),
        patterns=tuple(patterns),
        cues=tuple((str(c), _keyword(str(c))) for c in problem["cues"]),
        weak_cues=tuple((str(c), re.compile(str(c))) for c in problem["weak_cues"]),
        number_words=re.compile(rf"\b(?:{numbers})\b"),
        kanji_counted=re.compile(str(problem["kanji_counted"])),
        word_problem_points=(int(problem["one_number"]), int(problem["several_numbers"])),
        option_points=int(raw["options"]["points"]),
        either_or_points=int(raw["either_or"]["points"]),
        quote_points=int(raw["quoted_passage"]["points"]),
        quote_chars=int(raw["quoted_passage"]["min_chars"]),
        passage_points=int(raw["passage_question"]["points"]),
        passage_chars=int(raw["passage_question"]["min_chars"]),
    )


# --- the structural rules ----------------------------------------------------------------


def _count_numbers(text: str, rules: _Rules) -> int:
    """Quantities in the text: digits (not years, ordinals or dates), number words, 三つ."""
    text = _NOT_A_QUANTITY.sub(" ", text)
    digits = len(_NUMBER.findall(text))
    return digits + len(rules.number_words.findall(text)) + len(rules.kanji_counted.findall(text))


def _word_problem(text: str, rules: _Rules) -> list[Hit]:
    """A cue and a quantity; a weak cue needs two quantities ("iPhone 15の画面は何インチ？" asks
    for a fact, not a sum)."""
    cues = [cue for cue, pattern in rules.cues if pattern.search(text)]
    weak = [cue for cue, pattern in rules.weak_cues if pattern.search(text)]
    numbers = _count_numbers(text, rules) if cues or weak else 0
    if not numbers or (not cues and numbers < 2):
        return []
    cues += weak
    one, several = rules.word_problem_points
    points = several if numbers >= 2 else one
    return [Hit("calculation", f"word problem: {numbers} number(s), cue {cues[0]!r}", points)]


def _option_list(text: str, asked: bool) -> str | None:
    """The first two labels of a listed-options sequence, when the text has one.

    Numbered lines are as often a plan's steps as answer options, so they count only when
    a question mark comes before them or the text already asks to pick (`asked`).
    """
    for style, (line_start, inline, (first, second)) in _OPTION_STYLES.items():
        labels: dict[str, int] = {}
        for pattern in (line_start, inline):
            for match in re.finditer(pattern or r"(?!)", text, re.MULTILINE):
                label = match.group(1)
                labels[label] = min(labels.get(label, match.start(1)), match.start(1))
        if first not in labels or second not in labels:
            continue
        if style == "number" and not asked and "?" not in text[: labels[first]]:
            continue
        return f"{first} … {second}"
    return None


def _width(text: str) -> int:
    """A text's length with each Japanese character counted twice: 「会議には開発部から8人が
    参加した。」 says as much as a sentence twice its length in English."""
    return len(text) + len(_JAPANESE.findall(text))


def _quoted_passage(text: str, rules: _Rules) -> bool:
    quoted = [m for m in _QUOTES.finditer(text) if _width(m.group(0)[1:-1]) >= rules.quote_chars]
    block = "\n".join(line for line in text.splitlines() if line.startswith(">"))
    if quoted:
        outside = _QUOTES.sub(" ", text)
    elif _width(block) >= rules.quote_chars:
        outside = "\n".join(line for line in text.splitlines() if not line.startswith(">"))
    else:
        return False
    return bool(_QUESTION_WORDS.search(outside))


def _asked_lines(text: str) -> list[str]:
    """The text's non-empty lines, without a last line that only opens the answer ("答え:",
    "Answer:"): people who want a short answer end the question that way, as a test sheet
    does, and the question is then the line before it."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and _ANSWER_CUE.match(lines[-1]):
        lines.pop()
    return lines


def passage_and_question(text: str) -> tuple[str, str] | None:
    """A pasted text and the question about it on the last line (or, less often and read
    more strictly, on the first: `_question_first`), when the text is that.

    The text must be at least twice as long as the question: a long question after a
    one-line preface is still one question. A last line that only opens the answer is left
    out first (`_asked_lines`)."""
    lines = _asked_lines(text)
    if len(lines) < 2:
        return None
    passage, question = "\n".join(lines[:-1]), lines[-1].strip()
    if not _long_enough(passage, question) or _ADVICE.search(question):
        return _question_first(lines)
    asked = _QUESTION_WORDS.search(_fold(question)) or _QUIZ_ENDING.search(question)
    named = (
        _NAMED_ENDING.search(question)
        and not _TASK.search(question)
        and not LABELLED_LINE.match(question)  # the last of a list of options
    )
    return (passage, question) if asked or named else _question_first(lines)


def _long_enough(passage: str, question: str, times: int = 2) -> bool:
    """The passage is a text of its own: long, and `times` as long as the question."""
    return _width(passage) >= _rules().passage_chars and _width(passage) >= times * _width(question)


def _question_first(lines: list[str]) -> tuple[str, str] | None:
    """A question on the first line and the text it asks about pasted under it: 「この掃除機の
    バッテリーはどれくらい持ちますか？\n商品仕様：…」, "When is this invoice due? Here's the
    email: …". Stricter than a question after its text, though the text need only be as long
    as the question: it must be asked (a question word, and a question mark or a question's
    ending), and not a task ("Can you summarise this?"), advice, a sum ("How much does she
    pay?\nShe buys 3 …") or options listed under it."""
    question, passage = lines[0].strip(), "\n".join(lines[1:])
    folded = _fold(question)
    asked = _QUESTION_WORDS.search(folded.replace("?", "")) and (
        "?" in folded or _QUIZ_ENDING.search(question)
    )
    if not asked or not _long_enough(passage, question, times=1):
        return None
    if _ADVICE.search(question) or _ASKED_TASK.search(folded):
        return None
    if any(pattern.search(folded) for _, pattern in _rules().cues):
        return None
    if _option_list(_fold(passage), True) or loosely_listed(passage):
        return None
    return passage, question


_LEADING_LABEL = re.compile(r"^\s*\w{1,8}\s*[:：]\s*(?=\S)")


def asked_question(text: str) -> str:
    """The question a text asks about its pasted passage, without a label before it
    ("質問: "), so that a prompt can label it again; the whole text when there is no pasted
    passage to set apart."""
    found = passage_and_question(text)
    return _LEADING_LABEL.sub("", found[1]) if found else text.strip()


def has_pasted_text(text: str) -> bool:
    """Whether the question carries the text it asks about (pasted before or after it, or
    quoted)."""
    folded = _fold(text)
    return passage_and_question(folded) is not None or _quoted_passage(folded, _rules())


def _fold(text: str) -> str:
    return _nfkc(text).casefold()


def explain(text: str) -> list[Hit]:
    """Every rule that fires on the question, with the points it adds to its type."""
    rules = _rules()
    folded = _fold(text)
    hits = [
        Hit(kind, f"keyword {word!r}", points)
        for kind, word, pattern, points in rules.keywords
        if pattern.search(folded)
    ]
    for kind, name, pattern, points in rules.patterns:
        match = pattern.search(folded)
        if match:
            hits.append(Hit(kind, f"{name} {match.group(0).strip()!r}", points))
    hits += _word_problem(folded, rules)
    asked = any(h.kind == "exact" for h in hits)
    options = _option_list(folded, asked) or " … ".join(loosely_listed(_nfkc(text))[:2])
    if options:
        hits.append(Hit("exact", f"listed options {options}", rules.option_points))
    last = _asked_lines(folded)[-1:] or [""]
    if _EITHER_OR.search(last[0]):
        hits.append(Hit("exact", "either/or question", rules.either_or_points))
    if _quoted_passage(folded, rules):
        hits.append(Hit("exact", "quoted passage and a question about it", rules.quote_points))
    found = passage_and_question(folded)
    if found and not any(pattern.search(found[1]) for _, pattern in rules.cues):
        hits.append(Hit("exact", "a text, then a question about it", rules.passage_points))
    return hits


def scores(text: str) -> dict[str, int]:
    """Points per question type, in tie-break order."""
    totals = dict.fromkeys(_rules().order, 0)
    for hit in explain(text):
        totals[hit.kind] = totals.get(hit.kind, 0) + hit.points
    return totals


def classify(text: str) -> str:
    """The question type with the most points (the first in `order` on a tie);
    `informational` when no rule fires."""
    totals = scores(text)
    best = max(totals, key=lambda kind: totals[kind])  # max keeps the first of equals
    return best if totals[best] > 0 else "informational"


def read_question(text: str, language: str = "auto") -> Question:
    """Validate and analyse a user's question; empty input is an `InputError`."""
    cleaned = normalise(text or "")
    if not cleaned:
        raise InputError("the question is empty", hint="type a question")
    lang: Language = detect_language(cleaned) if language == "auto" else language  # type: ignore[assignment]
    return Question(text=cleaned, language=lang, kind=classify(cleaned))
