"""`murmurnet scale-advice` against a real Prometheus on 127.0.0.1 that scrapes a running
`murmurnet serve` (a scripted model) while a client sends it a steady stream of murmurs:
the default query finds the server's series and the advice follows the rate it was sent."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from murmurnet.cli.scale import DEFAULT_QUERY

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None,
    reason="prometheus is not installed (make setup-test installs it)",
)
RATE = 4.0  # murmurs per second the client sends


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def test_the_advice_follows_the_rate_prometheus_recorded(tmp_path: Path) -> None:
    serve_port, prom_port = free_port(), free_port()
    config = tmp_path / "murmurnet.yaml"
    scripted = {"type": "scripted", "responses": ["4"] * 5000}
    config.write_text(yaml.safe_dump({"models": {"default": scripted}, "agents": 1}))
    (tmp_path / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "murmurnet",
                        "static_configs": [{"targets": [f"127.0.0.1:{serve_port}"]}],
                    }
                ],
            }
        )
    )
    env = {**os.environ, "MURMURNET_CACHE_FOLDER": str(tmp_path / "cache")}
    murmurnet = [sys.executable, "-m", "murmurnet"]
    serve_command = [*murmurnet, "serve", "--port", str(serve_port), "--config", str(config)]
    prometheus_command = [
        "prometheus",
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
    ]
    base = f"http://127.0.0.1:{serve_port}"
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                tick = time.monotonic()
                http.post("/v1/murmur", json={"question": "2 + 2?"})
                stop.wait(max(0.0, 1 / RATE - (time.monotonic() - tick)))

    with (
        (tmp_path / "serve.log").open("wb") as serve_log,
        (tmp_path / "prom.log").open("wb") as prom_log,
    ):
        serve = subprocess.Popen(serve_command, stdout=serve_log, stderr=subprocess.STDOUT, env=env)
        prometheus = subprocess.Popen(prometheus_command, stdout=prom_log, stderr=subprocess.STDOUT)
        sender = threading.Thread(target=client, daemon=True)
        try:
            wait_until(lambda: httpx.get(f"{base}/ready").status_code == 200, 60, "serve")
            sender.start()
            prom = f"http://127.0.0.1:{prom_port}"
            wait_until(lambda: httpx.get(f"{prom}/-/ready").status_code == 200, 30, "prometheus")
            time.sleep(12)  # a dozen scrapes of a steady rate
            # The default query over 3 s instead of 2 min: the series is seconds old.
            query = DEFAULT_QUERY.replace("[2m]", "[3s]")
            assert query != DEFAULT_QUERY
            flags = ["--query", query, "--step", "1", "--window", "10", "--horizon", "0", "--json"]
            advised = subprocess.run(
                [*murmurnet, "scale-advice", "--prometheus", prom, "--capacity", "1", *flags],
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
                check=False,
            )
        finally:
            stop.set()
            sender.join(timeout=30)
            for process in (prometheus, serve):
                process.terminate()
                process.wait(timeout=30)
    assert advised.returncode == 0, advised.stderr + (tmp_path / "serve.log").read_text()
    advice = json.loads(advised.stdout)
    # The client's pace is at most RATE (each murmur takes a little time of its own).
    assert 0.4 * RATE <= advice["level"] <= 1.5 * RATE, advice
    assert 2 <= advice["replicas"] <= 6, advice
