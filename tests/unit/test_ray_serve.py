"""`serve --ray` without a cluster: its settings (and the original `autoscaling` section),
the deployments a configuration needs, the replica class, the retrying backend against
fake Serve handles, and the command's one-line errors."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from murmurnet.cli import main
from murmurnet.config import ModelSpec, RunConfig, load_config
from murmurnet.distributed.ray_app import deployment_name, model_groups
from murmurnet.distributed.ray_replica import Failure, ModelInfo, ModelReplica
from murmurnet.errors import ConfigError, ContextOverflowError, ScriptExhaustedError
from murmurnet.models.registry import LoadOptions
from murmurnet.types import Completion, GenerationRequest, Message


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


# --- settings -----------------------------------------------------------------------------


def test_the_original_autoscaling_section_sets_the_model_replicas(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "autoscaling:\n  enable: true\n  scaling_strategy: hybrid\n  min_workers: 2\n"
        "  max_workers: 6\n  target_cpu_utilization: 0.7\n  scale_up_cooldown: 20\n"
        "  scale_down_cooldown: 120\n  evaluation_period: 15\n  prediction_window: 300\n",
    )
    models = load_config(config_file=path).ray_serve.models
    assert (models.min_replicas, models.max_replicas) == (2, 6)
    assert (models.upscale_delay_s, models.downscale_delay_s) == (20, 120)
    assert models.look_back_period_s == 15
    assert models.target_ongoing_requests == 2  # the original had none: the default


def test_the_files_own_ray_serve_keys_win_and_disabled_autoscaling_pins(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "autoscaling: {min_workers: 2, max_workers: 6}\n"
        "ray_serve: {models: {max_replicas: 3, target_ongoing_requests: 4}}\n",
    )
    models = load_config(config_file=path).ray_serve.models
    assert (models.min_replicas, models.max_replicas, models.target_ongoing_requests) == (2, 3, 4)
    pinned = write(tmp_path, "autoscaling: {enable: false, min_workers: 3, max_workers: 6}\n")
    models = load_config(config_file=pinned).ray_serve.models
    assert (models.min_replicas, models.max_replicas) == (3, 3)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("autoscaling: {max_wrkers: 3}\n", "autoscaling.max_wrkers"),
        ("autoscaling: {max_workers: many}\n", "autoscaling.max_workers"),
        ("ray_serve: {models: {min_replicas: 4, max_replicas: 2}}\n", "ray_serve.models"),
        ("ray_serve: {atempts: 2}\n", "ray_serve.atempts"),
    ],
)
def test_bad_scaling_settings_are_one_error_naming_the_key(
    tmp_path: Path, text: str, named: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(config_file=path)
    assert named in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


def test_rays_own_schema_takes_the_autoscaling_config() -> None:
    config = pytest.importorskip("ray.serve.config")
    section = RunConfig().ray_serve.models
    parsed = config.AutoscalingConfig(**section.autoscaling_config())
    assert parsed.max_replicas == section.max_replicas


# --- deployments --------------------------------------------------------------------------


def scripted(*replies: str, delay: float = 0.0) -> dict[str, Any]:
    return {"type": "scripted", "responses": list(replies), "word_delay": delay}


def test_one_deployment_per_distinct_model_named_after_default_first() -> None:
    def served(name: str) -> dict[str, Any]:
        return {"type": "openai", "url": "http://127.0.0.1:9/v1", "api_model": name}

    config = RunConfig(
        models={"fake": served("a"), "other": served("b"), "third": served("c")},
        model_name="fake",  # the default model IS "fake": one deployment for both names
        profiles={"deep": {"output_model": "other"}},
    )
    groups = model_groups(config)
    assert groups == {"default": ["default", "fake"], "other": ["other"], "third": ["third"]}
    assert deployment_name("default") == "Model-default"
    assert deployment_name("qwen2.5-0.5b") == "Model-qwen2.5-0.5b"
    assert deployment_name("org/model:q4") == "Model-org_model_q4"


def test_an_unknown_model_fails_when_the_app_is_built_not_on_a_request() -> None:
    config = RunConfig(models={"fake": scripted("a")}, internal_model="nope")
    with pytest.raises(Exception, match="nope"):
        model_groups(config)


def test_the_builder_the_rayservice_names_checks_its_arguments(tmp_path: Path) -> None:
    from murmurnet.distributed.ray_app import build

    with pytest.raises(ConfigError, match="unknown application argument 'confg'"):
        build({"confg": "x"})
    pytest.importorskip("ray.serve")
    path = write(tmp_path, "models:\n  default: {type: scripted, responses: [a]}\n")
    app = build({"config": str(path), "max_runs": "4"})
    assert type(app).__name__ == "Application"


# --- the replica --------------------------------------------------------------------------


def request(text: str = "q") -> GenerationRequest:
    return GenerationRequest(messages=[Message(role="user", content=text)])


def replica(*replies: str, delay: float = 0.0) -> ModelReplica:
    spec = ModelSpec(**scripted(*replies, delay=delay))
    return ModelReplica(spec, LoadOptions(cache_folder=Path("unused")))


def test_a_replica_answers_a_batch_and_returns_user_errors_as_values() -> None:
    model = replica("one", "two")
    info = asyncio.run(model.info())
    assert (info.name, info.can_batch, info.context_size) == ("scripted", True, 8192)
    done = asyncio.run(model.generate([request(), request()]))
    assert [c.text for c in done] == ["one", "two"]  # type: ignore[union-attr]
    failed = asyncio.run(model.generate([request()]))
    assert isinstance(failed, Failure)
    assert isinstance(failed.error(), ScriptExhaustedError)


def test_a_replica_streams_pieces_then_the_completions() -> None:
    model = replica("two words", delay=0.01)

    async def read() -> list[tuple[str, Any]]:
        return [message async for message in model.generate_stream([request()])]

    messages = asyncio.run(read())
    pieces = [piece for kind, value in messages if kind == "pieces" for piece in value]
    assert "".join(text for _, text in pieces) == "two words"
    assert messages[-1][0] == "done"
    assert messages[-1][1][0].text == "two words"


# --- the backend against fake Serve handles ----------------------------------------------


class FakeResponse:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.cancelled = False

    def result(self) -> Any:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def cancel(self) -> None:
        self.cancelled = True

    def __iter__(self) -> Iterator[Any]:  # a streaming response
        for item in self.outcome:
            if isinstance(item, BaseException):
                raise item
            yield item


class FakeMethod:
    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.calls: list[tuple[Any, ...]] = []

    def remote(self, *args: Any) -> FakeResponse:
        self.calls.append(args)
        outcome = self.outcomes.pop(0)
        return outcome if isinstance(outcome, FakeResponse) else FakeResponse(outcome)


class FakeHandle:
    """What `RayModel` uses of a `DeploymentHandle`: methods with `.remote()`."""

    deployment_name = "Model-default"

    def __init__(self, **methods: list[Any]) -> None:
        for name, outcomes in methods.items():
            setattr(self, name, FakeMethod(outcomes))

    def options(self, **_: Any) -> FakeHandle:
        return self


def died() -> BaseException:
    errors = pytest.importorskip("ray.exceptions", reason="Ray is optional")
    died: BaseException = errors.ActorDiedError()
    return died


def backend(handle: FakeHandle, attempts: int = 3) -> Any:
    pytest.importorskip("ray", reason="Ray is optional")
    from murmurnet.config.ray_serve import RayServeSettings
    from murmurnet.distributed.ray_backend import ray_model

    info = ModelInfo(name="fake", can_batch=True, context_size=4096, can_score=False)
    return ray_model(handle, info, RayServeSettings(attempts=attempts))  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _: None)


def completions(*texts: str) -> list[Completion]:
    return [Completion(text=text) for text in texts]


def test_a_round_whose_replica_dies_is_sent_again_whole() -> None:
    handle = FakeHandle(generate=[died(), completions("a", "b")])
    model = backend(handle)
    shown: list[tuple[int, str]] = []
    replies = model.generate(
        [request("1"), request("2")], on_token=lambda i, t: shown.append((i, t))
    )
    assert [r.text for r in replies] == ["a", "b"]
    assert model.failovers == 1
    calls = handle.generate.calls  # type: ignore[attr-defined]
    assert len(calls) == 2 and calls[0] == calls[1]  # the same whole batch, twice
    assert shown == [(0, "a"), (1, "b")]  # a round's text comes once, after it is whole


def test_a_call_gives_up_after_its_attempts_with_one_line() -> None:
    from murmurnet.errors import BackendUnavailableError

    model = backend(FakeHandle(generate=[died(), died()]), attempts=2)
    with pytest.raises(BackendUnavailableError, match="in 2 tries") as caught:
        model.generate([request()])
    assert "\n" not in caught.value.one_line()


def test_a_user_error_in_the_replica_is_raised_typed_and_not_retried() -> None:
    failure = Failure("ContextOverflowError", "too long", "shorten it")
    handle = FakeHandle(generate=[failure, completions("never")])
    with pytest.raises(ContextOverflowError) as caught:
        backend(handle).generate([request()])
    assert caught.value.hint == "shorten it"
    assert len(handle.generate.calls) == 1  # type: ignore[attr-defined]


def stream(*pieces: str, then: Any) -> list[Any]:
    return [("pieces", [(0, piece)]) for piece in pieces] + [then]


def test_a_streamed_answer_cut_by_a_dead_replica_resumes_without_repeating() -> None:
    handle = FakeHandle(
        generate_stream=[
            stream("Answer", then=died()),
            stream("Answer", ": 4", then=("done", completions("Answer: 4"))),
        ]
    )
    seen: list[str] = []
    replies = backend(handle).generate([request()], on_token=lambda _, text: seen.append(text))
    assert "".join(seen) == "Answer: 4"
    assert replies[0].text == "Answer: 4"


def test_a_retry_that_says_something_else_than_was_shown_fails() -> None:
    from murmurnet.errors import BackendFailedError

    handle = FakeHandle(
        generate_stream=[
            stream("Answer", then=died()),
            stream("Perhaps", then=("done", completions("Perhaps"))),
        ]
    )
    with pytest.raises(BackendFailedError, match="differs"):
        backend(handle).generate([request()], on_token=lambda *_: None)


def test_a_retry_that_stops_short_of_what_was_shown_fails() -> None:
    from murmurnet.errors import BackendFailedError

    handle = FakeHandle(
        generate_stream=[
            stream("Answer", ": 4", then=died()),
            stream("Answer", then=("done", completions("Answer"))),
        ]
    )
    with pytest.raises(BackendFailedError, match="shorter"):
        backend(handle).generate([request()], on_token=lambda *_: None)


class BlockingResponse(FakeResponse):
    """A call in flight until it is cancelled, as Serve's response then fails."""

    def __init__(self) -> None:
        super().__init__(None)
        self.gone = threading.Event()

    def result(self) -> Any:
        self.gone.wait(10)
        raise pytest.importorskip("ray.exceptions").TaskCancelledError()

    def cancel(self) -> None:
        self.cancelled = True
        self.gone.set()


