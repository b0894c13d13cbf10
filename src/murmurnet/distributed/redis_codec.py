"""How a blackboard entry travels through Redis: JSON, zstd-compressed when it is long.

Never pickle: other processes and nodes read the stream, and unpickling what another
machine wrote runs that machine's code. JSON is also what `redis-cli XRANGE` shows a person
debugging, and what a reader in another language parses.

The version is not in the payload: it is the stream ID (`0-<version>`), which Redis assigns
atomically, so the two can never disagree.
"""

from __future__ import annotations

import json
from typing import Any

import zstandard

from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.errors import BlackboardUnavailableError
from murmurnet.types import BlackboardEntry

JSON_FIELD = b"json"
ZSTD_FIELD = b"zstd"


StreamItem = tuple[bytes, dict[bytes, bytes]]
"""One stream entry as Redis returns it: its ID and its fields."""


def stream_items(reply: Any) -> list[StreamItem]:
    """XRANGE's reply (or one stream of XREAD's), typed; the client declares it loosely."""
    return [(bytes(sid), dict(fields or {})) for sid, fields in reply or []]


def stream_id(version: int) -> str:
    return f"0-{version}"


def version_of(stream_id: bytes | str) -> int:
    text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    return int(text.partition("-")[2])


class Codec:
    """Encodes entries for one deployment's settings; decodes whatever any of them wrote."""

    def __init__(self, settings: BlackboardSettings) -> None:
        self.compress = settings.compression == "zstd"
        self.level = settings.compression_level
        self.above = settings.compress_above

    def encode(self, entry: BlackboardEntry) -> tuple[bytes, bytes]:
        """The stream field and payload of `entry` (its version left out)."""
        data = entry.model_dump(mode="json", exclude={"version"})
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        if self.compress and len(raw) > self.above:
            # A compressor is cheap to make and not safe to share between threads.
            return ZSTD_FIELD, zstandard.ZstdCompressor(level=self.level).compress(raw)
        return JSON_FIELD, raw

    def decode(self, stream_id: bytes | str, fields: dict[bytes, bytes]) -> BlackboardEntry:
        if JSON_FIELD in fields:
            raw = fields[JSON_FIELD]
        elif ZSTD_FIELD in fields:
            raw = zstandard.ZstdDecompressor().decompress(fields[ZSTD_FIELD])
        else:
            names = ", ".join(sorted(f.decode(errors="replace") for f in fields))
            raise BlackboardUnavailableError(
                f"blackboard entry {stream_id!r} has no payload this version reads ({names})",
                hint="was it written by a newer MurmurNet?",
            )
        return BlackboardEntry(version=version_of(stream_id), **json.loads(raw))
