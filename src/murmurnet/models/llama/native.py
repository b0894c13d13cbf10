"""What the llama.cpp library shares across a process: its log, its exit, raw logits."""

from __future__ import annotations

import atexit
import ctypes
import logging
import weakref
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


def token_logprob(ctx: Any, index: int, n_vocab: int, token: int) -> float:
    """log softmax of batch row `index`'s raw logits at `token`: the model's own view,
    before any penalty, temperature or truncation a sampler applies."""
    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, index), (n_vocab,))
    top = float(row.max())
    return float(row[token]) - top - float(np.log(np.exp(row - top).sum()))
