"""`murmurnet scale-advice` against a fake Prometheus on 127.0.0.1: it asks for a range
query, forecasts from the series it gets, takes the original `autoscaling` keys from a
config file, and turns every way the answer can be wrong into one line."""

from __future__ import annotations

import json
import math
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from murmurnet import RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.cli.main import main
from murmurnet.cli.scale import ANSWER_ROUTES, DEFAULT_QUERY, regular
from murmurnet.server import create_app

Series = Callable[[float, float, float], Any]
"""(start, end, step) → the JSON body Prometheus would answer."""


def matrix(values: Callable[[int], float]) -> Series:
    def body(start: float, end: float, step: float) -> Any:
        points = [[start + i * step, str(values(i))] for i in range(int((end - start) // step) + 1)]
        result = [{"metric": {}, "values": points}]
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}

    return body


class FakePrometheus:
    def __init__(self) -> None:
        self.series: Series = matrix(lambda i: 1.0)
        self.status = 200
        self.asked: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.asked.append({"path": url.path, **params})
                times = (float(params["start"]), float(params["end"]), float(params["step"]))
                data = json.dumps(fake.series(*times)).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    fake = FakePrometheus()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def advise(prometheus: FakePrometheus, *flags: str) -> int:
    return main(["scale-advice", "--prometheus", prometheus.url, "--capacity", "1", *flags])


def test_a_ramp_is_advised_ahead_of_the_current_rate(
    prometheus: FakePrometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus.series = matrix(lambda i: 1.0 + 0.1 * i)  # 61 points: 1 → 7 req/s
    assert advise(prometheus, "--json") == 0
    advice = json.loads(capsys.readouterr().out)
    assert advice["experimental"] is True and advice["points"] == 61
    assert advice["forecast"] > advice["level"] > 6.0
    assert advice["replicas"] == math.ceil(advice["forecast"]) > 7
    (asked,) = prometheus.asked
    assert asked["path"] == "/api/v1/query_range" and asked["query"] == DEFAULT_QUERY
    assert float(asked["end"]) - float(asked["start"]) == pytest.approx(3600.0)
    assert asked["step"] == "60"


def test_the_original_autoscaling_section_sets_bounds_and_steps(
    prometheus: FakePrometheus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "agents: 2\n"
        "autoscaling:\n  enable: true\n  min_workers: 2\n  max_workers: 5\n"
        "  evaluation_period: 30\n  prediction_window: 120\n  enable_predictive_scaling: true\n"
    )
    prometheus.series = matrix(lambda i: 40.0)
    assert advise(prometheus, "--config", str(config), "--window", "600", "--json") == 0
    advice = json.loads(capsys.readouterr().out)
    assert advice["replicas"] == 5  # 40 needed, capped at max_workers
    assert advice["policy"]["horizon"] == 120.0 and prometheus.asked[0]["step"] == "30"
    prometheus.series = matrix(lambda i: 0.0)
    assert advise(prometheus, "--config", str(config), "--max-replicas", "3") == 0
    text = capsys.readouterr().out
    assert text.startswith("recommended replicas: 2 (experimental)")  # min_workers
    assert "2-3 replicas" in text  # the flag wins over the file


def test_gaps_and_nan_repeat_the_last_value() -> None:
    points = [(0.0, 1.0), (60.0, float("nan")), (180.0, 3.0)]
    assert regular(points, start=0.0, step=60.0) == [1.0, 1.0, 1.0, 3.0]
    assert regular([(0.0, float("nan"))], start=0.0, step=60.0) == []


def failing(body: Any) -> Series:
    return lambda start, end, step: body


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ({"status": "success", "data": {"result": []}}, 200, "no series"),
        ({"status": "success", "data": {"result": [{}, {}]}}, 200, "sum(...)"),
        ({"status": "error", "error": "parse error at char 5"}, 400, "parse error"),
    ],
)
def test_a_bad_answer_is_one_line(
    prometheus: FakePrometheus,
    capsys: pytest.CaptureFixture[str],
    body: Any,
    status: int,
    said: str,
) -> None:
    prometheus.series, prometheus.status = failing(body), status
    assert advise(prometheus) == 2
    error = capsys.readouterr().err
    assert said in error and error.count("\n") == 1 and "Traceback" not in error


def test_an_unreachable_prometheus_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a loopback port where nothing listens
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    code = main(["scale-advice", "--prometheus", url, "--capacity", "1", "--timeout", "2"])
    assert code == 2 and "cannot be reached" in capsys.readouterr().err


def test_a_wrong_flag_is_one_line(
    prometheus: FakePrometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    assert advise(prometheus, "--min-replicas", "4", "--max-replicas", "2") == 2
    assert "max_replicas 2 is below min_replicas 4" in capsys.readouterr().err
    assert prometheus.asked == []  # refused before any query


def test_the_default_query_counts_the_routes_that_start_runs() -> None:
    runtime = Runtime(RunConfig(), backends={"default": ScriptedBackend(lambda r: "4")})
    with TestClient(create_app(runtime)) as client:
        assert client.post("/v1/murmur", json={"question": "2 + 2?"}).status_code == 200
        routes = {route.path for route in client.app.routes}  # type: ignore[attr-defined]
        text = client.get("/metrics").text
    assert set(ANSWER_ROUTES) <= routes
    assert 'murmurnet_http_requests_total{profile="murmur",route="/v1/murmur"' in text
    assert set(re.findall(r"murmurnet_\w+", DEFAULT_QUERY)) == {"murmurnet_http_requests_total"}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="make setup-test installs promtool")
def test_the_default_query_is_valid_promql(tmp_path: Path) -> None:
    rules = {"groups": [{"name": "q", "rules": [{"record": "advice:rate", "expr": DEFAULT_QUERY}]}]}
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps(rules))
    checked = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
