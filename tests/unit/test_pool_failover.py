"""The endpoint pool as a backend, on fake endpoints: a round stays on one endpoint, a
failure before the first text moves it to another, a failure after streamed text does not,
every endpoint down is one typed line, and the configuration (with the original's
`distributed_coordination` section) builds it."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from murmurnet import GenerationRequest, Message, RunConfig, Runtime, ScriptedBackend
from murmurnet.cancellation import Cancellation
from murmurnet.config import load_config
from murmurnet.config.pool import PoolSettings
from murmurnet.distributed.breaker import CircuitBreaker, State
from murmurnet.distributed.endpoint import Endpoint
from murmurnet.distributed.health import HttpProbe
from murmurnet.distributed.pool import EndpointPool, ScoringEndpointPool, pool_of
from murmurnet.errors import (
    BackendUnavailableError,
    CancelledError,
    ConfigError,
    EndpointsDownError,
)
from murmurnet.models.base import LikelihoodScorer, TokenCallback
from murmurnet.models.openai_http import OpenAIHTTPBackend
from murmurnet.models.registry import ModelPool
from murmurnet.types import Completion

NO_CHECKS = {"health_interval": 0}


def state(breaker: CircuitBreaker) -> State:
    """The breaker's state read afresh (a plain attribute read would be narrowed by mypy)."""
    return breaker.state


