"""The `murmurnet index` and `murmurnet search` subcommands.

They only parse and print: the knowledge base does the work and raises typed errors, which
the CLI's `main` turns into one line. Heavy imports (numpy, the embedding model) wait for
the handler, so `murmurnet --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from murmurnet.errors import InputError, MurmurError

if TYPE_CHECKING:
    from murmurnet.rag.models import IndexReport

_SNIPPET = 240


def add_parsers(subparsers: Any) -> None:
    """Add `index` and `search` to the CLI's subparsers; each sets `handler(args) -> int`."""
    from murmurnet.rag.embeddings import DEFAULT_EMBEDDER, EMBEDDERS

    index = subparsers.add_parser(
        "index",
        help="add files to a knowledge base (txt, md, html, pdf, jsonl, zim)",
        description="Index files and folders into a knowledge base. Unchanged files are "
        "skipped by content hash; files gone from an indexed folder are dropped. A file that "
        "cannot be read (damaged, undecodable, unsupported), named or found in a folder, is "
        "skipped with a warning on stderr and counted in the summary; the exit status is 0. "
        "If no file given can be read (a single bad file named alone, too), nothing is "
        "indexed and the command fails with exit status 2.",
    )
    index.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders")
    index.add_argument("--kb", metavar="NAME", help="knowledge base to add to (made if missing)")
    index.add_argument(
        "--field", default="text", metavar="FIELD", help="JSONL field holding the text (text)"
    )
    index.add_argument("--list", action="store_true", help="list the knowledge bases")
    index.add_argument("--remove", metavar="NAME", help="delete a knowledge base")
    index.add_argument(
        "--embedder",
        choices=EMBEDDERS,
        default=None,
        help=f"dense model of a new knowledge base (default {DEFAULT_EMBEDDER}; none: "
        "lexical only; hash: model-free, for tests)",
    )
    index.add_argument("--chunk-tokens", type=int, default=200, help="passage size (200)")
    index.add_argument("--overlap", type=int, default=40, help="tokens shared by passages (40)")
    index.add_argument("--threads", type=int, default=None, help="CPU threads for embedding")
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.add_argument("--json", action="store_true", help="print the report as JSON")
    _common(index)
    index.set_defaults(handler=index_command)

    search = subparsers.add_parser(
        "search",
        help="show the passages a knowledge base retrieves for a query, with their scores",
    )
    search.add_argument("query", help="what to look for (quote it)")
    search.add_argument("--kb", metavar="NAME", required=True, help="knowledge base to search")
    search.add_argument("-k", type=int, default=5, help="how many passages (5)")
    search.add_argument(
        "--mode", choices=("hybrid", "lexical", "dense"), default="hybrid", help="retrievers"
    )
    search.add_argument("--threads", type=int, default=None, help="CPU threads for embedding")
    search.add_argument("--json", action="store_true", help="print one JSON object")
    _common(search)
    search.set_defaults(handler=search_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-folder", type=Path, default=None, help="where KBs are kept")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def _cache_folder(args: argparse.Namespace) -> Path:
    if args.cache_folder is not None:
        return Path(args.cache_folder)
    from murmurnet.config import RunConfig

    return RunConfig().cache_folder


def index_command(args: argparse.Namespace) -> int:
    from murmurnet.rag import list_kbs, remove_kb
    from murmurnet.rag.indexing import skipped_line

    cache = _cache_folder(args)
    if args.list or args.remove:
        if args.paths or (args.list and args.remove):
            raise InputError("--list and --remove take no paths and not each other")
        if args.remove:
            folder = remove_kb(cache, args.remove)
            print(f"removed knowledge base {args.remove!r} ({folder})")
            return 0
        infos = list_kbs(cache)
        if args.json:
            print(json.dumps([info.model_dump() for info in infos], ensure_ascii=False, indent=2))
        else:
            _print_list(infos, cache)
        return 0
    if not args.kb or not args.paths:
        raise InputError(
            "index needs PATH... and --kb NAME", hint="or --list, or --remove NAME; see --help"
        )
    for path in args.paths:  # before a new, empty knowledge base is made for nothing
        if not Path(path).expanduser().exists():
            raise InputError(f"{path}: no such file or folder")
    report = _index(args, cache)
    for path, reason in report.failed.items():
        print(f"murmurnet: warning: skipped {skipped_line(path, reason)}", file=sys.stderr)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(report.summary())
    return 0


def _index(args: argparse.Namespace, cache: Path) -> IndexReport:
    """Index into `--kb`; a knowledge base this run made is removed again if it failed empty.

    Otherwise a run whose every file was unreadable would leave an empty base behind that
    the next run (perhaps with another --embedder) would silently reuse.
    """
    from murmurnet.rag import KnowledgeBase, remove_kb
    from murmurnet.rag.catalog import index_path

    is_new = not index_path(cache, args.kb).is_file()
    try:
        with KnowledgeBase.create(
            args.kb,
            cache,
            embedder=args.embedder,
            chunk_tokens=args.chunk_tokens,
            overlap=args.overlap,
            threads=args.threads,
        ) as kb:
            progress = not (args.no_progress or args.json) and sys.stderr.isatty()
            return kb.add_paths(args.paths, jsonl_field=args.field, progress=progress)
    except MurmurError:
        if is_new and index_path(cache, args.kb).is_file():
            with KnowledgeBase.open(args.kb, cache) as made:
                empty = made.store.counts()[0] == 0
            if empty:
                remove_kb(cache, args.kb)
        raise


def _print_list(infos: list[Any], cache: Path) -> None:
    if not infos:
        print(f"no knowledge bases in {cache / 'kb'} (make one: murmurnet index PATH --kb NAME)")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"knowledge bases in {cache / 'kb'}")
    for column in ("name", "embedder", "files", "passages", "size"):
        table.add_column(column, justify="right" if column in ("files", "passages") else "left")
    for info in infos:
        size = f"{info.size_bytes / 1e6:.1f} MB"
        table.add_row(info.name, info.embedder, str(info.files), str(info.chunks), size)
    Console().print(table)


def _shown(source: str) -> str:
    """A source relative to the current folder when it is inside it (shorter to read)."""
    path, hash_mark, anchor = source.partition("#")
    if Path(path).is_relative_to(Path.cwd()):
        path = os.path.relpath(path)
    return path + hash_mark + anchor


def _score(value: float | None, rank: int | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f} (#{rank})"


def search_command(args: argparse.Namespace) -> int:
    from murmurnet.rag import KnowledgeBase

    with KnowledgeBase.open(args.kb, _cache_folder(args), threads=args.threads) as kb:
        passages = kb.search(args.query, k=args.k, mode=args.mode)
    if args.json:
        payload = {
            "kb": args.kb,
            "query": args.query,
            "mode": args.mode,
            "passages": [passage.model_dump() for passage in passages],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    if not passages:
        print("no passages matched")
        return 0
    for p in passages:
        print(
            f"{p.rank}. {_shown(p.source)}  passage {p.position}, chars {p.char_start}-{p.char_end}"
        )
        print(
            f"   fused {p.fused_score:.4f}  lexical {_score(p.lexical_score, p.lexical_rank, 2)}"
            f"  dense {_score(p.dense_score, p.dense_rank, 3)}"
        )
        text = " ".join(p.text.split())
        print(f"   {text[:_SNIPPET]}{'…' if len(text) > _SNIPPET else ''}\n")
    return 0
