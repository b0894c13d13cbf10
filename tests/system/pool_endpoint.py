"""`murmurnet serve` on a scripted model that names its server in every reply, for the
endpoint pool's tests: `python pool_endpoint.py NAME [--hang FILE] -- serve --port P ...`.

With `--hang`, each request writes FILE when it arrives and then waits without sending any
text, so a test can kill the server while a round is known to be in flight on it (before
its first text), instead of hoping a kill lands at the right moment.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from murmurnet import GenerationRequest, ScriptedBackend
from murmurnet.cancellation import Cancellation
from murmurnet.cli import main
from murmurnet.models.base import TokenCallback
from murmurnet.models.registry import register_backend
from murmurnet.types import Completion


class Hanging(ScriptedBackend):
    def __init__(self, name: str, marker: Path) -> None:
        super().__init__(lambda _request: "never sent", name=name)
        self.marker = marker

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        self.marker.write_text("a request is in flight", encoding="utf-8")
        threading.Event().wait()  # until the test kills this process
        raise AssertionError("unreachable")


def run(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--hang", type=Path)
    ours, serve = parser.parse_known_args(argv)
    name: str = ours.name
    reply = f"{name} says water is H2O. Answer: H2O"
    if ours.hang is not None:
        marker: Path = ours.hang
        register_backend("scripted", lambda spec, options: Hanging(name, marker))
    else:
        register_backend(
            "scripted", lambda spec, options: ScriptedBackend(lambda _r: reply, name=name)
        )
    return main([part for part in serve if part != "--"])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
