"""Optional dependencies of the knowledge base, imported only when a feature needs them.

A user who never indexes a PDF should not need pypdf installed, and one who does should be
told the exact command, not shown an ImportError from deep inside a reader.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from murmurnet.errors import MissingDependencyError

RAG_HINT = "pip install 'murmurnet[rag]'"


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` or fail with the install command; `purpose` says what needed it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise MissingDependencyError(
            f"{purpose} needs the package {package!r}, which is not installed", hint=RAG_HINT
        ) from exc
