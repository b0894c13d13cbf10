"""Incremental indexing: which files changed, and turning a file into stored passages.

Files are the unit of change. A file whose content hash is unchanged is skipped, a changed
one is replaced in one transaction (an interrupted run never leaves half a file), and a
file that vanished from an indexed folder is dropped, so re-running `murmurnet index` after
editing a folder costs only what changed.

A file that cannot be read (damaged, undecodable, unsupported, unreadable, or needing a
package that is not installed) is skipped and reported, whether it was named or found in a
folder, so one bad PDF never costs the rest of a folder; a run where no file could be read
fails instead, since it did nothing the user asked for. Other errors (the embedder, the
index file) are not about one file and stop the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from murmurnet.errors import InputError, MissingDependencyError, MurmurError
from murmurnet.rag.chunking import chunk_text
from murmurnet.rag.documents import Document, format_of, read_documents, unsupported
from murmurnet.rag.embeddings import Embedder
from murmurnet.rag.lexical import fts_document
from murmurnet.rag.models import IndexReport
from murmurnet.rag.progress import IndexProgress
from murmurnet.rag.store import FileRecord, NewChunk, Store

_HASH_ALWAYS_BELOW = 256 * 1024 * 1024  # larger files trust an unchanged size and mtime
_BATCH = 32

_Pending = list[tuple[Document, str, int, int, int]]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return digest.hexdigest()


# Per-file problems: the file is skipped and reported. Any other error stops the run.
SKIPPABLE = (InputError, MissingDependencyError)


def _is_file(path: Path) -> bool:
    """Path.is_file, but an entry that cannot even be looked at is not a file to index."""
    try:
        return path.is_file()
    except OSError:
        return False


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(files to index, folders walked); hidden files and unknown types in folders are skipped.

    A file named directly is kept even when its type is unknown: it is reported as skipped
    like any other unreadable file. A path that does not exist is an error at once, since
    it is a typo rather than a bad file.
    """
    files: list[Path] = []
    folders: list[Path] = []
    for given in paths:
        try:
            path = Path(given).expanduser().resolve()
            is_dir, is_file = path.is_dir(), path.is_file()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (3.11)
            raise InputError(f"{given}: cannot be read ({exc})") from exc
        if is_dir:
            folders.append(path)
            for found in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in found.relative_to(path).parts)
                if not hidden and format_of(found) is not None and _is_file(found):
                    files.append(found)
        elif is_file:
            files.append(path)
        else:
            raise InputError(f"{given}: no such file or folder")
    return list(dict.fromkeys(files)), folders


def skipped_line(path: str, reason: str) -> str:
    """`FILE: reason`, without naming the file twice when the reason already starts with it."""
    return reason if reason.startswith(path) else f"{path}: {reason}"


def nothing_readable(failed: dict[str, str]) -> InputError:
    """The error for a run in which every one of several files was skipped, in one line."""
    first = skipped_line(*next(iter(failed.items())))
    return InputError(
        f"none of the {len(failed)} files could be indexed; the first: {first}",
        hint="index them one by one to see each reason",
    )


def documents_hint(path: Path) -> int | None:
    """How many documents a large container holds, so that it gets a progress bar of its own."""
    if format_of(path) != "zim":
        return None
    from murmurnet.rag.zim import zim_article_count

    try:
        return zim_article_count(path)
    except MurmurError:
        return None


class Indexer:
    """Writes files into a store, chunked with `count` and embedded with `embedder`."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        count: Callable[[str], int],
        chunk_tokens: int,
        overlap: int,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.count = count
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap

    def run(self, paths: Iterable[Path], field: str, report: IndexReport, progress: bool) -> None:
        """Index every file; skipped ones land in `report.failed` (path -> one-line reason).

        Raises the file's own error when the only file given cannot be read, and an
        InputError when none of several can; nothing is removed from the index then.
        """
        files, folders = expand(paths)
        stored = {record.path: record for record in self.store.files()}
        failed: dict[str, str] = {}
        with IndexProgress(progress, len(files)) as bar:
            for path in files:
                bar.start_file(path.name, documents_hint(path))
                try:
                    self.index_file(path, stored.get(str(path)), field, report, bar)
                except SKIPPABLE as exc:
                    if len(files) == 1:
                        raise
                    failed[str(path)] = " ".join(exc.one_line().split())
                bar.file_done()
        report.failed.update(failed)
        if files and len(failed) == len(files):
            raise nothing_readable(failed)
        seen = {str(path) for path in files}
        for record in stored.values():
            gone = record.path not in seen and not Path(record.path).exists()
            if gone and any(Path(record.path).is_relative_to(f) for f in folders):
                with self.store.transaction():
                    self.store.remove_file(record.id)
                report.removed.append(record.path)

    def index_file(
        self,
        path: Path,
        record: FileRecord | None,
        field: str,
        report: IndexReport,
        bar: IndexProgress,
    ) -> None:
        if format_of(path) is None:
            raise unsupported(path)
        try:
            stat = path.stat()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        same_stat = record is not None and (record.size, record.mtime_ns) == (
            stat.st_size,
            stat.st_mtime_ns,
        )
        if record is not None and same_stat and stat.st_size >= _HASH_ALWAYS_BELOW:
            report.unchanged.append(str(path))
            return
        digest = sha256_of(path)
        if record is not None and record.sha256 == digest:
            if not same_stat:
                self.store.touch_file(record.id, stat.st_size, stat.st_mtime_ns)
            report.unchanged.append(str(path))
            return
        with self.store.transaction():
            if record is not None:
                self.store.remove_file(record.id)
            file_id = self.store.add_file(str(path), digest, stat.st_size, stat.st_mtime_ns)
            documents, chunks = self._add_documents(file_id, path, field, bar)
            self.store.finish_file(file_id, documents, chunks)
        (report.updated if record is not None else report.added).append(str(path))
        report.documents += documents
        report.new_chunks += chunks

    def _add_documents(
        self, file_id: int, path: Path, field: str, bar: IndexProgress
    ) -> tuple[int, int]:
        pending: _Pending = []
        documents = chunks = 0
        for document in read_documents(path, field):
            documents += 1
            for chunk in chunk_text(
                document.text, self.count, max_tokens=self.chunk_tokens, overlap=self.overlap
            ):
                pending.append((document, chunk.text, chunk.position, chunk.start, chunk.end))
            if len(pending) >= _BATCH:
                chunks += self._flush(file_id, pending)
                pending = []
            bar.document_done()
        chunks += self._flush(file_id, pending)
        return documents, chunks

    def _flush(self, file_id: int, pending: _Pending) -> int:
        if not pending:
            return 0
        # The title travels with every passage: a later chunk of an article rarely names
        # its subject, and both retrievers need to know what it is about.
        framed = [f"{doc.title}\n{text}" for doc, text, *_ in pending]
        vectors = self.embedder.embed_passages(framed) if self.embedder is not None else None
        rows = [
            NewChunk(
                source=doc.source,
                title=doc.title,
                position=position,
                char_start=start,
                char_end=end,
                text=text,
                terms=fts_document(framed[i]),
                vector=None if vectors is None else vectors[i].astype(np.float32).tobytes(),
            )
            for i, (doc, text, position, start, end) in enumerate(pending)
        ]
        self.store.add_chunks(file_id, rows)
        return len(rows)
