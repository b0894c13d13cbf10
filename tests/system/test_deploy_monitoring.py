"""The monitoring files in deploy/: Prometheus rules pass `promtool test rules`, the
Alertmanager file passes `amtool check-config`, and every Grafana panel's expression is
valid PromQL naming only series that `/metrics` (or a recording rule) really provides."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from murmurnet import RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.server import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Installed by `make setup-test` (apt-get install prometheus prometheus-alertmanager).
TOOLS = pytest.mark.skipif(
    shutil.which("promtool") is None or shutil.which("amtool") is None,
    reason="promtool/amtool are not installed (make setup-test installs them)",
)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@TOOLS
def test_alert_rules_pass_their_unit_tests() -> None:
    result = run("promtool", "test", "rules", str(DEPLOY / "prometheus/tests/alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@TOOLS
def test_prometheus_and_alertmanager_configs_are_valid() -> None:
    checked = run("promtool", "check", "config", str(DEPLOY / "prometheus/prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    amtool = run("amtool", "check-config", str(DEPLOY / "alertmanager/alertmanager.yml"))
    assert amtool.returncode == 0, amtool.stdout + amtool.stderr


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana/murmurnet-dashboard.json").read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


@TOOLS
def test_every_panel_is_valid_promql(tmp_path: Path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:panel{i}", "expr": expr}
                    for i, expr in enumerate(dashboard_expressions())
                ],
            }
        ]
    }
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump(rules))
    result = run("promtool", "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def exposed_names() -> set[str]:
    runtime = Runtime(RunConfig(), backends={"default": ScriptedBackend(lambda r: "4")})
    with TestClient(create_app(runtime)) as client:
        question = {"question": "What is 2 + 2?"}
        assert client.post("/v1/murmur", json=question).status_code == 200
        text = client.get("/metrics").text
    names = set(re.findall(r"^# TYPE (\w+) ", text, re.MULTILINE))
    samples = set(re.findall(r"^(murmurnet_\w+?)(?:\{| )", text, re.MULTILINE))
    return names | samples


def recorded_names() -> set[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus/rules/recording.yml").read_text())
    return {rule["record"] for group in rules["groups"] for rule in group["rules"]}


def test_every_series_the_dashboard_and_rules_name_is_exposed() -> None:
    exposed = exposed_names() | recorded_names()
    texts = [*dashboard_expressions()]
    for path in (DEPLOY / "prometheus/rules").glob("*.yml"):
        rules = yaml.safe_load(path.read_text())
        texts += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    named = {n for text in texts for n in re.findall(r"\bmurmurnet[:_][\w:]+", text)}
    missing = sorted(n for n in named if n not in exposed)
    assert missing == [], f"named but never exposed: {missing}"
