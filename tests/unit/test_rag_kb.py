"""Knowledge bases without a model: incremental indexing, search, list/remove, errors, CLI."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

from murmurnet.cli.rag import add_parsers
from murmurnet.errors import ConfigError, InputError
from murmurnet.rag import KnowledgeBase, list_kbs, remove_kb
from murmurnet.rag.embeddings import HashEmbedder

DOCS = {
    "fuji.md": "# 富士山\n\n富士山は日本で最も高い山です。標高は3776メートルです。",
    "bees.txt": "Honeybees perform a waggle dance. The dance shows where the flowers are.",
    "sub/reef.html": "<title>Reef</title><p>Corals bleach when the sea is too warm.</p>",
}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    for name, text in DOCS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / ".hidden.txt").write_text("never indexed", encoding="utf-8")
    (folder / "picture.png").write_bytes(b"\x89PNG")
    return folder


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def make(cache: Path, name: str = "notes") -> KnowledgeBase:
    return KnowledgeBase.create(name, cache, embedder=HashEmbedder())


def names(paths: list[str]) -> list[str]:
    return sorted(Path(p).name for p in paths)


def test_index_then_search_returns_cited_passages_with_every_score(docs: Path, cache: Path) -> None:
    with make(cache) as kb:
        report = kb.add_paths([docs], progress=False)
        assert names(report.added) == ["bees.txt", "fuji.md", "reef.html"]
        assert (report.files, report.documents) == (3, 3)
        [best, *rest] = kb.search("日本で一番高い山は？", k=3)
    assert Path(best.source).name == "fuji.md" and best.title == "富士山"
    assert (best.rank, best.position, best.char_start) == (1, 0, 0)
    assert best.lexical_score is not None and best.lexical_rank == 1
    assert best.dense_score is not None and best.dense_rank is not None
    assert best.fused_score >= max(p.fused_score for p in rest)
    assert "3776" in best.text


def test_unchanged_files_are_skipped_changed_reindexed_removed_dropped(
    docs: Path, cache: Path
) -> None:
    with make(cache) as kb:
        kb.add_paths([docs], progress=False)
        again = kb.add_paths([docs], progress=False)
        assert (again.added, again.updated, again.new_chunks) == ([], [], 0)
        assert names(again.unchanged) == ["bees.txt", "fuji.md", "reef.html"]

        bees = docs / "bees.txt"
        stat = bees.stat()
        os.utime(bees, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes
        assert kb.add_paths([docs], progress=False).unchanged.count(str(bees)) == 1

        bees.write_text("Lighthouses guide ships with a bright lamp at night.", "utf-8")
        (docs / "sub" / "reef.html").unlink()
        report = kb.add_paths([docs], progress=False)
        assert names(report.updated) == ["bees.txt"]
        assert names(report.removed) == ["reef.html"]
        assert names(report.unchanged) == ["fuji.md"]
        assert report.files == 2

        sources = {Path(p.source).name for p in kb.search("lighthouse lamp ships", k=5)}
        assert "bees.txt" in sources
        assert all("waggle" not in p.text for p in kb.search("waggle dance", k=5))
        assert all("reef" not in p.source for p in kb.search("corals bleach", k=5))


def test_a_file_outside_the_folders_given_is_not_dropped(docs: Path, cache: Path) -> None:
    with make(cache) as kb:
        kb.add_paths([docs / "fuji.md"], progress=False)
        report = kb.add_paths([docs / "sub"], progress=False)
        assert report.removed == [] and report.files == 2


def test_jsonl_field_option(tmp_path: Path, cache: Path) -> None:
    rows = tmp_path / "faq.jsonl"
    rows.write_text('{"q": "What is natto?", "a": "納豆は発酵させた大豆です。"}\n', "utf-8")
    with make(cache) as kb:
        kb.add_paths([rows], jsonl_field="a", progress=False)
        [hit] = kb.search("納豆", k=1)
    assert hit.source == f"{rows}#1" and hit.text == "納豆は発酵させた大豆です。"


def test_list_and_remove(docs: Path, cache: Path) -> None:
    assert list_kbs(cache) == []
    for name in ("alpha", "beta"):
        with make(cache, name) as kb:
            kb.add_paths([docs / "fuji.md"], progress=False)
    infos = list_kbs(cache)
    assert [(i.name, i.files, i.embedder) for i in infos] == [
        ("alpha", 1, "hash-256"),
        ("beta", 1, "hash-256"),
    ]
    removed = remove_kb(cache, "alpha")
    assert not removed.exists() and [i.name for i in list_kbs(cache)] == ["beta"]


def test_unknown_names_list_the_known_ones(cache: Path) -> None:
    make(cache, "beta").close()
    with pytest.raises(InputError) as error:
        KnowledgeBase.open("nope", cache)
    assert "unknown knowledge base 'nope' (known: beta)" in error.value.one_line()
    with pytest.raises(InputError, match="known: beta"):
        remove_kb(cache, "alpha")
    with pytest.raises(InputError, match="invalid knowledge base name"):
        KnowledgeBase.create("../escape", cache)


def test_bad_inputs_are_one_line_errors_naming_the_file(docs: Path, cache: Path) -> None:
    broken = docs / "rows.jsonl"
    broken.write_text("{not json\n", "utf-8")
    with make(cache) as kb:
        with pytest.raises(InputError, match=r"missing\.txt: no such file or folder"):
            kb.add_paths([docs / "missing.txt"], progress=False)
        with pytest.raises(InputError, match=r"rows\.jsonl:1: not valid JSON"):
            kb.add_paths([broken], progress=False)
        # Found while walking a folder, a broken file is reported and the rest indexed.
        report = kb.add_paths([docs], progress=False)
        assert list(report.failed) == [str(broken)]
        assert "not valid JSON" in report.failed[str(broken)]
        assert report.files == 3
        with pytest.raises(InputError, match="query is empty"):
            kb.search("  ")


def test_the_embedder_is_fixed_when_the_base_is_created(cache: Path) -> None:
    make(cache).close()
    with pytest.raises(ConfigError, match="built with the 'hash' embedder"):
        KnowledgeBase.create("notes", cache, embedder="none")
    with KnowledgeBase.open("notes", cache) as kb:  # reloads the fake by its recorded kind
        assert kb.embedder is not None and kb.embedder.name == "hash-256"


def test_a_lexical_only_base_needs_no_model(docs: Path, cache: Path) -> None:
    with KnowledgeBase.create("plain", cache, embedder="none") as kb:
        kb.add_paths([docs], progress=False)
        [hit] = kb.search("waggle", k=1)
        assert Path(hit.source).name == "bees.txt" and hit.dense_score is None
        with pytest.raises(InputError, match="no dense index"):
            kb.search("waggle", mode="dense")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code = args.handler(args)
    return code, capsys.readouterr().out


def test_index_and_search_commands(
    docs: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ("--cache-folder", str(cache))
    code, out = run(capsys, "index", str(docs), "--kb", "cli", "--embedder", "hash", *c)
    assert code == 0 and "3 added" in out
    code, out = run(capsys, "index", str(docs), "--kb", "cli", "--json", *c)
    assert json.loads(out)["unchanged"] and json.loads(out)["added"] == []
    code, out = run(capsys, "search", "--kb", "cli", "waggle dance", "-k", "2", *c)
    assert out.startswith("1. ") and "bees.txt" in out and "lexical" in out and "dense" in out
    code, out = run(capsys, "search", "--kb", "cli", "富士山", "--json", *c)
    payload = json.loads(out)
    first = payload["passages"][0]
    assert {"source", "position", "lexical_score", "dense_score", "fused_score"} <= set(first)
    code, out = run(capsys, "index", "--list", "--json", *c)
    assert [row["name"] for row in json.loads(out)] == ["cli"]
    code, out = run(capsys, "index", "--remove", "cli", *c)
    assert code == 0 and "removed" in out
    with pytest.raises(InputError, match=r"PATH\.\.\. and --kb NAME"):
        run(capsys, "index", str(docs), *c)


def test_cache_folder_defaults_to_the_settings_one(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "index", str(docs / "fuji.md"), "--kb", "env", "--embedder", "hash")
    assert (tmp_path / "cache" / "kb" / "env" / "index.sqlite").is_file()  # conftest's env
    shutil.rmtree(tmp_path / "cache")
