"""`serve --ray` on a real two-node Ray cluster (head + worker on 127.0.0.1): murmurs on
replicas on both nodes, a replica killed mid-round, replicas that grow under load and
shrink after it, and the command itself on the existing cluster.

One cluster and one driver connection serve every test here (starting Ray costs seconds
and hundreds of MB per node); each test deploys its own application and removes it.
The models are the shipped scripted fake, slowed per word so that rounds take time.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from murmurnet.config import RunConfig
from tests.system import ray_cluster

ray = pytest.importorskip("ray", reason="the Ray tests need pip install 'murmurnet[ray]'")
serve = pytest.importorskip("ray.serve")

from murmurnet.distributed.ray_app import APP_NAME, build_app  # noqa: E402

REPLY = "I added the two numbers one step at a time, and the sum is four. Answer: 4"
AGENTS = 3
MODEL = "Model-default"


def settings(word_delay: float = 0.03, **ray_serve: Any) -> RunConfig:
    scripted = {"type": "scripted", "responses": [REPLY] * 3000, "word_delay": word_delay}
    return RunConfig(
        models={"default": scripted},
        agents=AGENTS,
        ray_serve={"ingress_cpus": 0.1, **ray_serve},
    )


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ray_cluster.Cluster]:
    started = ray_cluster.start(tmp_path_factory.mktemp("ray"))
    saved = {key: os.environ.get(key) for key in ray_cluster.ENV}
    os.environ.update(ray_cluster.ENV)
    try:
        ray.init(address=started.address, logging_level=logging.WARNING, log_to_driver=False)
        yield started
    finally:
        try:
            serve.shutdown()
            ray.shutdown()
        finally:
            started.stop()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    assert not ray_cluster.alive(started.stopped), "Ray processes were left behind"


@pytest.fixture(scope="session")
def http_port(cluster: ray_cluster.Cluster) -> int:
    port = ray_cluster.free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port}, proxy_location="HeadOnly")
    return port


@pytest.fixture
def deploy(http_port: int) -> Iterator[Callable[[RunConfig], str]]:
    """Deploys a configuration's application; returns the API's base URL."""

    def run(config: RunConfig) -> str:
        serve.run(build_app(config), name=APP_NAME, route_prefix="/")
        return f"http://127.0.0.1:{http_port}"

    yield run
    serve.delete(APP_NAME)


def murmur(base: str, question: str, timeout: float = 120.0) -> dict[str, Any]:
    response = httpx.post(f"{base}/v1/murmur", json={"question": question}, timeout=timeout)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def murmurs_at_once(base: str, count: int) -> list[dict[str, Any] | BaseException]:
    results: list[dict[str, Any] | BaseException] = [RuntimeError("not run")] * count

    def one(index: int) -> None:
        try:
            results[index] = murmur(base, "What is 2 + 2?")
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return results


def replicas() -> dict[str, Any]:
    """The model deployment's live replica actors by name."""
    named = ray.util.list_named_actors(all_namespaces=True)
    found = [a["name"] for a in named if f"#{MODEL}#" in a["name"]]
    return {name: ray.get_actor(name, namespace="serve") for name in found}


def node_of(actor: Any) -> str:
    import ray._private.state as state

    info = state.actors(actor._actor_id.hex())
    return str(info["Address"]["NodeID"])


def ongoing(actor: Any) -> int:
    try:
        return int(ray.get(actor.get_num_ongoing_requests.remote(), timeout=5))
    except ray.exceptions.RayError:
        return 0


def running_replicas() -> int:
    status = serve.status().applications[APP_NAME].deployments[MODEL]
    return int(status.replica_states.get("RUNNING", 0))


