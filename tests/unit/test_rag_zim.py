"""ZIM archives written here with libzim's own writer, then read and indexed.

`write_zim` is shared with the integration test, which searches such an archive with the
real embeddings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmurnet.errors import InputError
from murmurnet.rag import KnowledgeBase
from murmurnet.rag.documents import read_documents
from murmurnet.rag.embeddings import HashEmbedder

ARTICLES = {
    "A/Honeybee_dance": (
        "Honeybee dance",
        "<html><head><title>Honeybee dance</title></head><body><h1>Waggle dance</h1>"
        "<p>A forager bee returns to the hive and performs the waggle dance. The angle of "
        "the run shows the direction of the flowers relative to the sun.</p></body></html>",
    ),
    "A/納豆": (
        "納豆",
        "<html><body><p>納豆は、蒸した大豆に納豆菌を加えて発酵させた食品です。"
        "ねばりの正体はポリグルタミン酸です。</p></body></html>",
    ),
    "A/Lighthouse": (
        "Lighthouse",
        "<html><body><p>A lighthouse is a tower with a bright lamp that guides ships "
        "along dangerous coasts at night.</p><script>trackVisitor();</script></body></html>",
    ),
}


def write_zim(path: Path, articles: dict[str, tuple[str, str]] = ARTICLES) -> Path:
    """A small ZIM archive: HTML articles, a redirect and a stylesheet (which are not text)."""
    writer: Any = pytest.importorskip("libzim.writer")

    class Page(writer.Item):  # type: ignore[misc]
        def __init__(self, path: str, title: str, content: str, mimetype: str) -> None:
            super().__init__()
            self.path, self.title, self.content, self.mimetype = path, title, content, mimetype

        def get_path(self) -> str:
            return self.path

        def get_title(self) -> str:
            return self.title

        def get_mimetype(self) -> str:
            return self.mimetype

        def get_contentprovider(self) -> Any:
            return writer.StringProvider(self.content)

        def get_hints(self) -> dict[Any, int]:
            return {writer.Hint.FRONT_ARTICLE: self.mimetype == "text/html"}

    with writer.Creator(path).config_indexing(False, "eng") as creator:
        creator.set_mainpath(next(iter(articles)))
        creator.add_metadata("Title", "MurmurNet test archive")
        creator.add_metadata("Language", "eng,jpn")
        for entry_path, (title, html) in articles.items():
            creator.add_item(Page(entry_path, title, html, "text/html"))
        creator.add_item(Page("-/style.css", "style", "body { color: red; }", "text/css"))
        creator.add_redirection("A/Bees", "Bees", "A/Honeybee_dance", {})
    return path


def test_zim_articles_are_read_and_resources_and_redirects_skipped(tmp_path: Path) -> None:
    archive = write_zim(tmp_path / "wiki.zim")
    documents = {d.source.split("#", 1)[1]: d for d in read_documents(archive)}
    assert set(documents) == set(ARTICLES)
    assert documents["A/納豆"].title == "納豆"
    assert "waggle dance" in documents["A/Honeybee_dance"].text
    assert "trackVisitor" not in documents["A/Lighthouse"].text


def test_zim_archive_is_indexed_incrementally_and_searchable(tmp_path: Path) -> None:
    archive = write_zim(tmp_path / "wiki.zim")
    cache = tmp_path / "cache"
    with KnowledgeBase.create("wiki", cache, embedder=HashEmbedder()) as kb:
        report = kb.add_paths([archive], progress=False)
        assert (report.added, report.documents) == ([str(archive)], 3)
        assert kb.add_paths([archive], progress=False).unchanged == [str(archive)]
        [best] = kb.search("ねばりの正体は？", k=1)
        assert best.source == f"{archive}#A/納豆" and best.title == "納豆"


def test_a_file_that_is_not_a_zim_archive_is_a_one_line_error(tmp_path: Path) -> None:
    pytest.importorskip("libzim")
    fake = tmp_path / "fake.zim"
    fake.write_bytes(b"not a zim archive at all" * 10)
    with pytest.raises(InputError, match=r"fake\.zim: not a readable ZIM archive"):
        list(read_documents(fake))
