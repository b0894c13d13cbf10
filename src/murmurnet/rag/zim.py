"""ZIM archives (offline Wikipedia and other Kiwix content) read article by article.

An archive can hold millions of articles, so they are streamed rather than listed; only
HTML articles are read, because redirects, images and stylesheets carry no passage text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from murmurnet.errors import InputError
from murmurnet.rag.documents import Document, reason_of
from murmurnet.rag.htmltext import html_to_text
from murmurnet.rag.optional import require


def _open(path: Path) -> Any:
    reader = require("libzim.reader", "reading ZIM archives")
    try:
        return reader.Archive(path)
    except Exception as exc:  # RuntimeError, OSError, or whatever the C++ side raises
        raise InputError(f"{path}: not a readable ZIM archive ({reason_of(exc)})") from exc


def zim_article_count(path: Path) -> int:
    """How many articles the archive says it holds: the length of a progress bar."""
    archive = _open(path)
    try:
        return int(archive.article_count)
    except Exception as exc:  # a damaged header; reading it will say so again
        raise InputError(f"{path}: not a readable ZIM archive ({reason_of(exc)})") from exc


def read_zim(path: Path) -> Iterator[Document]:
    """One document per HTML article; its source is `archive.zim#article/path`.

    A damaged archive can fail at any entry (libzim raises RuntimeError and others from
    deep inside); that is one InputError naming the archive and the entry, never a
    traceback. Articles already yielded stay yielded: the indexer's per-file transaction
    decides whether they are kept.
    """
    archive = _open(path)
    index = -1
    try:
        for index in range(archive.entry_count):
            entry = archive._get_entry_by_id(index)
            if entry.is_redirect:
                continue
            item = entry.get_item()
            if not str(item.mimetype).startswith("text/html"):
                continue
            html = bytes(item.content).decode("utf-8", "replace")
            title, text = html_to_text(html)
            if text:
                yield Document(f"{path}#{entry.path}", str(entry.title or title), text)
    except Exception as exc:  # libzim's errors on a damaged archive have no common type
        raise InputError(
            f"{path}: damaged ZIM archive at entry {index} ({reason_of(exc)})"
        ) from exc
