"""The directions the package tree promises a newcomer, enforced on every import
(function-level imports included)."""

from __future__ import annotations

import ast
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from murmurnet import ModelSpec, RunConfig, ScriptedBackend
from murmurnet.models import registry

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "murmurnet"
CORE = ["question.py", "roles", "blackboard", "murmur", "events", "answers.py", "api.py"]
BACKENDS = [
    "murmurnet.models.llama",
    "murmurnet.models.transformers",
    "murmurnet.models.openai_http",
    "murmurnet.models.openai_batch",
    "murmurnet.models.scripted",
    "murmurnet.distributed.pool",
]
EDGES = ["murmurnet.cli", "murmurnet.server", "murmurnet.evaluation"]


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(*parts: str) -> list[Path]:
    paths: list[Path] = []
    for part in parts:
        target = PACKAGE / part
        paths.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return paths


def offending(paths: list[Path], forbidden: list[str]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in paths
        for name in sorted(imports_of(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_the_core_never_imports_a_backend_the_cli_or_the_eval_harness() -> None:
    assert offending(modules(*CORE), [*BACKENDS, *EDGES]) == []


def test_config_is_a_leaf() -> None:
    assert offending(modules("config"), ["murmurnet.models", "llama_cpp", "torch"]) == []


def test_a_backend_knows_no_blackboard() -> None:
    backends = [p for p in modules("models") if p.name not in ("registry.py", "resolve.py")]
    assert offending(backends, ["murmurnet.blackboard", "murmurnet.murmur"]) == []


def test_modules_stay_small() -> None:
    large = [
        f"{p.relative_to(PACKAGE)}: {n}"
        for p in modules(".")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 420
    ]
    assert large == []


def test_backends_come_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party package plugs in by declaring an entry point, nothing else."""
    assert {"llama_cpp", "transformers", "openai", "pool", "scripted"} <= set(
        registry.backend_types()
    )
    made: list[ModelSpec] = []

    def factory(spec: ModelSpec, options: object) -> ScriptedBackend:
        made.append(spec)
        return ScriptedBackend(["from the plugin"])

    module = type(registry)("murmurnet_plugin_example")
    module.create = factory  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "murmurnet_plugin_example", module)
    plugin = EntryPoint(
        name="example", value="murmurnet_plugin_example:create", group=registry.ENTRY_POINT_GROUP
    )
    real = registry.entry_points
    monkeypatch.setattr(registry, "entry_points", lambda group: [*real(group=group), plugin])
    pool = registry.ModelPool(RunConfig(models={"mine": {"type": "example"}}))
    backend = pool.get("mine")
    assert backend.generate([])[:0] == [] and made[0].type == "example"
