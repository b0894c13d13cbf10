"""The options a question lists, and where they are in its text.

A question that lists options is answered by ranking them (`murmur.option_rank.likeliest_option`),
the murmur's largest gain on the dev rows; an option list that is not found sends the
question to a vote or a discussion instead. People lay options out in many ways, tried in
this order: one per line ("1. …", "(b) …", "イ、…", "③ …"; a bare "A 清少納言" in a run of
three), all on one line ("a. Michelangelo b. Leonardo c. Raphael", "(i) … (ii) …"), a
"Choices: a, b, c" / 「選択肢：a、b、c」 line, one per line under a 「選択肢：」 line,
bulleted in a question that asks to pick one, or named in that question's own sentence.
Measured on questions written as users write them: benchmarks/results/question-kinds/.
"""

from __future__ import annotations

import re

LABELLED_LINE = re.compile(
    r"^\s*(?:\(?([a-hA-H]|10|[1-9]|viii|vii|vi|iv|v|iii|ii|i)[).:]|([イロハニホヘトアイウエオカキ])\s*[.、)]"
    r"|([①-⑩]))\s*(\S.*)$"
)
"""A line that starts with an option's label; group 4 is the option."""
_BARE_LABEL = re.compile(r"^\s*([A-Hアイウエオカキロハニホ])\s+(\S.*)$")
_BARE_RUN = 3
"""A bare capital is a label only in a run of this many lines: "A dog" alone is a sentence."""
_LABEL_SEQUENCES = ("abcdefgh", "ABCDEFGH", "イロハニホヘト", "アイウエオカキ", "①②③④⑤⑥⑦⑧⑨⑩")
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii")
_CHOICES_LINE = re.compile(r"^\s*(?:選択肢|choices|options)\s*[:：]\s*(.+)$", re.IGNORECASE)
_HEADER = re.compile(r"^\s*(?:選択肢|choices|options)\s*[:：]?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•・])\s*(?=\S)")
_PICK = re.compile(r"\b(?:which|choose|pick|select)\b|どれ|どの|どっち|どちら|選", re.IGNORECASE)
_LONGEST_OPTION = 60
_ASKED = re.compile(r"[?？]|どれ|選|choices|options|\b(?:is|are|was|were)\s*[:：]", re.IGNORECASE)
_INLINE_LABEL = re.compile(
    r"(?:^|(?<=[\s:：?？、,。]))(?:[(（](?P<paren>[a-hA-H1-9]|[ivx]{1,4})[)）]\s+"
    r"|(?P<dot>[a-hA-H1-9])(?:[.)]\s+|[.)](?=[^\x00-\x7f]))"
    r"|(?P<kana>[アイウエオカキロハニホ])(?:\s*[.、)．]\s*|[ \u3000]+)|(?P<circled>[①-⑩])\s*)"
    r"(?=\S)"
)
_INLINE_END = re.compile(
    r"\s+[—–-]\s+|[?？]|。|\u3000|\.\s+(?=\S)|\.$|\s+(?=which\b|what\b|who\b)", re.IGNORECASE
)
"""Where the last option on a line ends, when the question goes on after it."""


def _next_label(label: str, first: str = "") -> str | None:
    """The label that follows `label` in the sequence that starts with `first` (1 → 2,
    b → c, ii → iii; イ → ロ after イ, イ → ウ after ア)."""
    if label.isascii() and label.isdigit():  # "①".isdigit() too, and int("①") fails
        return str(int(label) + 1)
    if label in _ROMAN:
        at = _ROMAN.index(label)
        return _ROMAN[at + 1] if at + 1 < len(_ROMAN) else None
    for sequence in _LABEL_SEQUENCES:
        if first and first not in sequence:
            continue
        at = sequence.find(label)
        if at >= 0:
            return sequence[at + 1] if at + 1 < len(sequence) else None
    return None


_EXCEPTION = re.compile(
    r"\b(?:not|never|except|false|incorrect|wrong|odd one out)\b|n't\b|does(?:n't| not) belong"
    r"|ではない|でない|なかった|じゃない|ではありません|間違って|誤って|誤り|正しくない|当てはまらない"
    r"|含まれない|仲間はずれ|関係(?:が)?ない|以外",
    re.IGNORECASE,
)


def asks_for_the_exception(text: str) -> bool:
    """Whether the question asks for the option that does not fit ("Which is NOT a noble
    gas?", 「哺乳類ではないものはどれ？」, the odd one out): ranking the options by how well
    each goes with the question's words answers the opposite (benchmarks/results/
    choice-negated/)."""
    return bool(_EXCEPTION.search(question_stem(text)))


