"""Prometheus and Alertmanager files written from the `monitoring` settings.

The thresholds, intervals and notification channels a user sets (the original MurmurNet's
`monitoring` section included) become the rule, scrape and route files the real tools read;
deploy/ holds these files for the default settings, and a test keeps it equal to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from murmurnet.config.monitoring import MonitoringSettings

GENERATED = (
    "# Written by `murmurnet monitoring --out DIR` from the `monitoring` settings; change\n"
    "# those and write again rather than editing this file.\n"
)

RECORDING_RULES: list[dict[str, str]] = [
    {
        "record": "murmurnet:http_requests:rate5m",
        "expr": "sum by (route, status) (rate(murmurnet_http_requests_total[5m]))",
    },
    {
        "record": "murmurnet:http_errors:ratio_rate5m",
        "expr": 'sum(rate(murmurnet_http_requests_total{status=~"5.."}[5m]))\n'
        "  / clamp_min(sum(rate(murmurnet_http_requests_total[5m])), 1e-9)\n",
    },
    {
        "record": "murmurnet:http_request_duration_seconds:p95_5m",
        "expr": "histogram_quantile(0.95,\n"
        "  sum by (le, route) (rate(murmurnet_http_request_duration_seconds_bucket[5m])))\n",
    },
    {
        "record": "murmurnet:time_to_first_token_seconds:p95_5m",
        "expr": "histogram_quantile(0.95,\n"
        "  sum by (le) (rate(murmurnet_time_to_first_token_seconds_bucket[5m])))\n",
    },
    {
        "record": "murmurnet:generated_tokens:rate5m",
        "expr": "sum(rate(murmurnet_generated_tokens_total[5m]))",
    },
]


def _alert(name: str, expr: str, after: str, severity: str, summary: str, text: str) -> Any:
    return {
        "alert": name,
        "expr": expr,
        "for": after,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": text},
    }


def alert_rules(settings: MonitoringSettings) -> list[dict[str, Any]]:
    limits = settings.alert_thresholds
    after = limits.after
    latency = f"{limits.p95_latency_seconds:g}"
    errors = f"{limits.error_ratio:g}"
    percent = f"{limits.error_ratio * 100:g}"
    refused = f"{limits.refused_per_second:g}"
    return [
        _alert(
            "MurmurNetHighLatency",
            'murmurnet:http_request_duration_seconds:p95_5m{route="/v1/chat/completions"}'
            f" > {latency}",
            after,
            "warning",
            f"p95 chat latency above {latency} s",
            "p95 latency of {{ $labels.route }} is {{ $value | humanize }} s.",
        ),
        _alert(
            "MurmurNetHighErrorRatio",
            f"murmurnet:http_errors:ratio_rate5m > {errors}",
            after,
            "critical",
            f"more than {percent} % of requests fail",
            "{{ $value | humanizePercentage }} of requests answered 5xx.",
        ),
        _alert(
            "MurmurNetQueueSaturated",
            f'sum(rate(murmurnet_http_requests_total{{status="429"}}[5m])) > {refused}',
            after,
            "warning",
            "requests are refused with 429",
            "The server is at --max-runs; add replicas or raise the limit.",
        ),
        _alert(
            "MurmurNetNoTokens",
            'sum(rate(murmurnet_http_requests_total{route=~"/v1/(chat/completions|murmur)"}'
            "[5m])) > 0\n  and on() sum(rate(murmurnet_generated_tokens_total[5m])) == 0\n",
            after,
            "critical",
            "requests arrive but no tokens are generated",
            "The engine may be stuck or every run fails before generating.",
        ),
        _alert(
            "MurmurNetDown",
            'up{job="murmurnet"} == 0',
            "1m",
            "critical",
            "a murmurnet target is down",
            "{{ $labels.instance }} has not answered a scrape for a minute.",
        ),
    ]


def _seconds(value: float) -> str:
    return f"{value:g}s"


def prometheus_config(settings: MonitoringSettings, target: str, alertmanager: str) -> Any:
    return {
        "global": {
            "scrape_interval": _seconds(settings.metrics_collection_interval),
            "evaluation_interval": _seconds(settings.alert_check_interval),
        },
        "rule_files": ["rules/recording.yml", "rules/alerts.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": "murmurnet",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [target]}],
            }
        ],
    }


def alertmanager_config(settings: MonitoringSettings) -> Any:
    """Every channel gets every alert unless it asks for critical ones only."""
    receivers: list[dict[str, Any]] = []
    for critical in (False, True):
        hooks = [c for c in settings.notification_channels if critical or not c.only_critical]
        receiver: dict[str, Any] = {"name": "critical" if critical else "all"}
        webhooks = [{"url": c.address, "send_resolved": True} for c in hooks if c.type == "webhook"]
        slack = [
            {
                "api_url": c.address,
                "channel": c.channel,
                "send_resolved": True,
                "title": "{{ .CommonLabels.alertname }} ({{ .Status }})",
                "text": "{{ range .Alerts }}{{ .Annotations.description }}\n{{ end }}",
            }
            for c in hooks
            if c.type == "slack"
        ]
        if webhooks:
            receiver["webhook_configs"] = webhooks
        if slack:
            receiver["slack_configs"] = slack
        receivers.append(receiver)
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "all",
            "group_by": ["alertname"],
            "group_wait": "10s",
            "group_interval": "1m",
            "repeat_interval": "4h",
            "routes": [{"matchers": ['severity="critical"'], "receiver": "critical"}],
        },
        "receivers": receivers,
    }


class _Dumper(yaml.SafeDumper):
    """Block style for expressions over several lines, so the files read like hand-written."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _dump(header: str, data: Any) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return GENERATED + header + body


def files(
    settings: MonitoringSettings,
    target: str = "127.0.0.1:8000",
    alertmanager: str = "127.0.0.1:9093",
) -> dict[str, str]:
    """Each file's path under the output folder, and its text."""
    retention = f"{settings.metrics_retention_hours:g}h"
    return {
        "prometheus/prometheus.yml": _dump(
            "# Run: prometheus --config.file=prometheus.yml "
            f"--storage.tsdb.retention.time={retention}\n"
            "# With `murmurnet serve --api-key KEY`, add to the job:\n"
            "#   authorization: {credentials_file: /path/to/file-holding-KEY}\n",
            prometheus_config(settings, target, alertmanager),
        ),
        "prometheus/rules/recording.yml": _dump(
            "# The series the alerts and the Grafana dashboard read.\n",
            {"groups": [{"name": "murmurnet-recording", "rules": RECORDING_RULES}]},
        ),
        "prometheus/rules/alerts.yml": _dump(
            "# Alerts on the serving path; thresholds from monitoring.alert_thresholds.\n",
            {"groups": [{"name": "murmurnet-alerts", "rules": alert_rules(settings)}]},
        ),
        "alertmanager/alertmanager.yml": _dump(
            "# Routes from monitoring.notification_channels: every alert to each channel,\n"
            "# critical ones also to channels marked only_critical.\n",
            alertmanager_config(settings),
        ),
    }


def write(folder: Path, texts: dict[str, str]) -> list[Path]:
    written = []
    for name, text in texts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
