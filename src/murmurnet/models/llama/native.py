"""What the llama.cpp library shares across a process: its log, its exit, the CPU it runs
on, raw logits."""

from __future__ import annotations

import atexit
import ctypes
import logging
import weakref
from pathlib import Path
from typing import Any, Protocol

import llama_cpp
import numpy as np

_GGML_LOG_ERROR = 4
log = logging.getLogger("murmurnet.llama")


class _Closable(Protocol):
    def close(self) -> None: ...


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _quiet_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp talks a lot on stderr; only its errors reach the user."""
    if level == _GGML_LOG_ERROR:
        log.error(text.decode("utf-8", "replace").rstrip())


llama_cpp.llama_log_set(_quiet_log, ctypes.c_void_p(0))

_LIVE: weakref.WeakSet[Any] = weakref.WeakSet()


def track(engine: _Closable) -> None:
    _LIVE.add(engine)


def untrack(engine: _Closable) -> None:
    _LIVE.discard(engine)


@atexit.register
def _close_all() -> None:
    """A daemon worker still inside llama_decode while the process tears down its libraries
    can crash it: stop every engine's worker before that."""
    for engine in list(_LIVE):
        engine.close()


def has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU offers Intel AMX's int8 tiles (Sapphire Rapids and later Xeons)."""
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
    if has_amx() if amx is None else amx:
        log.info("AMX CPU: llama.cpp's AMX weight layout is off (llama.cpp#20824)")
        params.use_extra_bufts = False
    return params


def token_logprob(ctx: Any, index: int, n_vocab: int, token: int) -> float:
    """log softmax of batch row `index`'s raw logits at `token`: the model's own view,
    before any penalty, temperature or truncation a sampler applies."""
    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, index), (n_vocab,))
    top = float(row.max())
    return float(row[token]) - top - float(np.log(np.exp(row - top).sum()))
