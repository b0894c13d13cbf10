"""What the knowledge base returns: passages with every score, and indexing reports.

Passages carry the lexical and dense scores and ranks next to the fused one so that a user
(`murmurnet search`) or `ask --json` can see why a passage was cited.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Passage(BaseModel):
    """One retrieved chunk. `position` is its index in the document; offsets are characters."""

    model_config = ConfigDict(frozen=True)

    text: str
    source: str = Field(
        description="File path, or path#line (JSONL), #page=N (PDF), #article (ZIM)."
    )
    title: str
    position: int = Field(description="Index of this chunk within its document, from 0.")
    char_start: int = Field(description="Offset of the chunk's first character in the document.")
    char_end: int
    rank: int = Field(description="1 for the best passage.")
    fused_score: float = Field(description="Reciprocal-rank fusion of the two rankings.")
    lexical_score: float | None = Field(None, description="BM25; None: not a lexical candidate.")
    dense_score: float | None = Field(None, description="Cosine; None: not a dense candidate.")
    lexical_rank: int | None = None
    dense_rank: int | None = None


class IndexReport(BaseModel):
    """What one `add_paths` call did, file by file."""

    kb: str
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(
        default_factory=dict, description="Files skipped as unreadable: file → one-line reason."
    )
    documents: int = Field(0, description="Documents read from added or updated files.")
    new_chunks: int = Field(0, description="Passages written by this run.")
    files: int = Field(0, description="Files in the knowledge base afterwards.")
    chunks: int = Field(0, description="Passages in the knowledge base afterwards.")
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.removed)} removed",
        ]
        if self.failed:
            parts.append(f"{len(self.failed)} skipped (unreadable)")
        return (
            f"{self.kb}: {', '.join(parts)}; {self.new_chunks} new passages; "
            f"{self.files} files, {self.chunks} passages in all ({self.seconds:.1f} s)"
        )


class KbInfo(BaseModel):
    name: str
    path: str
    embedder: str
    files: int
    chunks: int
    size_bytes: int
