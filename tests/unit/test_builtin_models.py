"""Assembling bundled models from chunk packages: verified, atomic, never half-written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from murmurnet.errors import ModelFileError, ModelPackageMissingError
from murmurnet.models import builtin


def fake_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes]
) -> builtin.BundledModel:
    packages = tmp_path / "site"
    for k, chunk in enumerate(chunks, 1):
        data = packages / f"fake_chunk_{k}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{k:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(packages))
    whole = b"".join(chunks)
    return builtin.BundledModel(
        name="fake",
        description="fake",
        filename="fake.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        parts=tuple(
            (f"fake_chunk_{k}", f"data/part{k:02d}.bin") for k in range(1, len(chunks) + 1)
        ),
        pip_packages=("fake-chunk-1==1",),
        template="auto",
    )


def test_assembles_in_order_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fake_model(tmp_path, monkeypatch, [b"GGUF-a" * 1000, b"b" * 5000, b"c" * 7])
    cache = tmp_path / "cache"
    assert builtin.state(model, cache) == "assemble on first use"
    path = builtin.ensure_assembled(model, cache, progress=False)
    assert path.read_bytes() == b"GGUF-a" * 1000 + b"b" * 5000 + b"c" * 7
    assert builtin.state(model, cache) == "ready"
    assert builtin.ensure_assembled(model, cache, progress=False) == path
    assert [p.name for p in path.parent.iterdir() if "partial" in p.name] == []


def test_wrong_hash_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fake_model(tmp_path, monkeypatch, [b"x" * 100])
    broken = builtin.BundledModel(**{**model.__dict__, "sha256": "0" * 64})
    cache = tmp_path / "cache"
    with pytest.raises(ModelFileError, match="wrong sha256"):
        builtin.ensure_assembled(broken, cache, progress=False)
    assert list((cache / "models").iterdir()) == []


def test_truncated_or_tampered_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = fake_model(tmp_path, monkeypatch, [b"y" * 100])
    cache = tmp_path / "cache"
    path = builtin.ensure_assembled(model, cache, progress=False)
    path.write_bytes(b"y" * 50)
    with pytest.raises(ModelFileError, match="truncated"):
        builtin.ensure_assembled(model, cache, progress=False)
    path.write_bytes(b"z" * 100)
    with pytest.raises(ModelFileError, match="wrong sha256"):
        builtin.ensure_assembled(model, cache, progress=False)


def test_missing_package_names_the_pip_command(tmp_path: Path) -> None:
    model = builtin.BundledModel(
        name="ghost",
        description="",
        filename="g.gguf",
        size=1,
        sha256="0" * 64,
        parts=(("no_such_chunk_pkg", "data/x.bin"),),
        pip_packages=("no-such-chunk-pkg==1",),
        template="auto",
    )
    assert builtin.state(model, tmp_path) == "package missing"
    with pytest.raises(ModelPackageMissingError, match="no-such-chunk-pkg"):
        builtin.ensure_assembled(model, tmp_path, progress=False)


def test_interrupted_assembly_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = fake_model(tmp_path, monkeypatch, [b"a" * 100, b"b" * 100])
    calls = {"n": 0}
    real_sha = hashlib.sha256

    class Exploding:
        def __init__(self) -> None:
            self._inner = real_sha()

        def update(self, block: bytes) -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
            self._inner.update(block)

        def hexdigest(self) -> str:
            return self._inner.hexdigest()

    monkeypatch.setattr(builtin.hashlib, "sha256", Exploding)
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        builtin.ensure_assembled(model, cache, progress=False)
    assert list((cache / "models").iterdir()) == []
