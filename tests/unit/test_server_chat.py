"""The OpenAI-compatible chat route on the scripted backend: shapes the `openai` client and
Open WebUI read, streaming deltas, usage, errors and the API key."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from murmurnet import GenerationRequest, RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.server import create_app


def reply(request: GenerationRequest) -> str:
    return f"Paris is the capital of France. ({request.tag})"


@pytest.fixture
def fake() -> ScriptedBackend:
    return ScriptedBackend(reply, word_delay=1e-4)


def client_for(fake: ScriptedBackend, config: RunConfig | None = None, **kw: object) -> TestClient:
    runtime = Runtime(config or RunConfig(), backends={"default": fake})
    return TestClient(create_app(runtime, **kw))  # type: ignore[arg-type]


@pytest.fixture
def client(fake: ScriptedBackend) -> Iterator[TestClient]:
    with client_for(fake) as client:
        yield client


def chat(**fields: object) -> dict[str, object]:
    return {
        "model": "qwen2.5-0.5b",
        "messages": [{"role": "user", "content": "Hi there"}],
        **fields,
    }


def events(response_text: str) -> list[str]:
    return [line[6:] for line in response_text.splitlines() if line.startswith("data: ")]


def test_a_plain_model_answers_with_usage_and_finish_reason(
    client: TestClient, fake: ScriptedBackend
) -> None:
    response = client.post("/v1/chat/completions", json=chat())
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["object"] == "chat.completion" and data["id"].startswith("chatcmpl-")
    (choice,) = data["choices"]
    assert choice["message"] == {"role": "assistant", "content": reply(fake.requests[0])}
    assert choice["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_a_stream_sends_deltas_then_the_finish_then_usage_then_done(
    client: TestClient, fake: ScriptedBackend
) -> None:
    body = chat(stream=True, stream_options={"include_usage": True})
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        lines = events(response.read().decode())
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert "".join(deltas) == reply(fake.requests[0])
    assert len([d for d in deltas if d]) > 3  # pieces as generated, never the whole again
    *_, finish, usage = chunks
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] > 0


def test_without_include_usage_no_usage_chunk(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json=chat(stream=True))
    chunks = [json.loads(line) for line in events(response.text)[:-1]]
    assert all(chunk["choices"] for chunk in chunks)


def test_a_token_limit_is_finish_reason_length() -> None:
    fake = ScriptedBackend(reply, honour_limits=True)
    with client_for(fake) as client:
        data = client.post("/v1/chat/completions", json=chat(max_tokens=3)).json()
    assert data["choices"][0]["finish_reason"] == "length"
    assert fake.requests[0].max_tokens == 3


def test_stop_strings_cut_the_reply(client: TestClient) -> None:
    data = client.post("/v1/chat/completions", json=chat(stop=["capital"])).json()
    assert data["choices"][0]["message"]["content"] == "Paris is the "
    streamed = client.post("/v1/chat/completions", json=chat(stop="capital", stream=True))
    chunks = [json.loads(line) for line in events(streamed.text)[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Paris is the "
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_earlier_messages_are_the_conversation(client: TestClient, fake: ScriptedBackend) -> None:
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "My name is Aiko."},
        {"role": "assistant", "content": "Nice to meet you, Aiko."},
        {"role": "user", "content": [{"type": "text", "text": "What is my name?"}]},
    ]
    response = client.post("/v1/chat/completions", json=chat(messages=messages))
    assert response.status_code == 200
    prompt = "\n".join(m.content for m in fake.requests[0].messages)
    assert "My name is Aiko." in prompt and "Nice to meet you, Aiko." in prompt
    assert "Answer briefly.\nWhat is my name?" in prompt  # system text, then the question


def test_models_lists_profiles_and_models(fake: ScriptedBackend) -> None:
    config = RunConfig(profiles={"deep": {"agents": 4, "iterations": 2}})
    with client_for(fake, config) as client:
        data = client.get("/v1/models").json()
    assert data["object"] == "list"
    ids = [card["id"] for card in data["data"]]
    assert ids[:2] == ["murmur", "deep"] and "qwen2.5-0.5b" in ids
    assert all(card["object"] == "model" and card["created"] > 0 for card in data["data"])


def test_a_murmur_profile_runs_its_settings(fake: ScriptedBackend) -> None:
    config = RunConfig(profiles={"deep": {"agents": 3, "iterations": 2, "summary": False}})
    with client_for(fake, config) as client:
        body = chat(model="deep", messages=[{"role": "user", "content": "Tell me about Paris."}])
        assert client.post("/v1/chat/completions", json=body).status_code == 200
    tags = [r.tag for r in fake.requests]
    assert [t for t in tags if t and t.startswith("round 2/")] == [
        "round 2/agent 1",
        "round 2/agent 2",
        "round 2/agent 3",
    ]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (chat(model="nope"), 404, "does not exist"),
        (chat(messages=[]), 400, "messages"),
        (chat(temperature=3), 400, "temperature"),
        (chat(messages=[{"role": "assistant", "content": "hi"}]), 400, "last message"),
        (chat(messages=[{"role": "user", "content": "x" * 200_001}]), 400, "characters"),
        ({"messages": "hello"}, 400, "model"),
    ],
)
def test_bad_requests_are_openai_shaped_errors(
    client: TestClient, body: dict[str, object], status: int, fragment: str
) -> None:
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error["message"] and error["type"] == "invalid_request_error"


def test_malformed_json_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and "error" in response.json()


def test_an_api_key_guards_every_route_but_the_probes(fake: ScriptedBackend) -> None:
    with client_for(fake, api_key="s3cret") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code in (200, 503)  # loading or ready, never 401
        denied = client.get("/v1/models")
        assert denied.status_code == 401
        assert denied.json()["error"]["code"] == "invalid_api_key"
        assert client.post("/v1/chat/completions", json=chat()).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/v1/models", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert client.get("/v1/models", headers=right).status_code == 200


def test_ready_once_the_default_model_is_loaded(client: TestClient) -> None:
    for _ in range(100):
        response = client.get("/ready")
        if response.status_code == 200:
            break
    assert response.json() == {"status": "ready"}