def listed_options(text: str) -> list[str]:
    """The answer options a question lists, in order, or [] when it lists none (the first
    layout found, in the module's order; of labelled lines, the longest run)."""
    return _option_lines(text)[0]


def question_stem(text: str) -> str:
    """The question without the lines that list its options (nor the options on its own
    line): what a base model reads before each option when it ranks them (a cloze)."""
    options, at = _option_lines(text)
    lines = text.splitlines()
    listed = set(at)
    stem = [line for n, line in enumerate(lines) if n not in listed]
    inline = (
        _inline(lines[at[0]]) or _in_prose(lines[at[0]])
        if len(at) == 1 and len(options) > 1
        else None
    )
    if inline:
        line, (start, end) = lines[at[0]], inline[1]
        rest = line[end:].lstrip(" —–-.")
        stem.insert(at[0], " ".join(f"{line[:start]} {rest}".split()))
    return "\n".join(line for line in stem if line.strip()).strip()


def loosely_listed(text: str) -> list[str]:
    """Options in every layout but numbered lines, which the classifier's own rules read as
    options only after a question ("1. Buy milk\n2. Call mom" is a list)."""
    return _found(text.splitlines(), numbered=False)[0]


def _option_lines(text: str) -> tuple[list[str], list[int]]:
    """`listed_options`, and the numbers of the lines that hold them."""
    return _found(text.splitlines(), numbered=True)


def _found(lines: list[str], numbered: bool) -> tuple[list[str], list[int]]:
    finders = (_numbered, _bare, _one_line, _choices_line, _under_header, _bullets, _prose)
    for finder in finders[0 if numbered else 1 :]:
        found = finder(lines)
        if found:
            return found
    return [], []


def _numbered(lines: list[str]) -> tuple[list[str], list[int]] | None:
    return _labelled_run(lines, LABELLED_LINE, 2)


def _bare(lines: list[str]) -> tuple[list[str], list[int]] | None:
    return _labelled_run(lines, _BARE_LABEL, _BARE_RUN)


def _one_line(lines: list[str]) -> tuple[list[str], list[int]] | None:
    return next(((found[0], [at]) for at, found in enumerate(map(_inline, lines)) if found), None)


def _choices_line(lines: list[str]) -> tuple[list[str], list[int]] | None:
    """ "Choices: a, b, c" / 「選択肢：a、b、c」."""
    for at, line in enumerate(lines):
        choices = _CHOICES_LINE.match(line)
        if choices:
            found = [o.strip() for o in re.split(r"[、，,/／;；]", choices.group(1)) if o.strip()]
            if len(found) >= 2:
                return found, [at]
    return None


def _under_header(lines: list[str]) -> tuple[list[str], list[int]] | None:
    """A 「選択肢：」 / "Options:" line alone, then one option per line up to a blank line or
    a question."""
    for at, line in enumerate(lines):
        if not _HEADER.match(line):
            continue
        run = []
        for below in range(at + 1, len(lines)):
            option = lines[below].strip()
            if not option or option[-1] in "?？" or len(option) > _LONGEST_OPTION:
                break
            run.append(below)
        if len(run) >= 2:
            return [lines[n].strip() for n in run], [at, *run]
    return None


def _bullets(lines: list[str]) -> tuple[list[str], list[int]] | None:
    """Bulleted lines ("- Pacific", 「・太平洋」) in a question that asks to pick one: a
    bulleted list is as often what the asker has ("What can I cook with:\n- rice\n- eggs")."""
    if not any(_PICK.search(line) for line in lines):
        return None
    run = [n for n, line in enumerate(lines) if _BULLET.match(line)]
    if len(run) < 2 or run != list(range(run[0], run[0] + len(run))):
        return None
    options = [_BULLET.sub("", lines[n]).strip() for n in run]
    if any(len(option) > _LONGEST_OPTION for option in options):
        return None
    return options, run


def _prose(lines: list[str]) -> tuple[list[str], list[int]] | None:
    return next(((found[0], [at]) for at, found in enumerate(map(_in_prose, lines)) if found), None)


_PROSE_EN = re.compile(
    r"\b(?:which|pick|choose|select)\b[^:：\n]*[:：]\s*(?P<list>[^:：\n?？]+?)\s*(?:[?？]|\.?\s*$)",
    re.IGNORECASE,
)
_PROSE_JA = re.compile(
    r"(?P<list>[^\s、。？?：:・「」]{1,15}(?:・[^\s、。？?：:・「」]{1,15}){1,7}"
    r"|[^\s、。？?：:・「」と]{1,20}と[^\s、。？?：:・「」と]{1,20})\s*"
    r"の(?:うち|中で)?\s*(?:どれ|どっち|どちら)"
)
"""Options joined by ・, or two by と (「appendとextendのどっち」); not by 、, which as often
ends a clause before them (「犬にあげちゃダメなのって、キャベツ・ブドウ…」)."""
_PROSE_SPLIT = re.compile(r"\s*,\s*(?:or\s+|and\s+)?|\s+or\s+|・|と", re.IGNORECASE)


