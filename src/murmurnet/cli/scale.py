"""`murmurnet scale-advice` (experimental): a replica count from the request rate Prometheus
has recorded, forecast one start-up time ahead (see murmurnet.distributed.forecast).

It reads a range query once and replays the advisor over it, so the cooldowns and the
scale-down window come from the history itself and the command needs no state between runs.
It only advises: applying the number (kubectl scale, a Ray Serve config) stays with the user.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from murmurnet.config import load_config
from murmurnet.distributed.forecast import ScalePolicy, replay
from murmurnet.errors import ConfigError

ANSWER_ROUTES = ("/v1/chat/completions", "/v1/murmur")
"""The routes that start a run: their requests, refused ones included, are the demand."""
DEFAULT_QUERY = (
    'sum(rate(murmurnet_http_requests_total{route=~"' + "|".join(ANSWER_ROUTES) + '"}[2m]))'
)


def add_parsers(commands: Any) -> None:
    advice = commands.add_parser(
        "scale-advice",
        help="recommend replicas from the request rate in Prometheus (experimental)",
    )
    advice.add_argument("--prometheus", required=True, help="Prometheus URL (http://host:9090)")
    advice.add_argument(
        "--capacity",
        type=float,
        required=True,
        help="requests/s one replica serves at the latency you want",
    )
    advice.add_argument("--query", default=DEFAULT_QUERY, help="PromQL of the request rate")
    advice.add_argument("--window", type=float, default=3600.0, help="seconds of history")
    advice.add_argument("--step", type=float, help="seconds between points (default 60)")
    advice.add_argument("--horizon", type=float, help="seconds ahead to provision (300)")
    advice.add_argument("--min-replicas", type=int, help="fewest replicas (1)")
    advice.add_argument("--max-replicas", type=int, help="most replicas (10)")
    advice.add_argument(
        "--config",
        type=Path,
        help="YAML file whose `scale_advice` section (or the original MurmurNet's "
        "`autoscaling` keys) sets the defaults of these flags",
    )
    advice.add_argument("--timeout", type=float, default=10.0, help="seconds to wait")
    advice.add_argument("--json", action="store_true", help="print one JSON object")
    advice.set_defaults(handler=run_scale_advice, debug=False)


def policy_from(args: argparse.Namespace) -> ScalePolicy:
    """Flags over the `scale_advice` settings (env, then the file, whose original
    `autoscaling` section maps there too) over the defaults."""
    config = load_config(config_file=args.config)
    args.debug = args.debug or config.debug
    flags = {
        "step": args.step,
        "horizon": args.horizon,
        "min_replicas": args.min_replicas,
        "max_replicas": args.max_replicas,
    }
    given = {key: value for key, value in flags.items() if value is not None}
    try:
        return ScalePolicy(capacity=args.capacity, **{**config.scale_advice.model_dump(), **given})
    except ValidationError as exc:
        error = exc.errors()[0]
        why = error["msg"].removeprefix("Value error, ")
        flag = "-".join(str(part) for part in error["loc"]).replace("_", "-")
        raise ConfigError(f"--{flag}: {why}" if flag else why) from None


def range_query(
    url: str, query: str, start: float, end: float, step: float, timeout: float
) -> list[tuple[float, float]]:
    """The one series `query` returns over [start, end], as (time, value) pairs."""
    where = f"Prometheus at {url}"
    params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/api/v1/query_range", params=params, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise ConfigError(f"{where} cannot be reached: {exc}", hint="check --prometheus") from None
    try:
        body = response.json()
    except ValueError:
        raise ConfigError(f"{where} answered {response.status_code} without JSON") from None
    if response.status_code != 200 or body.get("status") != "success":
        error = body.get("error", f"HTTP {response.status_code}")
        raise ConfigError(f"{where} refused the query: {error}", hint="check --query")
    result = body.get("data", {}).get("result", [])
    if len(result) != 1:
        found = "no series" if not result else f"{len(result)} series"
        raise ConfigError(
            f"the query returned {found}; one is needed",
            hint="wrap it in sum(...)" if result else "has the server been scraped yet?",
        )
    return [(float(t), float(v)) for t, v in result[0]["values"]]


def regular(points: list[tuple[float, float]], start: float, step: float) -> list[float]:
    """Values one per step from the first point on; a missing or NaN point repeats the
    previous one, since Holt's smoothing assumes evenly spaced points."""
    known = {round((t - start) / step): v for t, v in points if math.isfinite(v)}
    if not known:
        return []
    values: list[float] = []
    for slot in range(min(known), max(known) + 1):
        values.append(known.get(slot, values[-1] if values else 0.0))
    return values


def run_scale_advice(args: argparse.Namespace) -> int:
    policy = policy_from(args)
    if args.window < 2 * policy.step:
        raise ConfigError(f"--window {args.window:g} s holds fewer than two steps")
    end = time.time()
    start = end - args.window
    points = range_query(args.prometheus, args.query, start, end, policy.step, args.timeout)
    rates = regular(points, start, policy.step)
    if not rates:
        raise ConfigError("the query returned only NaN values", hint="check --query")
    advice = replay(policy, rates)[-1]
    if args.json:
        policy_json = policy.model_dump()
        data = {"experimental": True, **advice.as_dict(), "points": len(rates)}
        print(json.dumps({**data, "policy": policy_json}))
        return 0
    f = advice.forecast
    print(f"recommended replicas: {advice.replicas} (experimental)")
    print(
        f"  rate now {f.level:.3g} req/s, in {policy.horizon:g} s {f.rate:.3g} req/s "
        f"(trend {f.trend:+.3g} per {policy.step:g} s step, {len(rates)} points)"
    )
    print(
        f"  {policy.capacity:g} req/s per replica, {policy.min_replicas}-{policy.max_replicas} "
        f"replicas; {advice.needed} needed now; {advice.reason}"
    )
    return 0
