"""A model deployed on Ray Serve, as a `Backend` of the unchanged pipeline.

Each call (a round of agents, one batch) is ONE Serve request, so Serve routes it whole to
one replica, which runs the batch in its engine and decodes the agents' shared prompt once.

Failover. A replica can die while it runs a round (its node goes, it is killed, it runs out
of memory). Serve then fails the request in flight; this backend sends the same batch again
and Serve routes it to a live replica (it restarts the dead one within seconds). That is
safe because a batch is idempotent from the blackboard's side: the pipeline writes a round
to the blackboard only after `generate` has returned all of it, so a retried round is
written once, and a round that fails everywhere is written not at all.

Streaming. A batch of several requests (a round) is sent whole and its text reaches
`on_token` when it returns, so a retry can never show an agent's text twice. A single
request (the output agent, a summary) streams. When its replica dies after some text was
shown, the retry's text is passed on only past what was shown, if it repeats it (greedy,
seeded and scripted models do); a retry that says something else ends the call with
`BackendFailedError` rather than show the caller an answer that is not the one returned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from ray import exceptions as ray_errors
from ray.serve.handle import DeploymentHandle

from murmurnet.cancellation import Cancellation
from murmurnet.config.ray_serve import RayServeSettings
from murmurnet.distributed.ray_replica import Failure, ModelInfo
from murmurnet.errors import BackendFailedError, BackendUnavailableError
from murmurnet.models.base import Backend, TokenCallback
from murmurnet.types import Completion, ContinuationScore, GenerationRequest, Message

log = logging.getLogger("murmurnet.ray")
T = TypeVar("T")
REPLICA_GONE = (
    ray_errors.RayActorError,  # died or unreachable: ActorDiedError, ActorUnavailableError
    ray_errors.WorkerCrashedError,
    ray_errors.NodeDiedError,
    ray_errors.ObjectLostError,
)
"""Failures of the replica, not of the request: the batch is sent again."""
COUNT_CACHE = 4096
"""Token counts remembered: the pipeline counts the same notes again and again, and each
count would otherwise be a call to a replica."""


class RayModel:
    """One model deployment; safe to call from many threads (each run has its own)."""

    def __init__(
        self,
        handle: DeploymentHandle[Any],
        info: ModelInfo,
        settings: RayServeSettings | None = None,
    ) -> None:
        self.name = info.name
        self.info = info
        self.can_batch = info.can_batch
        self.context_size = info.context_size
        self.settings = settings or RayServeSettings()
        self.deployment = handle.deployment_name
        self._handle = handle
        self._streaming = handle.options(stream=True)
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()
        self.failovers = 0
        """Calls sent again after their replica died (for logs and tests)."""

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        batch = list(requests)
        if not batch:
            return []
        if on_token is not None and len(batch) == 1:
            return self._streamed(batch, on_token, cancel)
        completions: list[Completion] = self._call(
            lambda: self._handle.generate.remote(batch), cancel
        )
        if on_token is not None:
            for index, completion in enumerate(completions):
                if completion.text:
                    on_token(index, completion.text)
        return completions

    def count_tokens(self, text: str) -> int:
        with self._lock:
            if text in self._counts:
                self._counts.move_to_end(text)
                return self._counts[text]
        counts: list[int] = self._call(lambda: self._handle.count_tokens.remote([text]), None)
        with self._lock:
            self._counts[text] = counts[0]
            while len(self._counts) > COUNT_CACHE:
                self._counts.popitem(last=False)
        return counts[0]

    def close(self) -> None:
        """The deployment outlives this handle: Serve owns its replicas."""

    def _call(self, send: Callable[[], Any], cancel: Cancellation | None) -> Any:
        """One Serve request, sent again (to whichever replica Serve picks) while replicas
        die under it, within `attempts` and `retry_seconds`."""
        return self._retrying(lambda: self._wait(send(), cancel), cancel)

    def _retrying(self, attempt: Callable[[], T | Failure], cancel: Cancellation | None) -> T:
        settings = self.settings
        deadline = time.monotonic() + settings.retry_seconds
        tries = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            tries += 1
            try:
                value = attempt()
            except REPLICA_GONE as exc:
                why = _short(exc)
                if tries >= settings.attempts or time.monotonic() >= deadline:
                    raise BackendUnavailableError(
                        f"model {self.name!r} ({self.deployment}): no replica finished the "
                        f"call in {tries} tries; last: {why}",
                        hint="see `serve status` on the Ray cluster",
                    ) from None
                with self._lock:
                    self.failovers += 1
                log.warning("%s: a replica failed (%s); sending the call again", self.name, why)
                # Serve needs a moment to drop the dead replica from its routing.
                time.sleep(min(0.25 * 2 ** (tries - 1), 2.0))
                continue
            except ray_errors.TaskCancelledError:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                raise BackendFailedError(f"model {self.name!r}: the call was cancelled") from None
            except ray_errors.RayTaskError as exc:
                raise BackendFailedError(
                    f"model {self.name!r} failed in its replica: {_short(exc)}"
                ) from None
            if isinstance(value, Failure):
                raise value.error()
            return value

    @staticmethod
    def _wait(response: Any, cancel: Cancellation | None) -> Any:
        if cancel is None:
            return response.result()
        remove = cancel.on_cancel(response.cancel)
        try:
            return response.result()
        except Exception:
            cancel.raise_if_cancelled()
            raise
        finally:
            remove()

    def _streamed(
        self, batch: list[GenerationRequest], on_token: TokenCallback, cancel: Cancellation | None
    ) -> list[Completion]:
        shown: dict[int, str] = {}  # what the caller has seen of each request, over attempts

        def attempt() -> list[Completion] | Failure:
            made: dict[int, str] = {}  # what this attempt has made so far
            stream = self._streaming.generate_stream.remote(batch)
            remove = cancel.on_cancel(stream.cancel) if cancel is not None else lambda: None
            try:
                for kind, value in _messages(stream, cancel):
                    if kind != "pieces":
                        if isinstance(value, list):
                            self._check_whole(value, shown)
                        return value  # type: ignore[no-any-return]
                    for index, piece in value:
                        made[index] = made.get(index, "") + piece
                        self._pass_on(index, made[index], shown, on_token, stream)
            finally:
                remove()
            raise BackendFailedError(f"model {self.name!r}: the stream ended without an answer")

        return self._retrying(attempt, cancel)

    def _check_whole(self, completions: list[Completion], shown: dict[int, str]) -> None:
        """A retry that stopped short of what an earlier attempt showed would return less
        than the caller saw."""
        for index, seen in shown.items():
            if not completions[index].text.startswith(seen):
                raise BackendFailedError(
                    f"model {self.name!r}: a replica died while its answer was being "
                    "streamed, and the retry's answer is shorter than what was shown",
                    hint="set a seed, or ask without streaming, to make retries repeat",
                )

    def _pass_on(
        self,
        index: int,
        made: str,
        shown: dict[int, str],
        on_token: TokenCallback,
        stream: Any,
    ) -> None:
        """Hand on what this attempt made beyond what the caller saw; a retry whose text
        departs from what was shown cannot be hidden, so it ends the call."""
        seen = shown.get(index, "")
        if not (made.startswith(seen) or seen.startswith(made)):
            stream.cancel()
            raise BackendFailedError(
                f"model {self.name!r}: a replica died while its answer was being streamed, "
                "and the retry's answer differs from what was shown",
                hint="set a seed, or ask without streaming, to make retries repeat",
            )
        if len(made) > len(seen):
            shown[index] = made
            on_token(index, made[len(seen) :])


class ScoringRayModel(RayModel):
    """A deployed model whose replicas can score continuations (llama.cpp)."""

    @property
    def is_chat(self) -> bool:
        return self.info.is_chat

    def score(
        self,
        messages: Sequence[Message],
        continuations: Sequence[str],
        cancel: Cancellation | None = None,
    ) -> list[ContinuationScore]:
        sent, options = list(messages), list(continuations)
        scores: list[ContinuationScore] = self._call(
            lambda: self._handle.score.remote(sent, options), cancel
        )
        return scores


def ray_model(
    handle: DeploymentHandle[Any], info: ModelInfo, settings: RayServeSettings | None = None
) -> Backend:
    """The backend for a deployment: with `score` only when its model can score, so the
    pipeline's check for a scorer tells the truth."""
    kind = ScoringRayModel if info.can_score else RayModel
    return kind(handle, info, settings)


def _messages(stream: Any, cancel: Cancellation | None) -> Iterator[tuple[str, Any]]:
    try:
        yield from stream
    except Exception:
        if cancel is not None:
            cancel.raise_if_cancelled()
        raise


def _short(exc: BaseException) -> str:
    """The first line of Ray's (long, multi-line) error text, with its type."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
