"""`/v1/murmur`: a run's whole blackboard, its live events replayed to late subscribers, and
the server's limits (429 when full, 413 for a huge body)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from murmurnet import GenerationRequest, RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.server import create_app


def reply(request: GenerationRequest) -> str:
    return f"A thought from {request.tag}."


def client_for(fake: ScriptedBackend, **kw: object) -> TestClient:
    runtime = Runtime(RunConfig(), backends={"default": fake})
    return TestClient(create_app(runtime, **kw))  # type: ignore[arg-type]


def sse(text: str) -> list[tuple[str, dict[str, object]]]:
    found = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        found.append((lines["event"], json.loads(lines["data"])))
    return found


@pytest.mark.usefixtures("open_discussion")
def test_a_murmur_returns_its_whole_blackboard() -> None:
    with client_for(ScriptedBackend(reply)) as client:
        response = client.post("/v1/murmur", json={"question": "Tell me about Kyoto."})
    assert response.status_code == 200, response.text
    data = response.json()
    kinds = [entry["kind"] for entry in data["entries"]]
    assert kinds[0] == "question" and "contribution" in kinds and "summary" in kinds
    assert kinds[-1] == "final" and data["text"]
    assert data["usage"]["completion_tokens"] > 0 and data["stage_seconds"]


def test_events_stream_live_and_replay_to_a_late_subscriber() -> None:
    with client_for(ScriptedBackend(reply, word_delay=1e-3)) as client:
        started = client.post(
            "/v1/murmur", json={"question": "Tell me about Kyoto.", "wait": False}
        )
        assert started.status_code == 202
        run_id = started.json()["id"]
        live = sse(client.get(f"/v1/murmur/{run_id}/events").text)
        late = sse(client.get(f"/v1/murmur/{run_id}/events").text)
        answer = client.get(f"/v1/murmur/{run_id}").json()
    names = [name for name, _ in live]
    assert names[0] == "run_started" and names[-2:] == ["run_finished", "end"]
    assert names.index("token") < names.index("run_finished")
    assert late == live  # everything already written, in order
    assert answer["run_id"] == run_id and answer["text"]


def test_an_unknown_run_is_a_404() -> None:
    with client_for(ScriptedBackend(reply)) as client:
        response = client.get("/v1/murmur/nope/events")
    assert response.status_code == 404 and response.json()["error"]["code"] == "run_not_found"


def test_a_full_server_answers_429_with_retry_after() -> None:
    slow = ScriptedBackend(reply, word_delay=0.05)
    with client_for(slow, max_runs=1) as client:
        first = client.post("/v1/murmur", json={"question": "Tell me about Kyoto.", "wait": False})
        assert first.status_code == 202
        busy = client.post(
            "/v1/chat/completions",
            json={"model": "murmur", "messages": [{"role": "user", "content": "Hi"}]},
        )
        assert busy.status_code == 429 and busy.headers["retry-after"]
        assert busy.json()["error"]["code"] == "queue_full"
        client.get(f"/v1/murmur/{first.json()['id']}/events")  # until the first run ends
        after = client.post("/v1/murmur", json={"question": "Tell me about Nara."})
        assert after.status_code == 200  # its place was given back


def test_a_huge_body_is_a_413() -> None:
    with client_for(ScriptedBackend(reply)) as client:
        response = client.post("/v1/murmur", content=b"x" * 2_000_000)
    assert response.status_code == 413 and "error" in response.json()


@pytest.mark.usefixtures("open_discussion")
def test_metrics_follow_the_runs() -> None:
    with client_for(ScriptedBackend(reply), api_key="k") as client:
        auth = {"Authorization": "Bearer k"}
        assert client.post("/v1/murmur", json={"question": "Tell me about Kyoto."}, headers=auth)
        chat = {"model": "murmur", "messages": [{"role": "user", "content": "What is 6 times 7?"}]}
        assert client.post("/v1/chat/completions", json=chat, headers=auth).status_code == 200
        client.get("/v1/models")  # refused: counted as a 401
        text = client.get("/metrics", headers=auth).text
    assert (
        'murmurnet_http_requests_total{profile="murmur",route="/v1/murmur",status="200"} 1.0'
        in text
    )
    assert 'route="/v1/models",status="401"' in text
    assert 'murmurnet_runs_total{outcome="finished",strategy="murmur"} 2.0' in text
    assert 'murmurnet_generated_tokens_total{role="researcher",stage="round"}' in text
    assert "murmurnet_run_duration_seconds_count" in text
    assert 'murmurnet_agreements_total{outcome="committed",protocol="vote"} 1.0' in text
    assert "murmurnet_runs_in_progress 0.0" in text


def test_metrics_can_be_turned_off() -> None:
    config = RunConfig(monitoring={"enable_prometheus": False})
    runtime = Runtime(config, backends={"default": ScriptedBackend(reply)})
    with TestClient(create_app(runtime)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/health").status_code == 200


def test_the_live_page_is_served_without_the_key() -> None:
    with client_for(ScriptedBackend(reply), api_key="k") as client:
        page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/v1/murmur" in page.text and "Authorization" in page.text
