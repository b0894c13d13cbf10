"""The `monitoring` settings: what `/metrics` serves and what Prometheus and Alertmanager
are told (`murmurnet monitoring --out DIR` writes their files from these).

The keys are the original MurmurNet's `monitoring` section, so its config.yaml keeps
working: `enable_prometheus`, `prometheus_port`, `metrics_collection_interval`,
`metrics_retention_hours`, `alert_check_interval` and `notification_channels` (webhook and
Slack). `alert_thresholds` names the limits its alerts checked, for this server's alerts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class NotificationChannel(BaseModel):
    """Where Alertmanager sends alerts. A Slack channel takes the original's `webhook_url`
    (the Slack incoming-webhook URL); a generic webhook takes `url`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook", "slack"]
    url: str | None = None
    webhook_url: str | None = None
    channel: str = "#murmurnet-alerts"
    only_critical: bool = False
    """Send only critical alerts here (paging channels)."""

    @model_validator(mode="after")
    def _has_address(self) -> NotificationChannel:
        if not self.address.startswith(("http://", "https://")):
            key = "webhook_url" if self.type == "slack" else "url"
            raise ValueError(f"a {self.type} channel needs an http(s) URL in `{key}`")
        return self

    @property
    def address(self) -> str:
        return (self.webhook_url if self.type == "slack" else self.url) or ""


class AlertThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p95_latency_seconds: float = Field(30.0, gt=0, description="p95 chat latency alert")
    error_ratio: float = Field(0.05, gt=0, le=1, description="share of 5xx answers alert")
    refused_per_second: float = Field(
        0.0, ge=0, description="429s per second above which the queue counts as saturated"
    )
    after: str = Field(
        "5m", pattern=r"^\d+[smh]$", description="how long a condition holds before it fires"
    )


class MonitoringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enable_prometheus: bool = Field(True, description="serve /metrics")
    prometheus_port: int | None = Field(
        None, ge=1, le=65535, description="also serve /metrics alone on this port"
    )
    metrics_collection_interval: float = Field(15.0, gt=0, description="scrape interval (s)")
    metrics_retention_hours: float = Field(360.0, gt=0, description="Prometheus retention (h)")
    alert_check_interval: float = Field(15.0, gt=0, description="rule evaluation interval (s)")
    notification_channels: list[NotificationChannel] = Field(
        default_factory=lambda: [
            NotificationChannel(type="webhook", url="http://127.0.0.1:9099/alerts"),
            NotificationChannel(
                type="slack",
                webhook_url="https://hooks.slack.com/services/REPLACE/WITH/YOURS",
                only_critical=True,
            ),
        ]
    )
    alert_thresholds: AlertThresholds = Field(default_factory=AlertThresholds)