def shape(answer: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """A run's blackboard without texts and times: what a lost or doubled write changes."""
    return [(e["kind"], e["round"], e["agent"], e["role"]) for e in answer["entries"]]


def assert_whole(answer: dict[str, Any], expected: list[tuple[str, Any, Any, Any]]) -> None:
    assert "4" in answer["text"]
    versions = [e["version"] for e in answer["entries"]]
    assert versions == list(range(1, len(versions) + 1))
    assert shape(answer) == expected
    contributions = Counter((e["round"], e["agent"]) for e in answer["entries"] if e["agent"])
    assert set(contributions.values()) == {1}


def wait_for_line(server: subprocess.Popen[str], text: str, timeout: float = 120) -> str:
    assert server.stderr is not None
    deadline = time.monotonic() + timeout
    line = ""
    while text not in line and time.monotonic() < deadline:
        line = server.stderr.readline()
        assert line or server.poll() is None, "the command ended early"
    return line


def test_the_serve_command_starts_a_local_ray_and_stops_it_on_ctrl_c(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Runs before the cluster exists (tests run in file order): a second Ray at once would
    cost this small machine another gigabyte."""
    folder = tmp_path_factory.mktemp("local")
    config = folder / "config.yaml"
    scripted = {"type": "scripted", "responses": [REPLY] * 100}
    config.write_text(json.dumps({"models": {"default": scripted}, "agents": 2}))
    port = ray_cluster.free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(ray_cluster.ENV, RAY_TMPDIR=str(folder))
    del env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"]  # the command keeps its Ray on loopback
    command = [sys.executable, "-m", "murmurnet", "serve", "--ray", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--config", str(config)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started = ray_cluster.Cluster(address="", temp_dir=folder, groups=[server.pid])
    try:
        line = wait_for_line(server, "serving")
        assert f"serving http://127.0.0.1:{port} on a local Ray" in line
        assert "4" in murmur(f"http://127.0.0.1:{port}", "What is 2 + 2?")["text"]
        ray_processes = started.processes() - {server.pid}
        assert ray_processes, "no Ray processes under the command"
        assert not ray_cluster.listeners_off_loopback(started.processes())
        server.send_signal(signal.SIGINT)
        assert server.wait(60) == 0
        deadline = time.monotonic() + 30
        while ray_cluster.alive(ray_processes) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not ray_cluster.alive(ray_processes), "the local Ray outlived the command"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        started.stop()


def test_murmurs_run_on_model_replicas_on_both_nodes(
    cluster: ray_cluster.Cluster, deploy: Callable[[RunConfig], str]
) -> None:
    base = deploy(settings(models={"min_replicas": 2, "max_replicas": 2}))
    live = replicas()
    assert len(live) == 2
    assert len({node_of(actor) for actor in live.values()}) == 2, "both on one node"
    assert not ray_cluster.listeners_off_loopback(cluster.processes())
    expected = shape(murmur(base, "What is 2 + 2?"))
    assert [kind for kind, *_ in expected].count("contribution") >= AGENTS

    busy: Counter[str] = Counter()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for name, actor in live.items():
                busy[name] += ongoing(actor) > 0
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = murmurs_at_once(base, 8)
    finally:
        done.set()
        watcher.join()
    for result in results:
        assert isinstance(result, dict), result
        assert_whole(result, expected)
    assert set(busy) == set(live) and all(busy.values()), f"a replica did no round: {busy}"

    # A streamed chat answer comes through the ingress as server-sent events.
    body = {"model": "murmur", "stream": True, "messages": [{"role": "user", "content": "2+2?"}]}
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=120) as stream:
        assert stream.status_code == 200
        lines = [line for line in stream.iter_lines() if line.startswith("data: {")]
    text = "".join(
        choice["delta"].get("content") or ""
        for line in lines
        for choice in json.loads(line[6:])["choices"]
    )
    assert "4" in text


def test_a_replica_killed_mid_round_loses_no_answer_and_no_entry(
    cluster: ray_cluster.Cluster, deploy: Callable[[RunConfig], str]
) -> None:
    base = deploy(settings(word_delay=0.05, models={"min_replicas": 2, "max_replicas": 2}))
    expected = shape(murmur(base, "What is 2 + 2?"))
    results: list[dict[str, Any] | BaseException] = []
    load = threading.Thread(target=lambda: results.extend(murmurs_at_once(base, 6)))
    load.start()
    victim = None
    deadline = time.monotonic() + 30
    while victim is None and time.monotonic() < deadline:
        victim = next((a for a in replicas().values() if ongoing(a) >= 2), None)
        time.sleep(0.05)
    assert victim is not None, "no replica was ever busy"
    ray.kill(victim)  # rounds in flight on it fail; the ingress sends them again
    load.join(300)
    assert len(results) == 6
    for result in results:
        assert isinstance(result, dict), result
        assert_whole(result, expected)
    # The kill hit rounds in flight, and the ingress sent them again (its log says so).
    logs = cluster.temp_dir.glob("session_*/logs/**/*")
    said = (path.read_text(errors="replace") for path in logs if path.is_file())
    assert any("a replica failed" in text and "sending the call again" in text for text in said)
    # Serve replaced the dead replica.
    deadline = time.monotonic() + 60
    while running_replicas() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert running_replicas() == 2


# A one-second window keeps the test short; Ray warns it is below its metrics interval.
@pytest.mark.filterwarnings("ignore:`look_back_period_s`:FutureWarning")
def test_replicas_grow_under_load_and_shrink_after_it(
    cluster: ray_cluster.Cluster, deploy: Callable[[RunConfig], str]
) -> None:
    scaling = {
        "min_replicas": 1,
        "max_replicas": 3,
        "target_ongoing_requests": 1,
        "upscale_delay_s": 0.5,
        "downscale_delay_s": 3,
        "look_back_period_s": 1,
    }
    base = deploy(settings(word_delay=0.05, models=scaling))
    assert running_replicas() == 1
    stop = threading.Event()
    failures: list[BaseException] = []

    def keep_asking(index: int) -> None:
        while not stop.is_set():
            try:
                murmur(base, "What is 2 + 2?")
            except BaseException as exc:
                failures.append(exc)
                return

    clients = [threading.Thread(target=keep_asking, args=(i,)) for i in range(6)]
    for client in clients:
        client.start()
    most = 1
    try:
        deadline = time.monotonic() + 90
        while most < 2 and time.monotonic() < deadline:
            most = max(most, running_replicas())
            time.sleep(0.5)
    finally:
        stop.set()
        for client in clients:
            client.join(120)
    assert not failures, failures
    assert most >= 2, "replicas never grew under load"
    deadline = time.monotonic() + 90
    while running_replicas() > 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert running_replicas() == 1, "replicas never shrank after the load"


def test_the_serve_command_deploys_on_an_existing_cluster_and_removes_its_app(
    cluster: ray_cluster.Cluster, http_port: int, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    scripted = {"type": "scripted", "responses": [REPLY] * 100}
    config.write_text(
        json.dumps(
            {
                "models": {"default": scripted},
                "agents": 2,
                "ray_serve": {"ingress_cpus": 0.1, "models": {"max_replicas": 1}},
                # The original's section: its workers are the model replicas.
                "autoscaling": {"enable": True, "min_workers": 1, "max_workers": 2},
            }
        )
    )
    command = [sys.executable, "-m", "murmurnet", "serve", "--ray", "--address", cluster.address]
    command += ["--port", str(http_port), "--config", str(config)]
    env = {**os.environ, **ray_cluster.ENV}
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = wait_for_line(server, "serving")
        assert f"serving http://127.0.0.1:{http_port} on {cluster.address}" in line
        answer = murmur(f"http://127.0.0.1:{http_port}", "What is 2 + 2?")
        assert "4" in answer["text"]
        scaling = serve.status().applications[APP_NAME].deployments[MODEL]
        assert scaling.status == "HEALTHY"
        server.send_signal(signal.SIGINT)
        assert server.wait(60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert APP_NAME not in serve.status().applications


@pytest.mark.integration
def test_a_murmur_on_the_real_bundled_model_in_a_ray_replica(
    cluster: ray_cluster.Cluster, deploy: Callable[[RunConfig], str]
) -> None:
    """The bundled model loads in a replica (the engine, not the fake) and answers a round
    of agents sent there as one batch."""
    pytest.importorskip("llama_cpp")
    from murmurnet.config import default_cache_folder

    config = RunConfig(
        cache_folder=default_cache_folder(),  # where `murmurnet models --prepare` put it
        agents=2,
        internal_tokens=48,
        output_tokens=48,
        summary=False,
        threads=1,
        ray_serve={
            "models": {"min_replicas": 1, "max_replicas": 1},
            "ingress_cpus": 0.1,
        },
    )
    answer = murmur(deploy(config), "What is 2 + 3?", timeout=600)
    assert answer["text"].strip()
    contributions = [e for e in answer["entries"] if e["kind"] == "contribution"]
    assert len({e["agent"] for e in contributions}) >= 2
    assert any(t["prompt_tokens"] > 0 for t in answer["timings"])


def test_a_model_that_cannot_load_is_one_line_from_the_command(
    cluster: ray_cluster.Cluster, http_port: int, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"model_path": str(tmp_path / "missing.gguf")}))
    command = [sys.executable, "-m", "murmurnet", "serve", "--ray", "--address", cluster.address]
    env = {**os.environ, **ray_cluster.ENV}
    done = subprocess.run(
        [*command, "--config", str(config)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("murmurnet:")]
    assert lines == [
        f"murmurnet: error: the application did not start: model file "
        f"{tmp_path / 'missing.gguf'} does not exist (Model-default)"
    ]
    assert APP_NAME not in serve.status().applications
