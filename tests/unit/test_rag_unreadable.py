"""Unreadable files: typed one-line errors, skipped with a warning, fatal only when all are.

Damaged PDFs are the common case: pypdf raises many exception types besides its own, and
logs a line for every repair it attempts. Both must end as one line naming the file.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest

from murmurnet.cli.main import main
from murmurnet.errors import ConfigError, InputError
from murmurnet.rag import KnowledgeBase, zim
from murmurnet.rag.documents import read_documents
from murmurnet.rag.embeddings import HashEmbedder
from murmurnet.rag.store import Store
from tests.unit.test_rag_readers import write_pdf

GOOD_TEXT = "Honeybees perform a waggle dance to show where the flowers are."


def truncated_pdf(path: Path) -> Path:
    write_pdf(path, ["Lighthouses guide ships at night.", "Second page."])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def garbage_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n\x00\xff garbage, no objects, no trailer\n")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bees.txt").write_text(GOOD_TEXT, encoding="utf-8")
    truncated_pdf(docs / "broken.pdf")
    return docs


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def index(cache: Path, *argv: str) -> list[str]:
    return ["index", *argv, "--embedder", "hash", "--no-progress", "--cache-folder", str(cache)]


@pytest.mark.parametrize(
    "crash",
    [
        struct.error("unpack requires a buffer of 4 bytes"),
        TypeError("argument should be integer or None, not 'FloatObject'"),
        AttributeError("'NumberObject' object has no attribute 'items'"),
        KeyError("/Root"),
        RecursionError("maximum recursion depth exceeded"),
        IndexError(),
    ],
    ids=["struct.error", "TypeError", "AttributeError", "KeyError", "RecursionError", "IndexError"],
)
def test_any_exception_from_pypdf_is_an_input_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash: Exception
) -> None:
    pypdf = pytest.importorskip("pypdf")

    def explode(*args: object, **kwargs: object) -> None:
        raise crash

    monkeypatch.setattr(pypdf, "PdfReader", explode)
    path = garbage_pdf(tmp_path / "odd.pdf")
    with pytest.raises(InputError) as error:
        list(read_documents(path))
    line = error.value.one_line()
    assert line.startswith(f"{path}: not a readable PDF (") and "\n" not in line
    assert (str(crash) or type(crash).__name__) in line


def test_pypdf_repair_warnings_do_not_reach_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "xref.pdf"
    write_pdf(path, ["Readable despite a damaged cross-reference table."])
    path.write_bytes(path.read_bytes().replace(b"0000000009 00000 n", b"0000000001 00000 n"))
    with caplog.at_level(logging.WARNING):
        for broken in (path, truncated_pdf(tmp_path / "cut.pdf")):
            with contextlib.suppress(InputError):
                list(read_documents(broken))
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []
    assert logging.getLogger("pypdf").level == logging.NOTSET  # restored afterwards


def test_an_unknown_marked_section_does_not_make_html_unreadable(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>Before <![if mso]>hidden<![endif]> <![foo bar</p><p>After</p>", "utf-8")
    [document] = read_documents(page)
    assert "Before" in document.text and "After" in document.text


class _Item:
    mimetype = "text/html"

    def __init__(self, index: int) -> None:
        self.index = index

    @property
    def content(self) -> bytes:
        if self.index == 1:
            raise RuntimeError("Data corruption detected")  # what libzim raises
        return b"<p>The first article reads fine.</p>"


class _DamagedArchive:
    """A ZIM archive whose second article's compressed cluster is corrupt."""

    entry_count = 2
    article_count = 2

    def __init__(self, path: Path) -> None:
        self.path = path

    def _get_entry_by_id(self, index: int) -> SimpleNamespace:
        return SimpleNamespace(
            is_redirect=False,
            path=f"A/{index}",
            title=f"Article {index}",
            get_item=lambda: _Item(index),
        )


def test_a_zim_archive_damaged_mid_stream_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zim, "require", lambda *args: SimpleNamespace(Archive=_DamagedArchive))
    path = tmp_path / "wiki.zim"
    path.write_bytes(b"ZIM")
    with pytest.raises(InputError) as error:
        list(read_documents(path))
    assert error.value.one_line() == (
        f"{path}: damaged ZIM archive at entry 1 (Data corruption detected)"
    )


@pytest.mark.parametrize(
    "line", ["[" * 100_000, '{"text": ' + "1" * 5000 + "}"], ids=["deep-nesting", "huge-number"]
)
def test_json_the_parser_gives_up_on_is_an_input_error(tmp_path: Path, line: str) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "fine"}\n' + line + "\n", "utf-8")
    with pytest.raises(InputError, match=r"rows\.jsonl:2: unreadable JSON"):
        list(read_documents(rows))


