"""Side-by-side: N agents on one shared ~500-token prompt, 64 greedy tokens each.

(a)  sequential high-level `llama_cpp.Llama`, one agent after another (the original project)
(a2) the best one-at-a-time loop: this engine with one sequence, prompt prefix cached
(b)  this engine: shared prefix decoded once, all agents in one decode per step
(c)  `llama-server -np N` with N concurrent requests (needs `make llama-tools`)
(d)  `llama-batched-bench -pps` at the same N (needs `make llama-tools`)
plus round 2 against round 1, a 3-turn chat, and peak RSS of the engine at N=4.

    python benchmarks/bench_engine.py [--n 1,2,4,8] [--skip-highlevel]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx

from murmurnet.bench import agent_requests as make_requests
from murmurnet.bench import forget_cache, shared_document
from murmurnet.config import default_cache_folder
from murmurnet.models.builtin import BUNDLED, ensure_assembled
from murmurnet.models.llama.backend import LlamaCppBackend
from murmurnet.models.llama.engine import LlamaEngine
from murmurnet.types import GenerationRequest

TOOLS = Path("build/llama.cpp/bin")
NEW_TOKENS = 64
THREADS = os.cpu_count() or 2


def agent_requests(n: int, document: str) -> list[GenerationRequest]:
    return make_requests(n, document, NEW_TOKENS)


def role_first(n: int, document: str) -> list[GenerationRequest]:
    """The original project's layout: each agent's role opens its prompt, so nothing is
    shared and every agent prefills the whole document again."""
    requests = agent_requests(n, document)
    for k, request in enumerate(requests):
        system = request.messages[0].model_copy(
            update={"content": f"Analyst {k + 1}. " + request.messages[0].content}
        )
        request.messages[0] = system
    return requests


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):  # type: ignore[no-untyped-def]
    tick = time.perf_counter()
    result = fn()
    return time.perf_counter() - tick, result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def llama_server(model: Path, n: int, prompts: list[str]) -> float | None:
    binary = TOOLS / "llama-server"
    if not binary.exists():
        return None
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "-m", str(model), "-np", str(n), "-c", str(n * 1024), "-t", str(THREADS),
         "--host", "127.0.0.1", "--port", str(port), "--no-webui"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=600) as client:
            for _ in range(600):
                try:
                    if client.get(f"{url}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            client.post(f"{url}/completion", json={"prompt": "Hi", "n_predict": 4})
            body = {"n_predict": NEW_TOKENS, "temperature": 0, "ignore_eos": True,
                    "cache_prompt": False}  # fmt: skip

            def one(prompt: str) -> None:
                client.post(f"{url}/completion", json={**body, "prompt": prompt})

            threads = [threading.Thread(target=one, args=(p,)) for p in prompts]
            tick = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return time.perf_counter() - tick
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def batched_bench(model: Path, prompt_tokens: int, ns: list[int]) -> dict[int, float]:
    binary = TOOLS / "llama-batched-bench"
    if not binary.exists():
        return {}
    out = subprocess.run(
        [str(binary), "-m", str(model), "-c", "8192", "-b", "2048", "-ub", "512",
         "-npp", str(prompt_tokens), "-ntg", str(NEW_TOKENS), "-npl", ",".join(map(str, ns)),
         "-pps", "-t", str(THREADS)],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    times = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 10 and re.fullmatch(r"\d+", cells[2]):
            times[int(cells[2])] = float(cells[-2])  # T s (total) column
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", default="1,2,4,8")
    parser.add_argument("--prompt-tokens", type=int, default=500)
    parser.add_argument("--skip-highlevel", action="store_true")
    args = parser.parse_args()
    ns = [int(x) for x in args.n.split(",")]
    model = ensure_assembled(BUNDLED["qwen2.5-0.5b"], default_cache_folder())
    engine = LlamaEngine(model, n_ctx=8192, n_seq_max=16, threads=THREADS)
    backend = LlamaCppBackend("qwen2.5-0.5b", engine, "auto", 4096)
    document = shared_document(backend, args.prompt_tokens)
    print(f"{THREADS} threads, Qwen2.5-Coder-0.5B Q4, {NEW_TOKENS} new tokens per agent, greedy")
    rows: dict[int, dict[str, float | None]] = {}
    backend.generate(agent_requests(1, "warm up"))
    rss_at_4 = 0.0
    for n in ns:
        requests = agent_requests(n, document)
        prompt_len = len(backend.tokens(requests[0]))
        forget_cache(backend)
        batched, replies = timed(lambda: backend.generate(requests))  # noqa: B023
        assert all(r.completion_tokens == NEW_TOKENS for r in replies)
        if n == 4:
            rss_at_4 = rss_mb()
        forget_cache(backend)
        one_by_one, _ = timed(lambda: [backend.generate([r]) for r in requests])  # noqa: B023
        prompts = [backend.render(r.messages) for r in requests]
        rows[n] = {"prompt": prompt_len, "engine": batched, "engine_1by1": one_by_one,
                   "server": llama_server(model, n, prompts)}  # fmt: skip
    bench = batched_bench(model, rows[ns[0]]["prompt"] or args.prompt_tokens, ns)  # type: ignore[arg-type]
    round1 = agent_requests(4, document)
    forget_cache(backend)
    stats = engine.stats
    decoded = stats.prompt_tokens_decoded
    t1, first = timed(lambda: backend.generate(round1))
    d1, decoded = stats.prompt_tokens_decoded - decoded, stats.prompt_tokens_decoded
    notes = "\n".join(f"Analyst {k + 1} said: {c.text}" for k, c in enumerate(first))
    round2 = agent_requests(4, document + "\n\n" + notes)
    t2, _ = timed(lambda: backend.generate(round2))
    d2 = stats.prompt_tokens_decoded - decoded
    total2 = sum(len(backend.tokens(r)) for r in round2)
    chat, history = [], ""
    for turn in ("What is Aomi?", "How old is its bridge?", "And the library?"):
        history += f"\nUser: {turn}"
        before = stats.prompt_tokens_decoded
        t, reply = timed(lambda: backend.generate(agent_requests(1, document + history)))  # noqa: B023
        history += f"\nAssistant: {reply[0].text}"
        chat.append((t, stats.prompt_tokens_decoded - before))
    engine_rss = rss_mb()
    if not args.skip_highlevel:
        from llama_cpp import Llama

        llm = Llama(str(model), n_ctx=4096, n_threads=THREADS, verbose=False)
        eos = engine.end_tokens
        for n in ns:
            for key, layout in (("highlevel", agent_requests), ("role_first", role_first)):
                prompts = [backend.tokens(r) for r in layout(n, document)]

                def run(prompts: list[list[int]] = prompts) -> None:
                    for p in prompts:
                        llm.create_completion(p, max_tokens=NEW_TOKENS, temperature=0.0,
                                              logit_bias=dict.fromkeys(eos, -1e9))  # fmt: skip

                llm.reset()  # no prefix left over from the previous measurement
                rows[n][key] = timed(run)[0]
    header = [
        "N",
        "prompt tok",
        "(a) high-level seq, role first",
        "(a1) high-level seq, shared first",
        "(a2) engine 1-by-1",
        "(b) engine batched",
        "(c) llama-server -np N",
        "(d) batched-bench",
        "(b)/(d)",
        "(c)/(b)",
        "(a)/(b)",
        "(a2)/(b)",
    ]
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))

    def f(x: float | None) -> str:
        return "skipped" if x is None else f"{x:.2f} s"

    for n, row in rows.items():
        b, d, c, a = row["engine"], bench.get(n), row["server"], row.get("role_first")
        a1, a2 = row.get("highlevel"), row["engine_1by1"]
        ratio = lambda x, y: "-" if x is None or y is None else f"{x / y:.2f}x"  # noqa: E731
        print(
            f"| {n} | {row['prompt']} | {f(a)} | {f(a1)} | {f(a2)} | {f(b)} | {f(c)} "
            f"| {f(d)} | {ratio(b, d)} | {ratio(c, b)} | {ratio(a, b)} | {ratio(a2, b)} |"
        )
    print(
        f"\nround 1 (4 agents): {t1:.2f} s, {d1} prompt tokens decoded; round 2 (+ 4 notes): "
        f"{t2:.2f} s ({t2 / t1:.2f}x), {d2} of its {total2} prompt tokens decoded"
    )
    print(
        "3-turn chat: "
        + ", ".join(
            f"turn {i + 1} {t:.2f} s ({d} prompt tokens decoded)" for i, (t, d) in enumerate(chat)
        )
    )
    size = model.stat().st_size / 2**20
    print(
        f"peak RSS at N=4: {rss_at_4:.0f} MB (model file {size:.0f} MB, target <= "
        f"{size + 400:.0f} MB); engine-only peak {engine_rss:.0f} MB"
    )
    print(json.dumps({"rows": rows, "batched_bench": bench}, default=str))


if __name__ == "__main__":
    main()
