"""ZIM archives (offline Wikipedia and other Kiwix content) read article by article.

An archive can hold millions of articles, so they are streamed rather than listed; only
HTML articles are read, because redirects, images and stylesheets carry no passage text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from murmurnet.errors import InputError
from murmurnet.rag.documents import Document
from murmurnet.rag.htmltext import html_to_text
from murmurnet.rag.optional import require


def _open(path: Path) -> Any:
    reader = require("libzim.reader", "reading ZIM archives")
    try:
        return reader.Archive(path)
    except (RuntimeError, OSError) as exc:
        raise InputError(f"{path}: not a readable ZIM archive ({exc})") from exc


def zim_article_count(path: Path) -> int:
    """How many articles the archive says it holds: the length of a progress bar."""
    return int(_open(path).article_count)


def read_zim(path: Path) -> Iterator[Document]:
    """One document per HTML article; its source is `archive.zim#article/path`."""
    archive = _open(path)
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
