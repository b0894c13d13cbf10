"""The `monitoring` section: the original MurmurNet's keys load, wrong ones are one-line
errors, and the files written from it carry its thresholds, intervals and channels."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from murmurnet import monitoring
from murmurnet.cli.main import main
from murmurnet.config import load_config
from murmurnet.config.monitoring import MonitoringSettings
from murmurnet.errors import ConfigError

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

ORIGINAL = """
monitoring:
  enable_prometheus: true
  prometheus_port: 8001
  metrics_collection_interval: 10.0
  metrics_retention_hours: 24
  alert_check_interval: 30.0
  notification_channels:
    - type: "webhook"
      url: "http://localhost:8080/alerts"
    - type: "slack"
      webhook_url: "https://hooks.slack.com/services/T0/B0/X"
      only_critical: true
  alert_thresholds: {p95_latency_seconds: 12, error_ratio: 0.1}
"""


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_deploy_holds_the_files_of_the_default_settings() -> None:
    for name, text in monitoring.files(MonitoringSettings()).items():
        assert (DEPLOY / name).read_text() == text, f"deploy/{name}: run murmurnet monitoring"


def test_the_original_section_reaches_every_file(tmp_path: Path) -> None:
    settings = load_config(config_file=config_file(tmp_path, ORIGINAL)).monitoring
    written = monitoring.files(settings, target="10.0.0.5:8001")
    prometheus = yaml.safe_load(written["prometheus/prometheus.yml"])
    assert prometheus["global"] == {"scrape_interval": "10s", "evaluation_interval": "30s"}
    assert prometheus["scrape_configs"][0]["static_configs"][0]["targets"] == ["10.0.0.5:8001"]
    assert "--storage.tsdb.retention.time=24h" in written["prometheus/prometheus.yml"]
    rules = yaml.safe_load(written["prometheus/rules/alerts.yml"])["groups"][0]["rules"]
    expressions = {rule["alert"]: rule["expr"] for rule in rules}
    assert expressions["MurmurNetHighLatency"].endswith("> 12")
    assert expressions["MurmurNetHighErrorRatio"].endswith("> 0.1")
    routes = yaml.safe_load(written["alertmanager/alertmanager.yml"])
    receivers = {receiver["name"]: receiver for receiver in routes["receivers"]}
    assert "slack_configs" not in receivers["all"]
    assert receivers["critical"]["slack_configs"][0]["api_url"].endswith("/T0/B0/X")
    hooks = [hook["url"] for r in receivers.values() for hook in r["webhook_configs"]]
    assert hooks == ["http://localhost:8080/alerts"] * 2


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ("monitoring:\n  prometheus_prot: 8001\n", "prometheus_prot"),
        ("monitoring:\n  notification_channels: [{type: slack}]\n", "webhook_url"),
        ("monitoring:\n  notification_channels: [{type: pager, url: 'http://x'}]\n", "type"),
        ("monitoring:\n  alert_thresholds: {after: soon}\n", "after"),
    ],
)
def test_a_wrong_key_or_value_is_a_clear_error(tmp_path: Path, section: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_file=config_file(tmp_path, section))
    assert named in caught.value.one_line()


def test_the_command_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_file(tmp_path, ORIGINAL)
    assert main(["monitoring", "--out", str(tmp_path / "out"), "--config", str(config)]) == 0
    listed = capsys.readouterr().out.split()
    assert len(listed) == 4 and all(Path(path).is_file() for path in listed)
    assert "> 12" in (tmp_path / "out/prometheus/rules/alerts.yml").read_text()
