"""`/metrics` for Prometheus, fed by the run events and read from the engine at scrape time.

Counters and histograms follow the runs' events (model calls, agreements, endings), so
every number is what the pipeline really did; gauges (active sequences, waiting requests,
KV cells, batch size, runs in progress) are read from the loaded backends when Prometheus
scrapes, never kept in step by hand. Names are `murmurnet_*` with their unit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from murmurnet.api import Runtime
from murmurnet.events.types import (
    AgreementReached,
    ModelCalled,
    RunCancelled,
    RunEvent,
    RunFailed,
    RunFinished,
    RunStarted,
)
from murmurnet.models.base import LoadReporter

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 600)
SPEED_BUCKETS = (1, 2, 5, 10, 20, 40, 80, 160, 320)
_GAUGES = {
    "active_sequences": "Sequences the engines are generating now.",
    "waiting_requests": "Requests waiting for room in an engine's batch.",
    "kv_cells_used": "KV cache cells in use.",
    "kv_cells_total": "KV cache cells in all.",
    "last_batch_tokens": "Tokens in each engine's latest decode (the shared batch's size).",
}


class _Live(Collector):
    """Gauges read when Prometheus scrapes."""

    def __init__(self, runtime: Runtime, runs_in_progress: Callable[[], int]) -> None:
        self.runtime = runtime
        self.runs_in_progress = runs_in_progress

    def collect(self) -> Iterator[Metric]:
        runs = GaugeMetricFamily(
            "murmurnet_runs_in_progress", "Runs admitted and not yet finished."
        )
        runs.add_metric([], self.runs_in_progress())
        yield runs
        families = {
            key: GaugeMetricFamily(f"murmurnet_{key}", text, labels=["model"])
            for key, text in _GAUGES.items()
        }
        for backend in self.runtime.pool.loaded:
            if isinstance(backend, LoadReporter):
                for key, value in backend.load().items():
                    if key in families:
                        families[key].add_metric([backend.name], value)
        yield from families.values()
        loads = GaugeMetricFamily(
            "murmurnet_model_load_seconds", "Seconds each model took to load.", labels=["model"]
        )
        for name, seconds in self.runtime.pool.load_seconds.items():
            loads.add_metric([name], seconds)
        yield loads


class Metrics:
    """The server's registry; call it with every run event (a bus subscriber)."""

    def __init__(self, runtime: Runtime, runs_in_progress: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "murmurnet_http_requests",
            "HTTP requests by route, profile and status.",
            ["route", "profile", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "murmurnet_http_request_duration_seconds",
            "HTTP request latency until the response starts (a stream: its first byte).",
            ["route", "profile"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.run_seconds = Histogram(
            "murmurnet_run_duration_seconds",
            "Run latency by strategy.",
            ["strategy"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.runs = Counter(
            "murmurnet_runs", "Runs by strategy and outcome.", ["strategy", "outcome"], registry=r
        )
        self.queue_seconds = Histogram(
            "murmurnet_queue_wait_seconds",
            "Time a model call waited for room in the engine's batch.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_token_seconds = Histogram(
            "murmurnet_time_to_first_token_seconds",
            "From a model call's submission to its first generated token.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        labels = ["stage", "role"]
        self.prompt_tokens = Counter(
            "murmurnet_prompt_tokens", "Prompt tokens by stage and role.", labels, registry=r
        )
        self.cached_tokens = Counter(
            "murmurnet_cached_prompt_tokens",
            "Prompt tokens reused from the KV cache.",
            labels,
            registry=r,
        )
        self.generated_tokens = Counter(
            "murmurnet_generated_tokens", "Generated tokens by stage and role.", labels, registry=r
        )
        self.speed = Histogram(
            "murmurnet_generation_tokens_per_second",
            "Decode speed of each model call.",
            buckets=SPEED_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "murmurnet_errors", "Failed runs by error type.", ["type"], registry=r
        )
        self.agreements = Counter(
            "murmurnet_agreements",
            "Agreement outcomes by protocol.",
            ["protocol", "outcome"],
            registry=r,
        )
        r.register(_Live(runtime, runs_in_progress))
        self._strategies: OrderedDict[str, str] = OrderedDict()

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            self._strategies[event.run_id] = event.strategy
            while len(self._strategies) > 1024:
                self._strategies.popitem(last=False)
        elif isinstance(event, ModelCalled):
            stage = _stage_family(event.stage)
            role = event.role or ""
            self.prompt_tokens.labels(stage, role).inc(event.prompt_tokens)
            self.cached_tokens.labels(stage, role).inc(event.cached_tokens)
            self.generated_tokens.labels(stage, role).inc(event.completion_tokens)
            self.queue_seconds.observe(event.queue_seconds)
            if event.first_token_seconds is not None:
                self.first_token_seconds.observe(event.first_token_seconds)
            if event.decode_seconds > 0 and event.completion_tokens > 0:
                self.speed.observe(event.completion_tokens / event.decode_seconds)
        elif isinstance(event, AgreementReached):
            outcome = "committed" if event.committed else "split"
            self.agreements.labels(event.protocol, outcome).inc()
        elif isinstance(event, RunFinished | RunFailed | RunCancelled):
            strategy = self._strategies.pop(event.run_id, "unknown")
            if isinstance(event, RunFinished):
                self.runs.labels(strategy, "finished").inc()
                self.run_seconds.labels(strategy).observe(event.seconds)
            elif isinstance(event, RunFailed):
                self.runs.labels(strategy, "failed").inc()
                self.errors.labels(event.error_type).inc()
            else:
                self.runs.labels(strategy, "cancelled").inc()


def _stage_family(stage: str) -> str:
    """ "round 2" → "round": a label per stage kind, not per round number."""
    head, _, tail = stage.rpartition(" ")
    return head if tail.isdigit() and head else stage
