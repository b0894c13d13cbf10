"""Which settings, strategy, question text and code produced a stored result.

An evaluation resumes from results.jsonl, so without a record of what produced each reply a
re-run after changing a setting, a prompt or the pipeline would silently report a mix of old
and new answers as one strategy. Each record carries a short hash of everything that can change
its reply; a resumed run reuses only records whose hash equals the current one.

The code version hashes the package's own files (.py and .yaml, prompts and roles included), so
it works from a wheel or a tarball as well as from a git checkout. It hashes what the files
mean, not their bytes: Python as its syntax tree without docstrings, YAML as its data, so a
comment, a docstring or a reformatting does not throw away hours of stored replies.

The modules that only read stored replies (scoring, aggregation, statistics, the report) are
left out: a scoring fix is meant to apply to earlier replies (they are scored again on every
run), not to throw them away. The reading rules themselves (`murmurnet.answers`) do count: the
murmur's vote reads its agents' answers with them, so a change there can change a reply. The
HTTP server, the monitoring files and the other commands are left out too: an evaluation never
runs them, and an evaluation takes hours, so a fix in `serve` must not make it start over.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from murmurnet.config import RunConfig
from murmurnet.evaluation.prompting import QUESTION_RULE_VERSION
from murmurnet.evaluation.variants import Variant

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
CODE_SUFFIXES = (".py", ".yaml")
READ_ONLY_MODULES = frozenset(
    {
        "evaluation/aggregate.py",
        "evaluation/report.py",
        "evaluation/scoring.py",
        "evaluation/stats.py",
    }
)
"""Modules that run only after a reply exists, relative to the package root."""
NOT_IN_AN_EVALUATION = ("server/", "cli/", "monitoring.py")
"""Paths (prefixes, relative to the package root) that an evaluation never runs; of the
commands, `cli/evaluate.py` and `cli/common.py` (which builds its settings) still count."""
EVALUATION_COMMAND = frozenset({"cli/evaluate.py", "cli/common.py"})
NO_EFFECT_SETTINGS = frozenset({"strategy", "debug", "log"})
"""Settings that cannot change a reply: `strategy` is replaced by the strategy actually run,
`debug` and `log` only add output."""
LENGTH = 16


def _digest(parts: list[bytes]) -> str:
    """Each part is length-prefixed, so that moving bytes between parts changes the hash."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _counts(name: str) -> bool:
    """Whether the file at `name` (relative, posix) can change an evaluation's replies."""
    if name in READ_ONLY_MODULES:
        return False
    return name in EVALUATION_COMMAND or not name.startswith(NOT_IN_AN_EVALUATION)


def code_files(root: Path = PACKAGE_ROOT) -> list[Path]:
    """The files whose contents make up the code version, sorted by relative path."""
    found = [
        path
        for path in root.rglob("*")
        if path.suffix in CODE_SUFFIXES
        and path.is_file()
        and "__pycache__" not in path.parts
        and _counts(path.relative_to(root).as_posix())
    ]
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def _without_docstrings(tree: ast.AST) -> ast.AST:
    """The tree without any bare string statement: module, class and function docstrings,
    and the strings that document an attribute or a constant below it."""
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            statements = getattr(node, name, None)
            if isinstance(statements, list):
                kept = [s for s in statements if not _is_bare_string(s)]
                setattr(node, name, kept)
    return tree


def _is_bare_string(statement: object) -> bool:
    value = statement.value if isinstance(statement, ast.Expr) else None
    return isinstance(value, ast.Constant) and isinstance(value.value, str)


def meaning(path: Path) -> bytes:
    """What in a code file can change a reply: a Python file's syntax tree without
    docstrings (comments are not in it), a YAML file's data; the bytes if it does not parse.
    The tree's printed form differs between Python versions, so a run resumed under another
    Python starts over."""
    data = path.read_bytes()
    try:
        if path.suffix == ".py":
            return ast.dump(_without_docstrings(ast.parse(data))).encode("utf-8")
        loaded = yaml.safe_load(data)
        return json.dumps(loaded, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    except (SyntaxError, ValueError, TypeError, yaml.YAMLError):
        return data


def hash_code(root: Path) -> str:
    """A hash of the relative paths and meanings of `code_files(root)`."""
    parts: list[bytes] = []
    for path in code_files(root):
        parts += [path.relative_to(root).as_posix().encode("utf-8"), meaning(path)]
    return _digest(parts)[:LENGTH]


@functools.cache
def code_version() -> str:
    """The installed package's code version, computed once per process."""
    return hash_code(PACKAGE_ROOT)


def settings_of(config: RunConfig) -> dict[str, Any]:
    """The run's settings as JSON data, with the contents of its role files.

    A role file is named by path in the settings, but its text is what shapes the replies.
    """
    data = config.model_dump(mode="json", exclude=set(NO_EFFECT_SETTINGS))
    data["role_files"] = [
        {"path": str(path), "sha256": _file_hash(path)} for path in config.role_files
    ]
    return data


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(meaning(path)).hexdigest()
    except OSError:
        return ""  # the run itself will report a missing role file


def fingerprint(settings: Mapping[str, Any], strategy: str, code: str | None = None) -> str:
    """A short hash of the settings, the strategy, the question rule and the code version."""
    payload = {
        "settings": dict(settings),
        "strategy": strategy,
        "question_rule": QUESTION_RULE_VERSION,
        "code": code if code is not None else code_version(),
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return _digest([text.encode("utf-8")])[:LENGTH]


def fingerprinter(
    config: RunConfig | None, variants: Sequence[Variant] = ()
) -> Callable[[str], str]:
    """Strategy label → fingerprint for runs with `config` (None: code and question rule only).

    A variant is fingerprinted by its base strategy and its effective settings (`config` with
    its overrides), so `self-consistency[samples=3]` and `[samples=6]` never share a record
    while a variant that changes nothing hashes like its plain strategy.
    """
    settings = settings_of(config) if config is not None else {}
    known = {v.label: fingerprint(settings_of(v.config), v.base) for v in variants}
    return lambda label: known[label] if label in known else fingerprint(settings, label)
