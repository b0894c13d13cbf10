"""The evaluation row format (one JSON object per line) and its loader.

The loader is strict: a row that could never be scored right (a choice answer that is not one
of the choices, a number answer with no number) is refused at load time with the file and line,
rather than silently counting as a wrong answer after an hour of model calls.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from murmurnet.answers import AnswerKind, fold, last_number, strip_spaces_and_punctuation
from murmurnet.errors import InputError
from murmurnet.question import detect_language

Kind = AnswerKind
KINDS: tuple[Kind, ...] = ("number", "choice", "span")
_REQUIRED = ("question", "answer", "kind")


class EvalRow(BaseModel):
    """One question with its gold answer; `id` keys resumable results, so it must be stable."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(description="Given in the file, or derived from the row's content.")
    question: str = Field(min_length=1)
    answer: str
    kind: Kind
    choices: list[str] = Field(default_factory=list)
    context: str = ""
    aliases: list[str] = Field(
        default_factory=list, description="Every accepted span; always includes `answer`."
    )
    lang: Literal["ja", "en"] = "en"
    source: str = Field("", description="The file's stem, to break results down per file.")


def derived_id(source: str, fields: dict[str, Any]) -> str:
    """A content hash, so that reordering or trimming the file keeps each row's results."""
    keys = ("question", "answer", "kind", "choices", "context")
    payload = json.dumps({k: fields.get(k) for k in keys}, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha1(payload.encode("utf-8")).hexdigest()[:10]
    return f"{source}-{digest}" if source else digest


def _text(value: Any) -> str:
    """JSON numbers are accepted where text is expected ("answer": 45 is common in GSM8K dumps)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be a string")
    return str(value)


def _language(raw: Any, question: str) -> Literal["ja", "en"]:
    if raw is None or raw == "":
        return detect_language(question)
    return "ja" if str(raw).lower().startswith("ja") else "en"


def parse_row(obj: Any, source: str) -> EvalRow:
    """Validate one decoded JSON value; raises ValueError with a short reason on failure."""
    if not isinstance(obj, dict):
        raise ValueError("a row must be a JSON object")
    missing = [name for name in _REQUIRED if obj.get(name) in (None, "")]
    if missing:
        raise ValueError(f"missing field {', '.join(repr(m) for m in missing)}")
    kind = obj["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    for name in ("choices", "aliases"):
        if not isinstance(obj.get(name) or [], list):
            raise ValueError(f"{name!r} must be a list")
    try:
        question = _text(obj["question"])
        answer = _text(obj["answer"]).strip()
        choices = [_text(c).strip() for c in obj.get("choices") or []]
        aliases = [_text(a).strip() for a in obj.get("aliases") or []]
        context = _text(obj.get("context") or "")
    except ValueError as exc:
        raise ValueError(f"a text field {exc}") from None
    if kind == "number" and last_number(answer) is None:
        raise ValueError(f"answer {answer!r} contains no number")
    if kind == "choice":
        if len(choices) < 2:
            raise ValueError("a choice row needs at least two 'choices'")
        if fold(answer) not in {fold(c) for c in choices}:
            raise ValueError(f"answer {answer!r} is not one of the choices")
    if kind == "span":
        aliases = [answer, *(a for a in aliases if a != answer)]
        if not any(strip_spaces_and_punctuation(a) for a in aliases):
            raise ValueError("a span answer must contain more than spaces and punctuation")
    raw_id = obj.get("id")
    row_id = _text(raw_id) if raw_id not in (None, "") else derived_id(source, obj)
    try:
        return EvalRow(
            id=row_id,
            question=question,
            answer=answer,
            kind=kind,
            choices=choices,
            context=context,
            aliases=aliases,
            lang=_language(obj.get("lang"), question),
            source=source,
        )
    except ValidationError as exc:  # pragma: no cover - the checks above cover the schema
        first = exc.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def load_rows(path: str | Path, limit: int | None = None) -> list[EvalRow]:
    """Read a JSONL evaluation file; every problem is an `InputError` naming file and line.

    `limit` keeps the first N rows (lines after them are not read, so a broken tail does not
    stop a quick `--limit 5` run). Blank lines are skipped. Identical rows without an `id` get
    the line number appended to their derived id; a repeated explicit `id` is an error, since
    results are stored by id.
    """
    file = Path(path)
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be at least 1, not {limit}")
    if not file.is_file():
        raise InputError(f"evaluation file not found: {file}", hint="check the path")
    source = file.name.removesuffix(".jsonl").removesuffix(".json")
    rows: list[EvalRow] = []
    seen: dict[str, int] = {}
    try:
        handle = file.open(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read evaluation file {file}: {exc.strerror}") from None
    with handle:
        try:
            for lineno, line in enumerate(handle, start=1):
                if limit is not None and len(rows) >= limit:
                    break
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{file}:{lineno}: bad JSON ({exc.msg})") from None
                try:
                    row = parse_row(obj, source)
                except ValueError as exc:
                    raise InputError(f"{file}:{lineno}: {exc}") from None
                if row.id in seen:
                    if isinstance(obj, dict) and obj.get("id") not in (None, ""):
                        raise InputError(
                            f"{file}:{lineno}: id {row.id!r} already used on line {seen[row.id]}"
                        )
                    row = row.model_copy(update={"id": f"{row.id}-{lineno}"})
                seen[row.id] = lineno
                rows.append(row)
        except UnicodeDecodeError:
            raise InputError(f"{file}: not UTF-8 text", hint="save the file as UTF-8") from None
    if not rows:
        raise InputError(f"{file}: no rows", hint="one JSON object per line")
    return rows
