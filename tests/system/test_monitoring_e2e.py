"""Monitoring end to end: real Prometheus and Alertmanager on 127.0.0.1 scrape a running
`murmurnet serve` (a scripted model, so no weights are needed), the serve goes away, and
the alert reaches a small local webhook receiver.

The Prometheus and Alertmanager files are the ones `murmurnet monitoring` writes from the
configuration's `monitoring` section (the original MurmurNet's keys): intervals of a second
and conditions that fire at once, so the test takes seconds instead of minutes; Prometheus
scrapes the separate metrics port that section asks for."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import yaml

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
    reason="prometheus/alertmanager are not installed (make setup-test installs them)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: object, seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()  # type: ignore[operator]
        except httpx.TransportError:
            found = None
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        Receiver.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def start(command: list[str], log: Path, **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, **kw)  # type: ignore[call-overload]


def test_an_alert_reaches_the_webhook(tmp_path: Path, receiver: int) -> None:
    serve_port, metrics_port, prom_port, am_port, cluster_port = (free_port() for _ in range(5))
    # The original MurmurNet's monitoring section, as a user's config.yaml has it.
    monitoring_section = {
        "enable_prometheus": True,
        "prometheus_port": metrics_port,
        "metrics_collection_interval": 1.0,
        "alert_check_interval": 1.0,
        "notification_channels": [
            {"type": "webhook", "url": f"http://127.0.0.1:{receiver}/alerts"}
        ],
        "alert_thresholds": {"after": "0s"},
    }
    config = tmp_path / "murmurnet.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "models": {"default": {"type": "scripted", "responses": ["4"] * 50}},
                "monitoring": monitoring_section,
            }
        )
    )
    env = {**os.environ, "MURMURNET_CACHE_FOLDER": str(tmp_path / "cache")}
    serve = start(
        [
            sys.executable,
            "-m",
            "murmurnet",
            "serve",
            "--port",
            str(serve_port),
            "--config",
            str(config),
        ],
        tmp_path / "serve.log",
        env=env,
    )
    written = subprocess.run(
        [
            sys.executable,
            "-m",
            "murmurnet",
            "monitoring",
            "--out",
            str(tmp_path / "files"),
            "--config",
            str(config),
            "--target",
            f"127.0.0.1:{metrics_port}",
            "--alertmanager",
            f"127.0.0.1:{am_port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert written.returncode == 0, written.stderr
    files = tmp_path / "files"
    # The target-down alert waits a fixed minute in production; here it fires at once.
    alerts = files / "prometheus/rules/alerts.yml"
    alerts.write_text(alerts.read_text().replace("for: 1m", "for: 0s"))
    alertmanager_config = yaml.safe_load((files / "alertmanager/alertmanager.yml").read_text())
    alertmanager_config["route"].update(group_wait="1s", group_interval="1s")
    (files / "alertmanager/alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config))
    alertmanager = start(
        [
            "prometheus-alertmanager",
            f"--config.file={files / 'alertmanager/alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            f"--cluster.listen-address=127.0.0.1:{cluster_port}",
        ],
        tmp_path / "alertmanager.log",
    )
    prometheus = start(
        [
            "prometheus",
            f"--config.file={files / 'prometheus/prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        tmp_path / "prometheus.log",
    )
    api = f"http://127.0.0.1:{prom_port}/api/v1"
    try:

        def scraped() -> bool:
            query = httpx.get(f"{api}/query", params={"query": 'up{job="murmurnet"}'}).json()
            results = query["data"]["result"]
            return bool(results) and results[0]["value"][1] == "1"

        wait_for(scraped, 60, "Prometheus to scrape murmurnet serve")
        ask = {"model": "murmur", "messages": [{"role": "user", "content": "What is 2 + 2?"}]}
        answered = httpx.post(f"http://127.0.0.1:{serve_port}/v1/chat/completions", json=ask)
        assert answered.status_code == 200, answered.text

        def counted() -> bool:
            query = "murmurnet_http_requests_total{route='/v1/chat/completions'}"
            return bool(httpx.get(f"{api}/query", params={"query": query}).json()["data"]["result"])

        wait_for(counted, 30, "the request counter in Prometheus")
        serve.terminate()  # the alert condition: the target goes down
        serve.wait(30)

        def alerted() -> bool:
            return any(
                alert["labels"]["alertname"] == "MurmurNetDown" and alert["status"] == "firing"
                for message in Receiver.received
                for alert in message["alerts"]  # type: ignore[union-attr]
            )

        wait_for(alerted, 90, "MurmurNetDown at the webhook receiver")
    finally:
        for process in (serve, prometheus, alertmanager):
            process.terminate()
            process.wait(30)
