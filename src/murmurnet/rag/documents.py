"""Readers that turn files into plain-text documents, one reader per format.

A document is the unit a passage cites: a whole text, Markdown or HTML file, one page of a
PDF, one line of a JSONL file or one article of a ZIM archive, so that a citation points a
user at something they can open.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from murmurnet.errors import InputError
from murmurnet.rag.htmltext import html_to_text
from murmurnet.rag.optional import require


@dataclass(frozen=True)
class Document:
    """Plain text and where it came from; `source` is what a passage cites."""

    source: str
    title: str
    text: str


FORMATS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
    ".zim": "zim",
}

# Japanese text files are still often Shift-JIS or EUC-JP; try them before giving up.
_ENCODINGS = ("utf-8-sig", "cp932", "euc_jp")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_MD_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.*?)[ \t#]*$", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_MD_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def format_of(path: Path) -> str | None:
    """The reader a file needs, by suffix; None for files the index does not read."""
    return FORMATS.get(path.suffix.lower())


def read_documents(path: Path, jsonl_field: str = "text") -> Iterator[Document]:
    """Every document in one file. Raises InputError naming the file when it cannot be read."""
    kind = format_of(path)
    if kind is None:
        raise unsupported(path)
    if kind == "zim":
        from murmurnet.rag.zim import read_zim

        yield from read_zim(path)
    elif kind == "pdf":
        yield from _read_pdf(path)
    elif kind == "jsonl":
        yield from _read_jsonl(path, jsonl_field)
    else:
        text = decode_text(_read_bytes(path), path)
        if kind == "html":
            title, text = html_to_text(text)
            yield Document(str(path), title or path.stem, text)
        elif kind == "markdown":
            yield Document(str(path), _markdown_title(text) or path.stem, markdown_to_text(text))
        else:
            yield Document(str(path), path.stem, text.strip())


def unsupported(path: Path) -> InputError:
    """The error for a file whose type no reader knows, listing the types that are read."""
    known = ", ".join(sorted(FORMATS))
    return InputError(f"{path}: unsupported file type", hint=f"readable types: {known}")


def reason_of(exc: BaseException, limit: int = 200) -> str:
    """An exception as a short one-line reason.

    Third-party parsers raise with multi-line, empty or very long messages; a warning or an
    error line must stay one line, and an empty message still needs the exception's type.
    """
    text = " ".join(str(exc).split())
    if not text:
        return type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


_quiet_lock = threading.Lock()
_quiet_depth: dict[str, tuple[int, int]] = {}  # logger name -> (readers, level to restore)


@contextmanager
def quiet_logger(name: str) -> Iterator[None]:
    """Silence a library's recoverable-problem warnings while it reads one file.

    pypdf logs a line for every damaged cross-reference entry it repairs; with no logging
    configured Python prints them all on stderr, burying the one-line warning or error
    that says which file was skipped and why. Counted, so that readers in several threads
    restore the level only when the last one is done.
    """
    logger = logging.getLogger(name)
    with _quiet_lock:
        readers, level = _quiet_depth.get(name, (0, logger.level))
        _quiet_depth[name] = (readers + 1, level)
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        with _quiet_lock:
            readers, level = _quiet_depth.pop(name)
            if readers > 1:
                _quiet_depth[name] = (readers - 1, level)
            else:
                logger.setLevel(level)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def decode_text(data: bytes, path: Path) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding).replace("\r\n", "\n")
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: not UTF-8, Shift-JIS or EUC-JP text")


def _markdown_title(text: str) -> str | None:
    match = _MD_TITLE.search(text)
    return match.group(1).strip() if match else None


def markdown_to_text(text: str) -> str:
    """Markdown without the markup a reader does not see (links keep their words)."""
    text = _FRONT_MATTER.sub("", text)
    text = _MD_IMAGE_OR_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return text.strip()


def _read_pdf(path: Path) -> Iterator[Document]:
    """Every page with text, read in full before the first is yielded.

    pypdf raises whatever its parser trips over on a damaged file (PdfReadError, but also
    TypeError, AttributeError, KeyError, struct.error, RecursionError...), so every
    exception from it means "this PDF cannot be read" and becomes one InputError naming
    the file; KeyboardInterrupt and other non-Exceptions still pass through.
    """
    pypdf = require("pypdf", "reading PDF files")
    try:
        with quiet_logger("pypdf"):
            reader = pypdf.PdfReader(str(path))
            if reader.is_encrypted:
                raise InputError(f"{path}: the PDF is encrypted")
            pages = [page.extract_text() or "" for page in reader.pages]
            metadata = reader.metadata
            title = str((metadata.title if metadata else None) or path.stem)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or reason_of(exc)})") from exc
    except Exception as exc:
        raise InputError(f"{path}: not a readable PDF ({reason_of(exc)})") from exc
    for number, text in enumerate(pages, start=1):
        if text.strip():
            yield Document(f"{path}#page={number}", f"{title} (p. {number})", text.strip())


def _field(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _read_jsonl(path: Path, field: str) -> Iterator[Document]:
    text = decode_text(_read_bytes(path), path)
    found = False
    seen_keys: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, [[[[... nesting
            raise InputError(f"{path}:{number}: unreadable JSON ({reason_of(exc)})") from exc
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: each line must be a JSON object")
        seen_keys.update(record)
        value = _field(record, field)
        if not isinstance(value, str) or not value.strip():
            continue
        found = True
        title = record.get("title")
        name = title if isinstance(title, str) and title else f"{path.stem} #{number}"
        yield Document(f"{path}#{number}", name, value.strip())
    if not found and seen_keys:
        keys = ", ".join(sorted(seen_keys)[:12])
        raise InputError(
            f"{path}: no line has a text field {field!r}",
            hint=f"choose one with --field; keys seen: {keys}",
        )
