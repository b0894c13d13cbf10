"""The on-disk index of one knowledge base: a single SQLite file.

SQLite gives per-file transactions (an interrupted `index` run leaves every finished file
searchable and no half-indexed one), FTS5's BM25 for the lexical side without another
dependency, and a file a user can copy or delete. Chunk text is stored pre-tokenised
(see lexical.py) because FTS5's own tokenizers do not segment Japanese.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from murmurnet.errors import ConfigError

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    documents INTEGER NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    position INTEGER NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS lexical
    USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');
"""


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    sha256: str
    size: int
    mtime_ns: int
    documents: int
    chunks: int


@dataclass(frozen=True)
class StoredChunk:
    id: int
    source: str
    title: str
    position: int
    char_start: int
    char_end: int
    text: str


@dataclass(frozen=True)
class NewChunk:
    source: str
    title: str
    position: int
    char_start: int
    char_end: int
    text: str
    terms: str
    vector: bytes | None


class Store:
    """One SQLite connection, shared by threads under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{path}: not a usable knowledge base index ({exc})") from exc
        version = self.get_meta("schema")
        if version is None:
            self.set_meta("schema", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise ConfigError(
                f"{path}: index format {version} is not {SCHEMA_VERSION}",
                hint="remove it with `murmurnet index --remove NAME` and index again",
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; a write SQLite refuses (disk full, read-only file, locked by
        another run) is a ConfigError naming the index, and the transaction is rolled back.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    self._rollback()
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise ConfigError(
                    f"{self.path}: cannot write the knowledge base index ({exc})",
                    hint="check the free disk space and the folder's permissions",
                ) from exc

    def _rollback(self) -> None:
        # After some errors (a full disk) SQLite has already rolled back by itself.
        if self._db.in_transaction:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def files(self) -> list[FileRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, path, sha256, size, mtime_ns, documents, chunks"
                " FROM files ORDER BY path"
            ).fetchall()
        return [FileRecord(*row) for row in rows]

    def remove_file(self, file_id: int) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM lexical WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)",
                (file_id,),
            )
            self._db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
            self._db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def add_file(self, path: str, sha256: str, size: int, mtime_ns: int) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO files(path, sha256, size, mtime_ns) VALUES (?, ?, ?, ?)",
                (path, sha256, size, mtime_ns),
            )
        return int(cursor.lastrowid or 0)

    def finish_file(self, file_id: int, documents: int, chunks: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE files SET documents = ?, chunks = ? WHERE id = ?",
                (documents, chunks, file_id),
            )

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id)
            )

    def add_chunks(self, file_id: int, chunks: Sequence[NewChunk]) -> None:
        with self._lock:
            for chunk in chunks:
                cursor = self._db.execute(
                    "INSERT INTO chunks(file_id, source, title, position, char_start, char_end,"
                    " text, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        file_id,
                        chunk.source,
                        chunk.title,
                        chunk.position,
                        chunk.char_start,
                        chunk.char_end,
                        chunk.text,
                        chunk.vector,
                    ),
                )
                self._db.execute(
                    "INSERT INTO lexical(rowid, terms) VALUES (?, ?)",
                    (cursor.lastrowid, chunk.terms),
                )

    def lexical(self, match: str, limit: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) for an FTS5 query, best first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, bm25(lexical) FROM lexical WHERE lexical MATCH ?"
                " ORDER BY bm25(lexical) LIMIT ?",
                (match, limit),
            ).fetchall()
        return [(int(row[0]), -float(row[1])) for row in rows]

    def terms(self, ids: Sequence[int]) -> dict[int, set[str]]:
        """The stored lexical terms of some chunks, to check how much of a question they cover."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, terms FROM lexical WHERE rowid IN ({marks})", tuple(ids)
            ).fetchall()
        return {int(row[0]): set(str(row[1]).split(" ")) for row in rows}

    def vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, matrix of unit vectors) of every chunk that has one."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, vector FROM chunks WHERE vector IS NOT NULL ORDER BY id"
            ).fetchall()
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        matrix = np.zeros((len(rows), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            matrix[i] = np.frombuffer(row[1], dtype=np.float32, count=dim)
        return ids, matrix

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT id, source, title, position, char_start, char_end, text FROM chunks"
                f" WHERE id IN ({marks})",
                tuple(ids),
            ).fetchall()
        return {int(row[0]): StoredChunk(*row) for row in rows}

    def counts(self) -> tuple[int, int]:
        """(files, chunks) in the index."""
        with self._lock:
            files = self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
            chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(files), int(chunks)
