"""Where knowledge bases live and what they are called.

Every knowledge base is one folder, `cache_folder / "kb" / NAME`, so listing is reading a
directory and removing is deleting a folder: no registry file can fall out of step.
Names are restricted so that a name can never point outside that folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from murmurnet.errors import InputError

INDEX_FILE = "index.sqlite"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def kb_root(cache_folder: Path) -> Path:
    return Path(cache_folder).expanduser() / "kb"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(
            f"invalid knowledge base name {name!r}",
            hint="use letters, digits, '.', '_' or '-' (at most 64, not starting with '.')",
        )
    return name


def index_path(cache_folder: Path, name: str) -> Path:
    return kb_root(cache_folder) / check_name(name) / INDEX_FILE


def known_kbs(cache_folder: Path) -> list[str]:
    """Names of the knowledge bases under the cache folder, sorted."""
    root = kb_root(cache_folder)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / INDEX_FILE).is_file())


def unknown_kb(name: str, cache_folder: Path) -> InputError:
    """The error for a name that is not there, listing the ones that are."""
    known = known_kbs(cache_folder)
    listing = ", ".join(known) if known else "none yet"
    return InputError(
        f"unknown knowledge base {name!r} (known: {listing})",
        hint=f"create it with: murmurnet index PATH --kb {name}",
    )


def remove_kb(cache_folder: Path, name: str) -> Path:
    """Delete a knowledge base's folder; returns the folder that was removed."""
    path = index_path(cache_folder, name)
    if not path.is_file():
        raise unknown_kb(name, cache_folder)
    shutil.rmtree(path.parent)
    return path.parent
