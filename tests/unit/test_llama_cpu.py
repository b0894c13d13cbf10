"""The llama.cpp model parameters follow the CPU: AMX's kernels crash on Q4 weights."""

from __future__ import annotations

from pathlib import Path

from murmurnet.models.llama.cpu import has_amx, model_params

_FLAGS = "flags\t\t: fpu sse2 avx2 avx512f avx512_vnni"


def _cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / f"cpuinfo-{len(flags)}"  # `has_amx` remembers each path's answer
    path.write_text(f"processor\t: 0\nmodel name\t: Xeon amx_int8 edition\n{flags}\n")
    return path


def test_amx_is_read_from_the_flags_line(tmp_path: Path) -> None:
    assert has_amx(_cpuinfo(tmp_path, _FLAGS + " amx_tile amx_int8 amx_bf16"))
    # Only the flags line counts, and only the whole flag.
    assert not has_amx(_cpuinfo(tmp_path, _FLAGS + " amx_int8x"))
    assert not has_amx(_cpuinfo(tmp_path, _FLAGS))


def test_an_unreadable_cpuinfo_means_no_amx(tmp_path: Path) -> None:
    assert not has_amx(tmp_path / "missing")


def test_extra_weight_layouts_are_off_only_on_amx() -> None:
    assert model_params(amx=True).use_extra_bufts is False
    assert model_params(amx=False).use_extra_bufts is True