_ASKS_TASTE = re.compile(
    r"\b(?:you|your|i|my|we|our|should|prefer|recommend)\b|おすすめ|好き|べき|(?:が|は)(?:いい|良い)",
    re.IGNORECASE,
)
"""What asks the model's taste or advice ("Which should I learn: Python or Rust?"), not a
fact to rank options by."""


def _in_prose(line: str) -> tuple[list[str], tuple[int, int]] | None:
    """Options named in the sentence that asks to pick one, and their span: "Which is the
    largest ocean: Atlantic, Indian, or Pacific?", "Pick the odd one out: apple, banana,
    carrot", 「赤くなるのは酸性・中性・アルカリ性のどれ」 (the first option starts after the
    last particle before it: 「Pythonでappendとextendのどっち」)."""
    match = _PROSE_EN.search(line) or _PROSE_JA.search(line)
    if not match or _ASKS_TASTE.search(line):
        return None
    start, listed = match.start("list"), match.group("list")
    first = _PROSE_SPLIT.split(listed)[0]
    topic = re.search(r"^.+(?:は|って|で|が|を|に)", first) if match.re is _PROSE_JA else None
    if topic:
        start, listed = start + topic.end(), listed[topic.end() :]
    options = [option.strip() for option in _PROSE_SPLIT.split(listed)]
    if not 2 <= len(options) <= 8 or not all(options):
        return None
    if any(len(option) > 40 or len(option.split()) > 5 for option in options):
        return None
    return options, (start, match.end("list"))


def _labelled_run(
    lines: list[str], pattern: re.Pattern[str], least: int
) -> tuple[list[str], list[int]] | None:
    best: list[int] = []
    run: list[int] = []
    options: dict[int, str] = {}
    expected: str | None = None
    for at, line in enumerate(lines):
        match = pattern.match(line)
        groups = match.groups()[:-1] if match else ()
        label = next((g for g in groups if g), "")
        if match and run and label == expected:
            run.append(at)
        elif match and label in {"1", "a", "A", "i", "イ", "ア", "①"}:
            run = [at]
        else:
            run = []
        if match:
            options[at] = match.groups()[-1].strip()
        expected = _next_label(label, _first(lines, run, pattern)) if run else None
        if len(run) >= least and len(run) > len(best):
            best = list(run)
    return ([options[at] for at in best], best) if best else None


def _inline(line: str) -> tuple[list[str], tuple[int, int]] | None:
    """Options labelled in sequence on one line, and the span of the line they take. Numbers
    count only after a question mark or "Options:" (「手順 1. 混ぜる 2. 焼く」 is a plan);
    letters need three labels, or two after one."""
    marks = list(_INLINE_LABEL.finditer(line))
    cue = _ASKED.search(line)
    for first, mark in enumerate(marks):
        if _label(mark) not in {"1", "a", "A", "i", "ア", "イ", "①"}:
            continue
        run = [mark]
        for later in (marks[n] for n in range(first + 1, len(marks))):
            if _label(later) == _label(mark):
                break  # another sequence starts: "a. x b. y" twice is two lists
            if _label(later) == _next_label(_label(run[-1]), _label(mark)):
                run.append(later)
        asked = cue is not None and cue.start() < mark.start()
        if (_label(mark) == "1" and not asked) or len(run) < (2 if asked else 3):
            continue
        starts = [m.end() for m in run]
        ends = [m.start() for m in run[1:]]
        options = [line[s:e] for s, e in zip(starts, ends, strict=False)]
        last = line[starts[-1] :]
        tail = _INLINE_END.search(last)
        options.append(last[: tail.start()] if tail else last)
        options = [option.strip(" \u3000,、;；") for option in options]
        if all(options):
            return options, (run[0].start(), starts[-1] + (tail.start() if tail else len(last)))
    return None


def _first(lines: list[str], run: list[int], pattern: re.Pattern[str]) -> str:
    """The label the run of lines starts with."""
    match = pattern.match(lines[run[0]])
    return next((g for g in match.groups()[:-1] if g), "") if match else ""


def _label(mark: re.Match[str]) -> str:
    return next(label for label in mark.groups() if label)
