"""The endpoint pool against real servers: three `murmurnet serve` processes (scripted
model, each naming itself in its replies) on free ports of 127.0.0.1.

One of them takes rounds and never answers; it is killed while a round is known to be in
flight on it (before its first text). Every murmur still answers, the dead server is taken
out, a health check brings it back once it is restarted, and with every server gone a run
ends at once with one line naming them all.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from murmurnet import RunConfig, Runtime
from murmurnet.distributed.breaker import State
from murmurnet.distributed.pool import EndpointPool
from murmurnet.errors import EndpointsDownError
from murmurnet.types import Answer

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None,
    reason="the server needs 'murmurnet[serve]'",
)
LAUNCHER = Path(__file__).with_name("pool_endpoint.py")
READY_SECONDS = 90  # three Python servers starting at once on two busy cores


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One `murmurnet serve` child process; stopped by its own pid."""

    def __init__(self, name: str, port: int, log: Path, hang: Path | None = None) -> None:
        self.name = name
        self.port = port
        command = [sys.executable, str(LAUNCHER), name]
        if hang is not None:
            command += ["--hang", str(hang)]
        command += ["--", "serve", "--port", str(port), "--model-type", "scripted"]
        command += ["--model-name", "echo"]
        self._log = log.open("w", encoding="utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server {self.name} exited: {Path(self._log.name).read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"server {self.name} was not ready within {READY_SECONDS} s")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    ports = [free_port() for _ in range(3)]
    started = [
        Server("A", ports[0], tmp_path / "a.log", hang=tmp_path / "a-busy"),
        Server("B", ports[1], tmp_path / "b.log"),
        Server("C", ports[2], tmp_path / "c.log"),
    ]
    try:
        deadline = time.monotonic() + READY_SECONDS
        for server in started:
            server.wait_ready(deadline)
        yield started
    finally:
        for server in started:
            server.kill()


def pool_config(servers: list[Server], **settings: Any) -> RunConfig:
    endpoint_pool = {
        "strategy": "round_robin",
        "health_interval": 0.2,
        "health_timeout": 1.0,
        "failure_threshold": 1,
        "cooldown": 0.5,
        **settings,
    }
    return RunConfig(
        agents=2,
        models={
            "default": {
                "type": "pool",
                "api_model": "echo",
                "timeout": 20,
                "endpoints": [{"url": s.url} for s in servers],
                "endpoint_pool": endpoint_pool,
            }
        },
    )


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(0.05)


def in_use(pool: EndpointPool, index: int) -> bool:
    return pool.endpoints[index].breaker.state is State.CLOSED


def served_by(answer: Answer) -> set[str]:
    """The servers whose replies reached the answer or its blackboard."""
    texts = [answer.text, *(entry.text for entry in answer.entries)]
    return {text.split(" says ")[0].strip() for text in texts if " says " in text}


def test_every_murmur_answers_when_an_endpoint_dies_mid_round(
    servers: list[Server], tmp_path: Path
) -> None:
    a = servers[0]
    with Runtime(pool_config(servers)) as runtime:
        pool = runtime.pool.get("default")
        assert isinstance(pool, EndpointPool)
        handles = [runtime.start(f"What is water made of? ({i})") for i in range(4)]
        wait_for((tmp_path / "a-busy").exists, 30, "a round reaching server A")
        a.kill()  # A holds a round it has sent no text of
        answers = [handle.result(timeout=60) for handle in handles]
        assert all(answer.text.strip() for answer in answers)
        assert set().union(*map(served_by, answers)) <= {"B", "C"}
        assert pool.failovers >= 1
        assert not in_use(pool, 0)  # taken out

        # Restarted (answering now), A is probed back by the health checks and used again.
        again = Server("A", a.port, tmp_path / "a2.log")
        servers[0] = again
        again.wait_ready(time.monotonic() + READY_SECONDS)
        wait_for(lambda: in_use(pool, 0), 30, "A rejoining")
        later = [runtime.run(f"What is water made of? ({i})") for i in range(3)]
        assert "A" in set().union(*map(served_by, later))

        # Every server gone: one line naming them all, at once rather than after a wait.
        for server in servers:
            server.kill()
        tick = time.monotonic()
        with pytest.raises(EndpointsDownError) as down:
            runtime.run("Is anyone there?")
        assert time.monotonic() - tick < 10
        line = down.value.one_line()
        assert "\n" not in line and all(s.url in line for s in servers)


def test_the_cli_says_in_one_line_that_every_endpoint_is_down(tmp_path: Path) -> None:
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]  # nothing listens there
    config = tmp_path / "pool.yaml"
    config.write_text(
        "distributed_coordination:\n"
        "  load_balance_strategy: least_loaded\n"
        "  heartbeat_interval: 1.0\n"
        "models:\n"
        "  default:\n"
        "    type: pool\n"
        "    api_model: echo\n"
        "    endpoints:\n" + "".join(f"      - url: {url}\n" for url in urls),
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "murmurnet", "ask", "--config", str(config), "Hello?"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "every endpoint" in lines[0], done.stderr
    assert all(url in lines[0] for url in urls) and "Traceback" not in done.stderr