class Refusal(Exception):
    """What the openai client raises for an HTTP error status (it carries `status_code`)."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


class Broken:
    """A server that fails every call; after `pieces` of streamed text when given some."""

    can_batch = True
    context_size = 4096

    def __init__(self, name: str, pieces: int = 0, status: int | None = None) -> None:
        self.name = name
        self.pieces = pieces
        self.status = status
        self.calls = 0

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        self.calls += 1
        for _ in range(self.pieces):
            if on_token is not None:
                on_token(0, "Half an ")
        if self.status is not None:
            cause = Refusal(self.status)
            raise BackendUnavailableError(f"{self.name} refused: HTTP {self.status}") from cause
        raise BackendUnavailableError(f"cannot reach {self.name}: connection refused")

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        pass


def reply(name: str) -> ScriptedBackend:
    return ScriptedBackend(lambda request: f"{name} answers {request.tag}", name=name)


def pool(*backends: object, **changes: object) -> EndpointPool:
    """Endpoints named after their fakes; no health checks, out after two failures."""
    base = {"strategy": "round_robin", "failure_threshold": 2, "cooldown": 60.0, **NO_CHECKS}
    settings = PoolSettings.model_validate({**base, **changes})
    endpoints = [
        Endpoint(
            f"http://{getattr(b, 'name', i)}",
            b,  # type: ignore[arg-type]
            threshold=settings.failure_threshold,
            cooldown=settings.cooldown,
        )
        for i, b in enumerate(backends)
    ]
    return pool_of(endpoints, settings)


def round_of(n: int) -> list[GenerationRequest]:
    messages = [Message(role="user", content="Shared question?")]
    return [GenerationRequest(messages=messages, tag=f"agent {i + 1}") for i in range(n)]


def test_a_whole_round_goes_to_one_endpoint() -> None:
    a, b = reply("a"), reply("b")
    backend = pool(a, b)
    first = backend.generate(round_of(3))
    second = backend.generate(round_of(3))
    assert [c.text for c in first] == [f"a answers agent {i}" for i in (1, 2, 3)]
    assert [c.text for c in second] == [f"b answers agent {i}" for i in (1, 2, 3)]
    assert [len(batch) for batch in a.batches + b.batches] == [3, 3]


def test_a_failure_before_the_first_text_moves_the_round_to_another_endpoint() -> None:
    down, b = Broken("down"), reply("b")
    backend = pool(down, b)
    pieces: list[str] = []
    texts = [c.text for c in backend.generate(round_of(2), lambda _i, p: pieces.append(p))]
    assert texts == ["b answers agent 1", "b answers agent 2"] and "".join(pieces)
    assert down.calls == 1 and backend.failovers == 1
    # The second failure in a row takes it out; from then on it is not even tried.
    backend.generate(round_of(2))
    backend.generate(round_of(2))
    assert down.calls == 2
    assert state(backend.endpoints[0].breaker) is State.OPEN


def test_a_streamed_round_that_fails_after_its_first_text_is_not_retried() -> None:
    cut, b = Broken("cut", pieces=1), reply("b")
    backend = pool(cut, b)
    shown: list[str] = []
    with pytest.raises(BackendUnavailableError) as failed:
        backend.generate(round_of(2), lambda _i, piece: shown.append(piece))
    line = failed.value.one_line()
    assert "http://cut" in line and "began streaming" in line and "\n" not in line
    assert shown == ["Half an "] and b.batches == []


def test_a_round_nobody_watches_is_retried_even_after_the_server_sent_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cut, b = Broken("cut", pieces=3), reply("b")
    backend = pool(cut, b)
    with caplog.at_level(logging.INFO, logger="murmurnet.pool"):
        assert [c.text for c in backend.generate(round_of(1))] == ["b answers agent 1"]
    assert cut.calls == 1 and backend.failovers == 1
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "http://cut failed after its answer began" in record.getMessage()


def test_every_endpoint_down_is_one_line_naming_each_and_never_a_wait() -> None:
    a, b = Broken("a"), Broken("b")
    backend = pool(a, b)
    with pytest.raises(EndpointsDownError) as down:
        backend.generate(round_of(2))
    line = down.value.one_line()
    assert "http://a (closed: cannot reach a: connection refused)" in line
    assert "http://b" in line and "\n" not in line
    with pytest.raises(EndpointsDownError):
        backend.generate(round_of(2))
    tick = time.perf_counter()
    with pytest.raises(EndpointsDownError, match=r"http://a \(open: .*http://b \(open"):
        backend.generate(round_of(2))  # both breakers open: refused without a call
    assert time.perf_counter() - tick < 0.1
    assert (a.calls, b.calls) == (2, 2)


def test_an_open_endpoint_is_probed_back_by_one_real_request_after_the_cooldown() -> None:
    flaky, b = Broken("flaky"), reply("b")
    backend = pool(flaky, b, cooldown=0.05)
    for _ in range(4):  # round robin: every other round tries it first
        backend.generate(round_of(1))
    assert state(backend.endpoints[0].breaker) is State.OPEN
    healed = reply("flaky")
    backend.endpoints[0].backend = healed
    time.sleep(0.06)
    for _ in range(4):
        backend.generate(round_of(1))
    assert state(backend.endpoints[0].breaker) is State.CLOSED and len(healed.batches) >= 1


def test_a_request_the_servers_refuse_does_not_take_them_out() -> None:
    small, big = Broken("small", status=400), reply("big")
    backend = pool(small, big)
    assert backend.generate(round_of(1))[0].text == "big answers agent 1"
    only = pool(Broken("x", status=400), Broken("y", status=400))
    for _ in range(3):
        with pytest.raises(BackendUnavailableError, match="refused: HTTP 400") as refused:
            only.generate(round_of(1))
        assert not isinstance(refused.value, EndpointsDownError)
    assert {e.breaker.state for e in only.endpoints} == {State.CLOSED}


def test_a_cancelled_round_is_not_held_against_the_endpoint() -> None:
    slow = ScriptedBackend(lambda r: "one two three four", word_delay=0.01)
    backend = pool(slow)
    cancel = Cancellation()
    cancel.cancel("the caller left")
    with pytest.raises(CancelledError):
        backend.generate(round_of(1), lambda _i, _p: None, cancel)
    assert backend.endpoints[0].breaker.failures == 0


def test_log_probabilities_and_likelihood_scores_go_through() -> None:
    def likely(messages: object, text: str) -> float:
        return -1.0 if text == "Paris" else -5.0

    scorers = [
        ScriptedBackend(lambda r: "Paris", confidence=lambda r: 0.5, likelihood=likely, name=n)
        for n in ("a", "b")
    ]
    backend = pool(*scorers)
    assert isinstance(backend, ScoringEndpointPool) and isinstance(backend, LikelihoodScorer)
    request = GenerationRequest(messages=[Message(role="user", content="Capital?")], logprobs=True)
    assert backend.generate([request])[0].token_logprobs
    scores = backend.score([Message(role="user", content="Capital?")], ["Paris", "Lyon"])
    assert [s.logprob for s in scores] == [-1.0, -5.0]
    # Scoring goes only to the endpoints that can score; with none, the pool offers none.
    mixed = pool(Broken("plain"), scorers[0])
    assert isinstance(mixed, ScoringEndpointPool)
    for _ in range(3):
        assert mixed.score([Message(role="user", content="?")], ["Paris"])[0].logprob == -1.0
    assert not isinstance(pool(Broken("x"), Broken("y")), LikelihoodScorer)


def test_a_murmur_answers_on_a_pool_with_a_dead_endpoint() -> None:
    def say(name: str) -> ScriptedBackend:
        return ScriptedBackend(lambda r: f"{name}: water is H2O. Answer: H2O", name=name)

    backend = pool(Broken("dead"), say("a"), say("b"))
    with Runtime(RunConfig(agents=2, iterations=2), backends={"default": backend}) as runtime:
        answers = [runtime.run(f"What is water made of? ({i})") for i in range(3)]
    assert all(answer.text for answer in answers)
    assert state(backend.endpoints[0].breaker) is State.OPEN


def test_the_configuration_builds_a_pool_of_openai_endpoints() -> None:
    config = RunConfig(
        endpoint_pool={"strategy": "least_load", "cooldown": 3, "health_interval": 0},
        models={
            "default": {
                "type": "pool",
                "api_model": "qwen",
                "context_size": 2048,
                "endpoint_pool": {"strategy": "capability"},
                "endpoints": [
                    {"url": "http://127.0.0.1:9/v1/", "languages": ["JA"]},
                    {
                        "url": "http://127.0.0.1:10/v1",
                        "api_model": "qwen2.5:0.5b",
                        "context_size": 8192,
                    },
                ],
            }
        },
    )
    models = ModelPool(config)
    try:
        backend = models.get("default")
        assert isinstance(backend, EndpointPool)
        assert backend.settings.strategy == "capability" and backend.settings.cooldown == 3
        assert backend.context_size == 8192  # routed by fit: the roomiest endpoint's window
        first, second = backend.endpoints
        assert (first.url, first.languages, first.context_size) == (
            "http://127.0.0.1:9/v1",
            ("ja",),
            2048,
        )
        assert isinstance(second.backend, OpenAIHTTPBackend)
        assert second.backend.name == "qwen2.5:0.5b"
    finally:
        models.close()


def test_a_pool_needs_endpoints_with_http_urls() -> None:
    with pytest.raises(ConfigError, match="needs endpoints"):
        ModelPool(RunConfig(models={"default": {"type": "pool"}})).get("default")
    with pytest.raises(ValueError, match="must start with http"):
        RunConfig(models={"m": {"type": "pool", "endpoints": [{"url": "127.0.0.1:8000"}]}})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_original_distributed_coordination_section_maps_onto_the_pool(tmp_path: Path) -> None:
    original = write(
        tmp_path,
        "distributed_coordination:\n"
        "  enable: true\n"
        "  heartbeat_interval: 2.0\n"
        "  failure_timeout: 7.0\n"
        "  consensus_algorithm: simple_majority\n"
        "  load_balance_strategy: least_loaded\n"
        "  max_load_threshold: 0.5\n",
    )
    config = load_config({}, original)
    settings = config.endpoint_pool
    assert (settings.strategy, settings.health_interval) == ("least_load", 2.0)
    assert settings.failure_threshold == 4  # 7 s of failed checks every 2 s
    assert settings.max_load == 0.5 and config.consensus == "vote"
    both = write(
        tmp_path,
        "endpoint_pool:\n  strategy: round_robin\n"
        "distributed_coordination:\n  load_balance_strategy: capability_aware\n"
        "  heartbeat_interval: 9\n",
    )
    mixed = load_config({}, both).endpoint_pool
    assert (mixed.strategy, mixed.health_interval) == ("round_robin", 9.0)
    off = write(tmp_path, "distributed_coordination:\n  enable: false\n  heartbeat_interval: 1\n")
    assert load_config({}, off).endpoint_pool.health_interval == 5.0


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("  load_balance_strategy: fastest\n", "load_balance_strategy 'fastest'"),
        ("  heartbeat: 3\n", "unknown key 'distributed_coordination.heartbeat'"),
        ("  failure_timeout: soon\n", "failure_timeout 'soon'"),
    ],
)
def test_a_bad_coordination_key_is_one_line_naming_key_and_file(
    tmp_path: Path, section: str, message: str
) -> None:
    path = write(tmp_path, "distributed_coordination:\n" + section)
    with pytest.raises(ConfigError) as bad:
        load_config({}, path)
    line = bad.value.one_line()
    assert message in line and str(path) in line and "\n" not in line


def test_an_unknown_pool_key_names_the_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, "endpoint_pool:\n  stratgy: hybrid\n")
    with pytest.raises(ConfigError, match=rf"'endpoint_pool.stratgy' in config file {path}"):
        load_config({}, path)


def test_the_readme_example_builds_a_pool(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Many servers as one model", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = load_config({}, write(tmp_path, example))
    models = ModelPool(config)
    try:
        backend = models.get("default")
        assert isinstance(backend, EndpointPool) and len(backend.endpoints) == 3
        assert backend.endpoints[1].languages == ("en",) and backend.settings.cooldown == 15
    finally:
        models.close()


def test_a_silent_server_is_given_up_after_its_timeout() -> None:
    """A server that takes the connection and never answers costs `timeout`, not a hang."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        spec = {"type": "pool", "timeout": 0.5, "endpoints": [{"url": url}]}
        models = ModelPool(RunConfig(endpoint_pool=NO_CHECKS, models={"default": spec}))
        try:
            tick = time.perf_counter()
            with pytest.raises(EndpointsDownError, match=r"no answer within 0\.5 s"):
                models.get("default").generate(round_of(1))
            assert time.perf_counter() - tick < 5
        finally:
            models.close()


