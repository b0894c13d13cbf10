"""Load on `murmurnet serve` with the bundled model, beside `llama-server -np N`.

C concurrent clients, each sending R streamed chat requests one after another: single
answers (the model itself, `model: qwen2.5-0.5b`) and murmurs (`model: murmur`), then the
same single-answer requests to llama.cpp's own server with C slots and the same KV cells
(needs `make llama-tools`). Greedy, at most --max-tokens tokens. Throughput is answers and
generated tokens per second of wall time; latency and time to first token are per request.

    python benchmarks/load.py [--clients 1,4,8,16] [--requests 4] [--murmur-requests 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench_engine import THREADS, free_port  # this folder is the script's import path

from murmurnet.config import default_cache_folder
from murmurnet.models.builtin import BUNDLED, ensure_assembled

ROOT = Path(__file__).resolve().parents[1]
LLAMA_SERVER = ROOT / "build/llama.cpp/bin/llama-server"
QUESTIONS = ROOT / "benchmarks/data/ja-factoid.jsonl"
MODEL = "qwen2.5-0.5b"
CELLS = 8192
"""KV cells of both servers: murmurnet's engine holds twice its 4096-token context."""


@dataclass
class Sample:
    seconds: float
    first_token: float | None
    tokens: int
    ok: bool


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"load.py: the server at {url} exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    sys.exit(f"load.py: {url} was not ready within {seconds:.0f} s")


def one_request(base: str, model: str, question: str, max_tokens: int) -> Sample:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": question}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    tick = time.perf_counter()
    first: float | None = None
    chunks = 0
    usage: int | None = None
    try:
        with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=900) as reply:
            if reply.status_code != 200:
                reply.read()
                return Sample(time.perf_counter() - tick, None, 0, False)
            for line in reply.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    usage = int(chunk["usage"]["completion_tokens"])
                for choice in chunk.get("choices") or []:
                    if (choice.get("delta") or {}).get("content"):
                        chunks += 1
                        if first is None:
                            first = time.perf_counter() - tick
    except httpx.HTTPError:
        return Sample(time.perf_counter() - tick, None, 0, False)
    return Sample(time.perf_counter() - tick, first, usage if usage is not None else chunks, True)


def load(
    base: str, model: str, questions: list[str], clients: int, per_client: int, max_tokens: int
) -> tuple[float, list[Sample]]:
    samples: list[Sample] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for r in range(per_client):
            question = questions[(k * per_client + r) % len(questions)]
            sample = one_request(base, model, question, max_tokens)
            with lock:
                samples.append(sample)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    tick = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - tick, samples


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, clients: int, wall: float, samples: list[Sample]) -> dict[str, object]:
    done = [s for s in samples if s.ok]
    latencies = [s.seconds for s in done]
    firsts = [s.first_token for s in done if s.first_token is not None]
    return {
        "server": name,
        "clients": clients,
        "answered": f"{len(done)}/{len(samples)}",
        "wall_s": wall,
        "answers_per_s": len(done) / wall,
        "tokens_per_s": sum(s.tokens for s in done) / wall,
        "p50_s": statistics.median(latencies) if latencies else float("nan"),
        "p95_s": percentile(latencies, 0.95),
        "ttft_p50_s": statistics.median(firsts) if firsts else float("nan"),
        "ttft_p95_s": percentile(firsts, 0.95),
    }


def start_murmurnet(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "murmurnet", "serve", "--port", str(port), "--max-runs", "64"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_llama_server(model: Path, port: int, slots: int) -> subprocess.Popen[bytes]:
    command = [
        str(LLAMA_SERVER), "-m", str(model), "-np", str(slots), "-c", str(CELLS),
        "-t", str(THREADS), "--host", "127.0.0.1", "--port", str(port), "--no-webui",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measured(rows: list[dict[str, object]], name: str, clients: int, **load_args: Any) -> None:
    wall, samples = load(clients=clients, **load_args)
    rows.append(row(name, clients, wall, samples))
    print(format_row(rows[-1]), flush=True)


HEADER = (
    f"{'server':<22}{'clients':>8}{'answered':>10}{'wall s':>8}{'ans/s':>7}{'tok/s':>7}"
    f"{'p50 s':>8}{'p95 s':>8}{'TTFT p50':>10}{'TTFT p95':>10}"
)


def format_row(r: dict[str, object]) -> str:
    return (
        f"{r['server']!s:<22}{r['clients']!s:>8}{r['answered']!s:>10}{r['wall_s']:>8.1f}"
        f"{r['answers_per_s']:>7.2f}{r['tokens_per_s']:>7.1f}{r['p50_s']:>8.2f}"
        f"{r['p95_s']:>8.2f}{r['ttft_p50_s']:>10.2f}{r['ttft_p95_s']:>10.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="1,4,8,16")
    parser.add_argument("--requests", type=int, default=4, help="single answers per client")
    parser.add_argument("--murmur-requests", type=int, default=2, help="murmurs per client")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/load.json")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines()]
    model = ensure_assembled(BUNDLED[MODEL], default_cache_folder())
    print(
        f"{len(questions)} questions, greedy, at most {args.max_tokens} tokens, {THREADS} threads"
    )
    print(HEADER)
    rows: list[dict[str, object]] = []
    single = {"model": MODEL, "questions": questions, "per_client": args.requests,
              "max_tokens": args.max_tokens}  # fmt: skip
    murmur = {**single, "model": "murmur", "per_client": args.murmur_requests, "max_tokens": 512}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_murmurnet(port)
    try:
        wait_ready(f"{base}/ready", server)
        one_request(base, MODEL, questions[0], 8)  # warm
        for clients in counts:
            measured(rows, "murmurnet single", clients, **single, base=base)
        for clients in counts:
            measured(rows, "murmurnet murmur", clients, **murmur, base=base)
    finally:
        stop(server)

    if not LLAMA_SERVER.exists():
        print("llama-server: not built (make llama-tools); skipped")
    for clients in counts if LLAMA_SERVER.exists() else []:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_llama_server(model, port, clients)
        try:
            wait_ready(f"{base}/health", server)
            one_request(base, MODEL, questions[0], 8)
            measured(rows, f"llama-server -np {clients}", clients, **single, base=base)
        finally:
            stop(server)

    by = {(r["server"], r["clients"]): r for r in rows}
    ours, theirs = by.get(("murmurnet single", 8)), by.get(("llama-server -np 8", 8))
    if ours and theirs:
        ratio = float(ours["tokens_per_s"]) / float(theirs["tokens_per_s"])  # type: ignore[arg-type]
        verdict = "met" if ratio >= 1 else "NOT met"
        print(
            f"single answers at 8 clients: {ours['tokens_per_s']:.1f} tok/s, "
            f"{ours['answers_per_s']:.2f} ans/s against llama-server's "
            f"{theirs['tokens_per_s']:.1f} tok/s, {theirs['answers_per_s']:.2f} ans/s "
            f"({ratio:.2f}×): target {verdict}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
