"""Readers: what text each format yields, and one-line errors that name the file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

from murmurnet.errors import InputError, MissingDependencyError
from murmurnet.rag.documents import read_documents
from murmurnet.rag.htmltext import html_to_text


def write_pdf(path: Path, pages: list[str]) -> None:
    """A minimal valid PDF with one line of Helvetica text per page (no PDF library needed)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        content_id = len(objects) + 2
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R"
            " /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
            " >> >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(f"{len(objects) - 1} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))


def test_html_keeps_visible_text_and_drops_scripts_styles_and_navigation() -> None:
    title, text = html_to_text(
        "<html><head><title>T &amp; U</title><style>p{}</style></head><body>"
        "<nav>Home | About</nav><h1>Head</h1><p>One\nline <b>bold</b>.</p>"
        "<script>var x = 1;</script><ul><li>a</li><li>b</li></ul><pre>x\n  y</pre></body></html>"
    )
    assert title == "T & U"
    assert text == "Head\n\nOne line bold.\n\na\n\nb\n\nx\ny"
    assert "var x" not in text and "Home" not in text and "p{}" not in text


def test_text_markdown_and_html_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes("日本語のテキスト。".encode("cp932"))  # Shift-JIS
    (tmp_path / "b.md").write_text(
        "---\ntags: x\n---\n# Title here\nSee [the docs](http://x) and **bold**.\n", "utf-8"
    )
    (tmp_path / "c.html").write_text("<title>Page</title><p>Body text.</p>", "utf-8")
    [txt] = read_documents(tmp_path / "a.txt")
    [md] = read_documents(tmp_path / "b.md")
    [html] = read_documents(tmp_path / "c.html")
    assert (txt.title, txt.text) == ("a", "日本語のテキスト。")
    assert (md.title, md.text) == ("Title here", "Title here\nSee the docs and bold.")
    assert (html.title, html.text, html.source) == ("Page", "Body text.", str(tmp_path / "c.html"))


def test_jsonl_reads_the_chosen_field_one_document_per_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = [{"title": "First", "body": {"text": "one"}}, {"body": {}}, {"body": {"text": "two"}}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", "utf-8")
    documents = list(read_documents(path, "body.text"))
    assert [(d.source, d.title, d.text) for d in documents] == [
        (f"{path}#1", "First", "one"),
        (f"{path}#3", "rows #3", "two"),
    ]


def test_jsonl_errors_name_the_file_line_and_known_fields(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"body": "x", "id": 1}\n', "utf-8")
    with pytest.raises(InputError) as missing:
        list(read_documents(path, "text"))
    assert str(path) in missing.value.one_line() and "body, id" in missing.value.one_line()
    path.write_text('{"text": "ok"}\n{broken\n', "utf-8")
    with pytest.raises(InputError, match=r"rows\.jsonl:2: not valid JSON"):
        list(read_documents(path))


def test_pdf_pages_become_documents(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "paper.pdf"
    write_pdf(path, ["Honeybees dance to share directions.", "", "Page three text."])
    documents = list(read_documents(path))
    assert [d.source.rsplit("#", 1)[1] for d in documents] == ["page=1", "page=3"]
    assert "Honeybees dance" in documents[0].text


def test_broken_and_missing_files_raise_one_line_errors_naming_them(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"this is not a pdf")
    with pytest.raises(InputError, match=r"broken\.pdf: not a readable PDF"):
        list(read_documents(broken))
    with pytest.raises(InputError, match=r"gone\.txt: cannot read"):
        list(read_documents(tmp_path / "gone.txt"))
    with pytest.raises(InputError, match=r"image\.png: unsupported file type"):
        list(read_documents(tmp_path / "image.png"))
    (tmp_path / "latin.txt").write_bytes(bytes(range(128, 256)))
    with pytest.raises(InputError, match=r"latin\.txt: not UTF-8"):
        list(read_documents(tmp_path / "latin.txt"))


def test_a_missing_optional_package_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module

    def no_pdf(name: str, package: str | None = None) -> ModuleType:
        if name.startswith(("pypdf", "libzim")):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_pdf)
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(MissingDependencyError) as error:
        list(read_documents(tmp_path / "a.pdf"))
    assert error.value.hint == "pip install 'murmurnet[rag]'"
    (tmp_path / "w.zim").write_bytes(b"ZIM")
    with pytest.raises(MissingDependencyError, match="libzim"):
        list(read_documents(tmp_path / "w.zim"))