class Health(BaseHTTPRequestHandler):
    """A server without /health (as Ollama): only /v1/models answers."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.end_headers()
        self.wfile.write(b'{"object": "list", "data": []}')

    def log_message(self, *args: object) -> None:
        pass


def test_the_health_check_falls_back_to_the_model_list() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    probe = HttpProbe(timeout=2)
    try:
        up = Endpoint(f"http://127.0.0.1:{server.server_address[1]}/v1", reply("up"))
        assert probe(up) is None and probe(up) is None
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))  # bound, not listening: refused
            down = Endpoint(f"http://127.0.0.1:{closed.getsockname()[1]}/v1", reply("down"))
            assert probe(down) == "connection refused"
    finally:
        probe.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:80a0/v1", "Invalid port: '80a0'"),
        ("http:///v1", "names no host"),
        ("http://127.0.0.1:99999/v1", "outside 1-65535"),
    ],
)
def test_an_endpoint_url_httpx_cannot_use_is_a_config_error_naming_the_key(
    tmp_path: Path, url: str, message: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"models:\n  default:\n    type: pool\n    endpoints:\n      - url: {url!r}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as bad:
        load_config({}, path)
    line = bad.value.one_line()
    assert "'models.default.endpoints.0.url'" in line and str(path) in line
    assert url in line and message in line and "\n" not in line


def test_good_endpoint_urls_still_load() -> None:
    urls = ["http://127.0.0.1:8000/v1/", "https://example.org/v1", "http://[::1]:8080/v1"]
    config = RunConfig(models={"m": {"type": "pool", "endpoints": [{"url": u} for u in urls]}})
    assert [e.url for e in config.models["m"].endpoints] == [u.rstrip("/") for u in urls]


def test_the_failover_count_is_kept_under_the_pools_lock() -> None:
    backend = pool(Broken("down"), reply("up"))
    answers: list[str] = []
    worker = threading.Thread(
        target=lambda: answers.extend(c.text for c in backend.generate(round_of(1)))
    )
    with backend._lock:
        worker.start()
        time.sleep(0.2)
        assert worker.is_alive() and backend.failovers == 0  # waits for the lock to count
    worker.join(5)
    assert answers == ["up answers agent 1"] and backend.failovers == 1
