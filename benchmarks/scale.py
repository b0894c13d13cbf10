"""The same questions through `murmurnet serve`, then `serve --ray` with 1 and 2 model
replicas on one node, then 2 replicas on a two-node cluster (head + worker on 127.0.0.1).

C clients send the murmurs (`POST /v1/murmur`, waiting for each answer) from one shared
queue; throughput is answers per second of wall time, latency is per murmur (p50, p95).
The overhead of Ray is its one-replica row against the plain server (target <= 10 %).

    python benchmarks/scale.py [--model qwen2.5-0.5b | scripted] [--questions 40]
                               [--clients 4] [--setups plain,ray1,ray2,nodes2]

`scripted` is the shipped fake slowed per word (`--word-delay`): no CPU goes to a model, so
the rows show what serving costs by itself. The real model shares this machine's cores
between every replica: more replicas on one machine add no compute, they show the cost and
the routing; capacity grows with nodes that bring their own cores.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the two-node cluster helper the tests use

from tests.system import ray_cluster  # noqa: E402

QUESTIONS = ROOT / "benchmarks/data/ja-factoid.jsonl"
REPLY = "首都はその国の政治の中心で、答えは一つです。 Answer: 東京"


def config_for(args: argparse.Namespace, replicas: int) -> dict[str, Any]:
    if args.model == "scripted":
        fake = {"type": "scripted", "responses": [REPLY] * 5000, "word_delay": args.word_delay}
        models: dict[str, Any] = {"models": {"default": fake}}
    else:
        models = {"model_name": args.model}
    return {
        **models,
        "agents": args.agents,
        "internal_tokens": args.max_tokens,
        "output_tokens": args.max_tokens,
        "summary_tokens": args.max_tokens,
        "threads": args.threads,
        "seed": 7,
        "ray_serve": {
            "models": {"min_replicas": replicas, "max_replicas": replicas},
            # Two replicas and the ingress fit a 2-core node: Ray's CPUs are reservations.
            "replica_cpus": 0.5,
            "ingress_cpus": 0.1,
            "max_ongoing_requests": 16,
        },
    }


def wait_ready(url: str, server: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"scale.py: the server exited with code {server.returncode}")
        try:
            if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    sys.exit(f"scale.py: {url} was not ready within {seconds:.0f} s")


@contextmanager
def server(
    config: dict[str, Any], folder: Path, ray: bool, address: str | None = None
) -> Iterator[str]:
    path = folder / "config.yaml"
    path.write_text(json.dumps(config))
    port = ray_cluster.free_port()
    command = [sys.executable, "-m", "murmurnet", "serve", "--port", str(port)]
    command += ["--config", str(path), "--max-runs", "64"]
    if ray:
        command.append("--ray")
    if address:
        command += ["--address", address]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(ray_cluster.ENV, RAY_TMPDIR=str(folder))
    process = subprocess.Popen(
        command, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    deployed = threading.Event()

    def echo() -> None:
        # `serve --ray` says "serving" once every replica runs; /ready answers as soon as
        # the ingress and one replica of each model do.
        assert process.stderr is not None
        for line in process.stderr:
            if "murmurnet" in line:
                print(line, end="", file=sys.stderr)
            if "serving" in line:
                deployed.set()

    threading.Thread(target=echo, daemon=True).start()
    started = ray_cluster.Cluster(address="", temp_dir=folder, groups=[process.pid])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        if ray and not deployed.wait(600):
            sys.exit("scale.py: the Ray application did not finish deploying in 600 s")
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
        started.stop()


def load(url: str, questions: list[str], clients: int) -> dict[str, Any]:
    todo: queue.Queue[str] = queue.Queue()
    for question in questions:
        todo.put(question)
    seconds: list[float] = []
    failed: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=900) as http:
            while True:
                try:
                    question = todo.get_nowait()
                except queue.Empty:
                    return
                tick = time.perf_counter()
                try:
                    response = http.post(f"{url}/v1/murmur", json={"question": question})
                except httpx.HTTPError as exc:  # counted, and the client goes on
                    with lock:
                        failed.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    if response.status_code == 200:
                        seconds.append(time.perf_counter() - tick)
                    else:
                        failed.append(f"{response.status_code} {response.text[:200]}")

    # One murmur first, not timed: the first call of a replica loads what it loads lazily.
    httpx.post(f"{url}/v1/murmur", json={"question": questions[0]}, timeout=900)
    tick = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - tick
    ordered = sorted(seconds)
    return {
        "answers": len(seconds),
        "failed": len(failed),
        "wall_s": round(wall, 2),
        "per_s": round(len(seconds) / wall, 3),
        "p50_s": round(statistics.median(ordered), 3) if ordered else None,
        "p95_s": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3) if ordered else None,
        "errors": failed[:3],
    }


def run_setup(setup: str, args: argparse.Namespace, questions: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="scale") as tmp:
        folder = Path(tmp)
        if setup == "plain":
            with server(config_for(args, 1), folder, ray=False) as url:
                return load(url, questions, args.clients)
        if setup in ("ray1", "ray2"):
            with server(config_for(args, int(setup[-1])), folder, ray=True) as url:
                return load(url, questions, args.clients)
        if setup == "nodes2":
            cluster = ray_cluster.start(folder / "cluster")
            try:
                with server(config_for(args, 2), folder, True, cluster.address) as url:
                    return load(url, questions, args.clients)
            finally:
                cluster.stop()
    raise SystemExit(f"scale.py: unknown setup {setup!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-0.5b", help="bundled model, or scripted")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1, help="threads per model replica")
    parser.add_argument("--word-delay", type=float, default=0.02, help="scripted only")
    parser.add_argument("--setups", default="plain,ray1,ray2,nodes2")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args()
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    questions = questions[: args.questions]
    rows: dict[str, dict[str, Any]] = {}
    print(f"{len(questions)} questions, {args.clients} clients, model {args.model}")
    heads = ("answers", "failed", "wall s", "/s", "p50 s", "p95 s")
    print(f"{'setup':8} " + " ".join(f"{h:>7}" for h in heads))
    for setup in args.setups.split(","):
        row = rows[setup] = run_setup(setup, args, questions)
        print(
            f"{setup:8} {row['answers']:7d} {row['failed']:7d} {row['wall_s']:7.2f} "
            f"{row['per_s']:7.3f} {row['p50_s'] or 0:7.2f} {row['p95_s'] or 0:7.2f}",
            flush=True,
        )
    plain, ray1 = rows.get("plain"), rows.get("ray1")
    if plain and ray1 and plain["p50_s"] and ray1["p50_s"] and ray1["per_s"]:
        slower = plain["per_s"] / ray1["per_s"] - 1
        print(
            f"Ray at one replica over the plain server: {slower:+.1%} wall time per "
            f"answer, p50 latency {ray1['p50_s'] / plain['p50_s'] - 1:+.1%}"
        )
    if args.out:
        args.out.write_text(json.dumps({"args": vars(args) | {"out": str(args.out)}, **rows}))


if __name__ == "__main__":
    main()
