"""HTML to plain text with the standard library, shared by the HTML file and ZIM readers.

Retrieval wants the words a reader sees: scripts, styles and navigation chrome would put
code and menu labels into passages, and block elements must become line breaks so that the
chunker still finds paragraph and heading boundaries.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "noscript", "template", "nav", "svg", "head"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP:
            self._skip_depth += 1
        elif tag in _BLOCK:
            self._pre_depth += tag == "pre"
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK:
            self._pre_depth = max(0, self._pre_depth - (tag == "pre"))
            self.parts.append("\n\n")

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """Read an unknown `<![...` section as a bogus comment, as browsers do.

        The standard library (before 3.13) raises AssertionError on `<![foo`, which would
        make a whole page or HTML file unreadable over one stray construct.
        """
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip_depth:
            # Outside <pre>, a line break in the source is only a space to the reader.
            self.parts.append(data if self._pre_depth else data.replace("\n", " "))


def html_to_text(html: str) -> tuple[str, str]:
    """(title, visible text) of an HTML document; paragraphs are separated by blank lines."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    title = _SPACES.sub(" ", "".join(parser.title_parts)).strip()
    return title, text
