"""`murmurnet serve` on the bundled model, driven by the real `openai` client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from murmurnet.config import default_cache_folder

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp")
pytest.importorskip("fastapi")

KEY = "test-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MURMURNET_CACHE_FOLDER": str(default_cache_folder())}
    command = [sys.executable, "-m", "murmurnet", "serve", "--port", str(port), "--api-key", KEY]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server exited: {process.stdout.read() if process.stdout else ''}")
            try:
                ready = httpx.get(f"{base}/ready", headers={"Authorization": f"Bearer {KEY}"})
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the server was not ready within 300 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0, timeout=300)


def test_the_openai_client_gets_a_plain_answer(client: openai.OpenAI) -> None:
    models = [m.id for m in client.models.list().data]
    assert "murmur" in models and "qwen2.5-0.5b" in models
    reply = client.chat.completions.create(
        model="qwen2.5-0.5b",
        messages=[{"role": "user", "content": "What is the capital of France? One word."}],
        max_tokens=20,
        temperature=0,
    )
    assert "paris" in (reply.choices[0].message.content or "").lower()
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None and reply.usage.completion_tokens > 0


def test_the_openai_client_streams_a_murmur_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="murmur",
        messages=[{"role": "user", "content": "What is 6 times 7?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "42" in text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens > 0


def test_without_the_key_the_server_refuses(server: str) -> None:
    bad = openai.OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    assert httpx.get(f"{server}/health").status_code == 200


def scrape(server: str) -> str:
    return httpx.get(f"{server}/metrics", headers={"Authorization": f"Bearer {KEY}"}).text


def test_metrics_read_the_real_engine(server: str, client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model="qwen2.5-0.5b", messages=[{"role": "user", "content": "Hi"}], max_tokens=4
    )
    text = scrape(server)
    totals = [line for line in text.splitlines() if line.startswith("murmurnet_kv_cells_total{")]
    assert totals and float(totals[0].split()[-1]) > 0, text[-2000:]
    assert "murmurnet_active_sequences{" in text and "murmurnet_model_load_seconds{" in text
    assert 'murmurnet_generated_tokens_total{role="",stage="output"}' in text


def gauge(server: str, name: str) -> float:
    """The sum of every series whose line starts with `name`."""
    lines = scrape(server).splitlines()
    return sum(float(line.split()[-1]) for line in lines if line.startswith(name))


def test_a_client_that_goes_away_frees_its_sequences(server: str) -> None:
    ask = {
        "model": "murmur",
        "stream": True,
        "messages": [{"role": "user", "content": "Write a long story about a lighthouse."}],
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    cancelled = 'murmurnet_runs_total{outcome="cancelled"'
    before = gauge(server, cancelled)
    with httpx.stream(
        "POST", f"{server}/v1/chat/completions", json=ask, headers=headers, timeout=120
    ) as response:
        assert response.status_code == 200
        busy = 0.0
        deadline = time.monotonic() + 60
        while busy == 0 and time.monotonic() < deadline:  # the agents are generating
            busy = gauge(server, "murmurnet_active_sequences{")
            time.sleep(0.1)
        assert busy > 0
    # The stream is closed mid-run: the run is cancelled and the engine's sequences freed.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (
        gauge(server, "murmurnet_active_sequences{") or gauge(server, cancelled) == before
    ):
        time.sleep(0.2)
    assert gauge(server, "murmurnet_active_sequences{") == 0
    assert gauge(server, "murmurnet_runs_in_progress") == 0
    assert gauge(server, cancelled) == before + 1
