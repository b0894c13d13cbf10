"""What the CPU allows llama.cpp: its AMX kernels crash on the bundled models."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import llama_cpp

log = logging.getLogger("murmurnet.llama")


@functools.cache
def has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU offers Intel AMX's int8 tiles (Sapphire Rapids and later Xeons), as
    Linux reports it; False where there is no /proc/cpuinfo to read."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return any(
        line.startswith("flags") and "amx_int8" in line.split() for line in text.splitlines()
    )


def model_params(amx: bool | None = None) -> Any:
    """llama.cpp's default model parameters, without its extra weight layouts on an AMX CPU.

    On a CPU with AMX, llama.cpp lays the weights out for its AMX kernels, and their matrix
    multiply crashes the process (SIGSEGV in `ggml_backend_amx_mul_mat`) on the bundled
    models' Q4 weights at the first decode: ggml-org/llama.cpp#20824, open, seen here on a
    Xeon with `amx_int8` and llama-cpp-python 0.3.36. Without extra buffer types the
    ordinary AVX-512 kernels run the same model correctly. Elsewhere the defaults stay, so
    other CPUs keep the repacked layouts that speed up their prompt decoding."""
    params = llama_cpp.llama_model_default_params()
    amx = has_amx() if amx is None else amx
    if amx:
        log.debug("AMX CPU: llama.cpp's AMX weight layout is off (llama.cpp#20824)")
        params.use_extra_bufts = False
    return params
