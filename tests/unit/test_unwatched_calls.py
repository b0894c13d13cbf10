"""A model call gets a token callback only when someone is listening (a subscriber, or the
caller's own sink): a backend may then retry a call whose text nobody has seen (the pool
sends it to another endpoint), which it must not once text was shown."""

from __future__ import annotations

from collections.abc import Sequence

from murmurnet import RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.cancellation import Cancellation
from murmurnet.events import RunEvent
from murmurnet.models.base import TokenCallback
from murmurnet.types import Completion, GenerationRequest


class Recording(ScriptedBackend):
    def __init__(self) -> None:
        super().__init__(lambda request: "Paris is the capital. Answer: Paris")
        self.callbacks: list[bool] = []

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        self.callbacks.append(on_token is not None)
        return super().generate(requests, on_token, cancel)


def runtime(backend: Recording) -> Runtime:
    return Runtime(RunConfig(agents=2, iterations=2), backends={"default": backend})


def test_no_call_gets_a_callback_when_nobody_listens() -> None:
    backend = Recording()
    runtime(backend).run("Explain why the sky is blue.")
    assert backend.callbacks and not any(backend.callbacks)


def test_every_call_streams_to_a_subscriber_and_the_answer_to_the_callers_sink() -> None:
    backend = Recording()
    watched = runtime(backend)
    seen: list[RunEvent] = []
    watched.subscribe(seen.append)
    watched.run("Explain why the sky is blue.")
    assert backend.callbacks and all(backend.callbacks)
    alone, pieces = Recording(), []
    runtime(alone).run("Explain why the sky is blue.", on_token=pieces.append)
    assert alone.callbacks[-1] and not any(alone.callbacks[:-1])  # only the answer streams
    assert "".join(pieces)
