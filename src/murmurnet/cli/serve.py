"""`murmurnet serve`: the OpenAI-compatible server on one shared runtime (loopback by default)."""

from __future__ import annotations

import argparse
import errno
import socket
from pathlib import Path
from typing import Any

from murmurnet.api import Runtime
from murmurnet.cli.common import add_run_flags, config_from
from murmurnet.distributed.boards import blackboard_factory
from murmurnet.errors import ConfigError, MissingDependencyError


def add_parsers(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the OpenAI-compatible API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--api-key", help="require Authorization: Bearer KEY (not on /health, /ready)"
    )
    serve.add_argument(
        "--request-timeout", type=float, default=600.0, help="seconds before a run is cancelled"
    )
    serve.add_argument(
        "--max-runs", type=int, default=32, help="runs admitted at once; beyond it 429"
    )
    serve.add_argument(
        "--ray",
        action="store_true",
        help="serve on Ray Serve: the API as an ingress, each model as autoscaled replicas",
    )
    serve.add_argument(
        "--address",
        help="with --ray: an existing cluster's head (host:port, ray://host:port, auto); "
        "default: ray_serve.address, else a local Ray started for this command",
    )
    add_run_flags(serve).set_defaults(handler=run_serve)
    files = commands.add_parser(
        "monitoring",
        help="write Prometheus and Alertmanager files from the monitoring settings",
    )
    files.add_argument("--out", type=Path, required=True, help="folder to write them into")
    files.add_argument("--target", default="127.0.0.1:8000", help="murmurnet serve to scrape")
    files.add_argument("--alertmanager", default="127.0.0.1:9093", help="Alertmanager address")
    files.add_argument("--config", type=Path, help="YAML file with a monitoring section")
    files.set_defaults(handler=run_monitoring, debug=False)


def _port_is_free(host: str, port: int) -> None:
    """A taken port is a one-line error before any model loads, not a uvicorn traceback."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used: {exc}"
            raise ConfigError(f"{host}:{port} {reason}", hint="choose another --port") from None


def run_serve(args: argparse.Namespace) -> int:
    if args.ray:
        return _run_on_ray(args)
    if args.address is not None:
        raise ConfigError("--address names a Ray cluster", hint="add --ray")
    try:
        import uvicorn

        from murmurnet.server import create_app
    except ImportError as exc:
        raise MissingDependencyError(
            f"the server needs {exc.name}", hint="pip install 'murmurnet[serve]'"
        ) from None
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port} is not a port number (1-65535)")
    if args.max_runs < 1 or args.request_timeout <= 0:
        raise ConfigError("--max-runs must be at least 1 and --request-timeout above 0")
    config = config_from(args)
    monitoring = config.monitoring
    metrics_port = monitoring.prometheus_port if monitoring.enable_prometheus else None
    if metrics_port == args.port:
        raise ConfigError(f"monitoring.prometheus_port {metrics_port} is also --port")
    for port in (args.port, metrics_port):
        if port is not None:
            _port_is_free(args.host, port)
    with Runtime(config, blackboard=blackboard_factory(config.blackboard)) as runtime:
        app = create_app(
            runtime,
            api_key=args.api_key,
            request_timeout=args.request_timeout,
            max_runs=args.max_runs,
        )
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, args.host, app.state.metrics_registry)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _run_on_ray(args: argparse.Namespace) -> int:
    from murmurnet.distributed.ray_app import ServerOptions
    from murmurnet.distributed.ray_run import cluster_address, require_ray, serve_on_ray

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port} is not a port number (1-65535)")
    if args.max_runs < 1 or args.request_timeout <= 0:
        raise ConfigError("--max-runs must be at least 1 and --request-timeout above 0")
    config = config_from(args)
    address = cluster_address(config, args.address)
    require_ray(address)
    if address is None:
        _port_is_free(args.host, args.port)  # the local Ray's proxy listens here
    options = ServerOptions(args.api_key, args.request_timeout, args.max_runs)
    return serve_on_ray(config, args.host, args.port, options, address)


def run_monitoring(args: argparse.Namespace) -> int:
    from murmurnet import monitoring

    texts = monitoring.files(config_from(args).monitoring, args.target, args.alertmanager)
    try:
        written = monitoring.write(args.out, texts)
    except OSError as exc:
        raise ConfigError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    for path in written:
        print(path)
    return 0
