"""`murmurnet serve --ray`: connect to (or start) Ray, deploy the application, wait.

An `--address` that nothing answers is a one-line error after a short TCP probe, never
Ray's own minutes of retries; a local Ray is started when no address is given, and is
stopped with the command. On an existing cluster the command removes its application on
exit and leaves the cluster as it found it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from murmurnet.config import RunConfig
from murmurnet.distributed.ray_app import APP_NAME, INSTALL, ServerOptions, build_app
from murmurnet.errors import ConfigError, MissingDependencyError

PROBE_SECONDS = 3.0
CONNECT_SECONDS = 60.0
GCS_PORT = 6379
CLIENT_PORT = 10001


def cluster_address(config: RunConfig, flag: str | None) -> str | None:
    """The cluster to use: --address, then `ray_serve.address`, then Ray's own
    RAY_ADDRESS; None starts a local Ray."""
    return flag or config.ray_serve.address or os.environ.get("RAY_ADDRESS") or None


def require_ray(address: str | None = None) -> Any:
    """The `ray` module, or the install command for it. A Ray on this machine (the one this
    command starts, or one at a loopback address) is kept on 127.0.0.1."""
    if address is None or _is_loopback(address):
        # Ray 2.60 otherwise swaps 127.0.0.1 for the machine's network address, and a Ray
        # this command starts has no token: its daemons would be open to the network. It
        # keeps to loopback where it believes multi-machine clusters off, which is all this
        # variable (named for Windows and macOS) says; read when ray is imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
        from ray import serve  # noqa: F401  (the extra installs both)
    except ImportError as exc:
        raise MissingDependencyError(
            f"`serve --ray` needs the {exc.name or 'ray'} package", hint=INSTALL
        ) from None
    return ray


def _is_loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rpartition(":")[0] or address
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def probe(address: str) -> None:
    """Fail at once, by name, when nothing listens at `address` (host:port or
    ray://host:port); "auto" finds a cluster on this machine and is left to Ray."""
    if address == "auto":
        return
    client = address.startswith("ray://")
    rest = address.removeprefix("ray://")
    host, _, port_text = rest.rpartition(":") if ":" in rest else (rest, "", "")
    try:
        port = int(port_text) if port_text else (CLIENT_PORT if client else GCS_PORT)
    except ValueError:
        raise ConfigError(f"--address {address!r} is not host:port") from None
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=PROBE_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ConfigError(
            f"no Ray cluster answers at {address}: {reason}",
            hint="check --address (the head's host:port), or leave it out to start a local Ray",
        ) from None


def connect(ray: Any, address: str | None) -> None:
    """`ray.init`; on a cluster within `CONNECT_SECONDS`, since a port that answers but is
    not Ray would otherwise keep the command waiting."""
    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address is None:
        # A Ray this command starts listens on this machine only; Ray 2.60 would otherwise
        # require a token that nothing here has. It starts in this (the main) thread: Ray
        # ties its processes' lives to the thread that started them.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        try:
            # "local": a new Ray even where `ray start` left one this would otherwise join.
            ray.init(address="local", include_dashboard=False, **options)
        except (RuntimeError, ConnectionError, OSError) as exc:
            raise ConfigError(f"cannot start a local Ray: {_first_line(exc)}") from None
        return
    probe(address)
    failure: list[BaseException] = []

    def init() -> None:
        try:
            ray.init(address=address, **options)
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=init, name="murmurnet-ray-init", daemon=True)
    worker.start()
    worker.join(CONNECT_SECONDS)
    if worker.is_alive():
        raise ConfigError(f"{address} did not accept a connection in {CONNECT_SECONDS:g} s")
    if failure:
        raise ConfigError(f"cannot connect to {address}: {_first_line(failure[0])}")


def _serving_at(host: str, port: int) -> tuple[str, int]:
    """Where Serve's HTTP proxy listens: a cluster whose Serve was already started keeps
    its own host and port (Serve applies --host and --port only when it starts)."""
    with contextlib.suppress(Exception):  # a private API: the flags are the fallback
        from ray.serve.context import _get_global_client

        client = _get_global_client()
        if client is not None:
            return str(client.http_config.host), int(client.http_config.port)
    return host, port


def _deployment_failure(serve: Any) -> str | None:
    """Why a deployment failed, from Serve's status: the MurmurNet error its replicas
    raised ("model file … does not exist"), which Serve's own exception leaves out."""
    with contextlib.suppress(Exception):
        application = serve.status().applications[APP_NAME]
        for name, deployment in application.deployments.items():
            found = _MURMUR_ERROR.findall(deployment.message or "")
            if found:
                return f"{found[-1]} ({name})"
    return None


_MURMUR_ERROR = re.compile(r"^murmurnet\.errors\.\w+: (.+)$", re.MULTILINE)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve_on_ray(
    config: RunConfig,
    host: str,
    port: int,
    options: ServerOptions,
    address: str | None = None,
) -> int:
    """Deploy the application and keep it up until Ctrl-C or SIGTERM."""
    ray = require_ray(address)
    from ray import serve

    application = build_app(config, options)  # bad settings fail before anything starts
    connect(ray, address)
    logging.getLogger("ray.serve").setLevel(logging.WARNING)  # one line says where it serves
    try:
        serve.start(http_options={"host": host, "port": port})
        try:
            serve.run(application, name=APP_NAME, route_prefix="/")
        except RuntimeError as exc:
            why = _deployment_failure(serve) or _first_line(exc)
            raise ConfigError(f"the application did not start: {why}") from None
        host, port = _serving_at(host, port)
        cluster = address or "a local Ray"
        print(f"murmurnet: serving http://{host}:{port} on {cluster}", file=sys.stderr)
        with _stop_on_signals() as stop:
            while not stop.wait(1.0):
                pass
    finally:
        if address is not None:  # a Ray this command started goes whole with ray.shutdown
            with contextlib.suppress(Exception):
                serve.delete(APP_NAME)
        ray.shutdown()
    return 0