def test_a_cancelled_run_cancels_its_call_in_the_replica() -> None:
    from murmurnet.cancellation import Cancellation
    from murmurnet.errors import CancelledError

    response = BlockingResponse()
    handle = FakeHandle(generate=[response])
    cancel = Cancellation()
    threading.Timer(0.1, cancel.cancel, args=("client went away",)).start()
    with pytest.raises(CancelledError, match="client went away"):
        backend(handle).generate([request(), request()], cancel=cancel)
    assert response.cancelled


def test_token_counts_are_asked_once_per_text() -> None:
    handle = FakeHandle(count_tokens=[[3], [5]])
    model = backend(handle)
    assert [model.count_tokens("abc"), model.count_tokens("abc"), model.count_tokens("x")] == [
        3,
        3,
        5,
    ]


# --- the command --------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_serve_ray_without_ray_names_the_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    code, err = run(capsys, "serve", "--ray")
    assert code == 2
    assert err.count("\n") == 1 and "pip install 'murmurnet[ray]'" in err


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_an_address_where_no_ray_answers_is_one_line_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("ray")
    config = write(tmp_path, "models:\n  default: {type: scripted, responses: [a]}\n")
    tick = time.perf_counter()
    address = f"127.0.0.1:{closed_port()}"
    code, err = run(capsys, "serve", "--ray", "--address", address, "--config", str(config))
    assert time.perf_counter() - tick < 10
    assert code == 2
    assert err.count("\n") == 1 and f"no Ray cluster answers at {address}" in err


def test_address_without_ray_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "serve", "--address", "127.0.0.1:6379")
    assert code == 2 and "add --ray" in err


def test_a_named_choice_model_gets_a_deployment_and_the_implicit_one_does_not() -> None:
    """The bundled Gemma default would reserve CPUs for a deployment on every small cluster:
    on Ray the agents' model ranks options unless the configuration names a choice model."""
    served = {"type": "openai", "url": "http://127.0.0.1:9/v1", "api_model": "a"}
    assert model_groups(RunConfig()) == {"default": ["default"]}
    named = RunConfig(models={"small": served}, choice_model="small")
    assert model_groups(named) == {"default": ["default"], "small": ["small"]}
