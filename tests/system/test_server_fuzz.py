"""A schema fuzz of the server (schemathesis): over a thousand generated requests, valid and
not, against every route of the OpenAPI schema on the scripted backend. No answer may be a
5xx, and the server must still answer afterwards."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from murmurnet import RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.server import create_app

RUNTIME = Runtime(RunConfig(), backends={"default": ScriptedBackend(lambda _: "Answer: 4")})
APP = create_app(RUNTIME, max_runs=64)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
EXAMPLES_PER_ROUTE = 250
CASES: list[int] = []


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    CASES.append(response.status_code)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])


def test_the_fuzz_was_large_and_the_server_still_answers() -> None:
    from fastapi.testclient import TestClient

    assert len(CASES) >= 1000, len(CASES)
    with TestClient(APP) as client:
        assert client.get("/health").status_code == 200
        chat = {"model": "murmur", "messages": [{"role": "user", "content": "What is 2 + 2?"}]}
        assert client.post("/v1/chat/completions", json=chat).status_code == 200