def test_a_broken_pdf_in_a_folder_is_skipped_with_a_one_line_warning(
    folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pypdf = pytest.importorskip("pypdf")
    real = pypdf.PdfReader

    def crash_on_odd(path: str, *args: object, **kwargs: object) -> object:
        if Path(path).name == "odd.pdf":
            raise struct.error("unpack requires a buffer of 4 bytes")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pypdf, "PdfReader", crash_on_odd)
    garbage_pdf(folder / "odd.pdf")
    cache = tmp_path / "cache"
    code, out, err = cli(capsys, *index(cache, str(folder), "--kb", "mixed"))
    assert code == 0, err
    assert "2 skipped" in out and "1 added" in out
    broken, odd = sorted(err.strip().splitlines())  # one line per skipped file, no log noise
    assert broken.startswith(f"murmurnet: warning: skipped {folder / 'broken.pdf'}: ")
    assert "not a readable PDF (" in broken
    assert odd == (
        f"murmurnet: warning: skipped {folder / 'odd.pdf'}: not a readable PDF "
        "(unpack requires a buffer of 4 bytes)"
    )
    with KnowledgeBase.open("mixed", cache) as kb:
        [hit] = kb.search("waggle dance", k=1)
    assert Path(hit.source).name == "bees.txt"


def test_named_files_follow_the_same_rule(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pypdf")
    cache = tmp_path / "cache"
    image = folder / "photo.png"
    image.write_bytes(b"\x89PNG")
    named = [str(folder / "broken.pdf"), str(folder / "bees.txt"), str(image)]
    code, out, err = cli(capsys, *index(cache, *named, "--kb", "named"))
    assert code == 0 and "1 added" in out and "2 skipped" in out
    assert f"skipped {folder / 'broken.pdf'}: not a readable PDF" in err
    assert f"skipped {image}: unsupported file type" in err
    assert len(err.strip().splitlines()) == 2


def test_a_single_bad_file_named_alone_is_an_error_and_leaves_no_empty_base(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pypdf")
    cache = tmp_path / "cache"
    code, out, err = cli(capsys, *index(cache, str(folder / "broken.pdf"), "--kb", "alone"))
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith(f"murmurnet: error: {folder / 'broken.pdf'}: not a readable PDF")
    assert not (cache / "kb" / "alone").exists()


def test_a_folder_where_nothing_can_be_read_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pypdf")
    bad = tmp_path / "bad"
    bad.mkdir()
    truncated_pdf(bad / "a.pdf")
    (bad / "b.txt").write_bytes(bytes(range(128, 256)))  # no encoding reads this
    cache = tmp_path / "cache"
    code, out, err = cli(capsys, *index(cache, str(bad), "--kb", "none"))
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("murmurnet: error: none of the 2 files could be indexed; the first: ")
    assert str(bad / "a.pdf") in line
    assert not (cache / "kb" / "none").exists()


def test_an_existing_base_is_kept_when_a_run_reads_nothing(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pypdf")
    cache = tmp_path / "cache"
    assert cli(capsys, *index(cache, str(folder / "bees.txt"), "--kb", "kept"))[0] == 0
    assert cli(capsys, *index(cache, str(folder / "broken.pdf"), "--kb", "kept"))[0] == 2
    with KnowledgeBase.open("kept", cache) as kb:
        assert kb.info().files == 1


def test_a_file_that_breaks_after_indexing_keeps_its_old_passages(
    folder: Path, tmp_path: Path
) -> None:
    bees = folder / "bees.txt"
    with KnowledgeBase.create("notes", tmp_path / "cache", embedder=HashEmbedder()) as kb:
        kb.add_paths([bees], progress=False)
        bees.write_bytes(bytes(range(128, 256)))
        with pytest.raises(InputError, match=r"bees\.txt: not UTF-8"):
            kb.add_paths([bees], progress=False)
        [hit] = kb.search("waggle", k=1)
    assert "waggle dance" in hit.text


def test_a_write_the_index_refuses_is_a_config_error_naming_it(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: Store, *args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "add_chunks", disk_full)
    with KnowledgeBase.create("full", tmp_path / "cache", embedder=HashEmbedder()) as kb:
        with pytest.raises(ConfigError, match="cannot write the knowledge base index") as error:
            kb.add_paths([folder / "bees.txt"], progress=False)
        assert str(kb.store.path) in error.value.one_line()
        assert "disk is full" in error.value.one_line()
        assert kb.info().files == 0  # rolled back


def test_a_cache_folder_that_cannot_hold_a_base_is_a_config_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "kb").write_text("a file where the kb folder should be", "utf-8")
    with pytest.raises(ConfigError, match="cannot create the knowledge base folder"):
        KnowledgeBase.create("notes", cache, embedder=HashEmbedder())
