"""The Ray Serve application: the HTTP API as an ingress, each model as a deployment.

The ingress runs the unchanged server (`create_app`) and pipeline on a `Runtime` whose
backends are `RayModel`s: every round the pipeline sends goes, as one batch, to one replica
of the model's deployment, which holds the loaded model with its batched engine. Replicas
scale on the rounds ongoing at each (`ray_serve.models`), and a round whose replica dies is
sent again to another (see `ray_backend`).

`build` is the import path KubeRay's RayService names (deploy/k8s/ray/rayservice.yaml);
`murmurnet serve --ray` calls `build_app` with the settings it has already read. Ray is
imported only when an application is built, so this module can be imported (and the
configuration checked) without it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from murmurnet.config import DEFAULT_ALIAS, ModelSpec, RunConfig, load_config
from murmurnet.errors import ConfigError, MissingDependencyError
from murmurnet.models.registry import LoadOptions
from murmurnet.models.resolve import resolve_model

if TYPE_CHECKING:
    from fastapi import FastAPI
    from ray.serve import Application
    from ray.serve.handle import DeploymentHandle

    from murmurnet.api import Runtime

APP_NAME = "murmurnet"
INGRESS = "MurmurNetIngress"
INSTALL = "pip install 'murmurnet[ray]'"
STAGE_FIELDS = ("internal_model", "summary_model", "output_model", "choice_model")


@dataclass(frozen=True)
class ServerOptions:
    """The `serve` flags that shape the HTTP API, as `create_app` takes them."""

    api_key: str | None = None
    request_timeout: float = 600.0
    max_runs: int = 32


def deployment_name(model: str) -> str:
    """`Model-<name>`, with what Serve does not take in a name replaced."""
    return "Model-" + re.sub(r"[^A-Za-z0-9._-]", "_", model)


def model_groups(config: RunConfig) -> dict[str, list[str]]:
    """Every model name a run of this configuration (or of one of its profiles) can ask
    for, grouped by the weights it loads: one deployment per group, named after its first
    name ("default" when it is one), so no two deployments load the same model."""
    names = {DEFAULT_ALIAS, *config.models}
    for settings in [config.model_dump(include=set(STAGE_FIELDS)), *config.profiles.values()]:
        names.update(str(settings[key]) for key in STAGE_FIELDS if settings.get(key))
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in sorted(names, key=lambda n: (n != DEFAULT_ALIAS, n)):
        groups.setdefault(resolve_model(config, name).identity(), []).append(name)
    return {members[0]: members for members in groups.values()}


def load_options(config: RunConfig) -> LoadOptions:
    """What a replica loads its model with: the options the local model pool would use."""
    return LoadOptions(
        cache_folder=config.cache_folder,
        local_files_only=config.local_files,
        threads=config.threads,
        context_size=config.context_size,
        pool=config.endpoint_pool,
    )


class MurmurNetIngress:
    """The HTTP API in one Serve replica; Serve wraps it with `serve.ingress()`, which
    calls `__serve_build_asgi_app__` once the constructor has found the models."""

    async def __init__(  # type: ignore[misc]  # Serve awaits an async constructor
        self,
        config: RunConfig,
        models: Mapping[str, DeploymentHandle[Any]],
        groups: Mapping[str, list[str]],
        options: ServerOptions,
    ) -> None:
        from murmurnet.api import Runtime
        from murmurnet.distributed.boards import blackboard_factory
        from murmurnet.distributed.ray_backend import ray_model

        backends = {}
        for key, handle in models.items():
            info = await handle.info.remote()
            backend = ray_model(handle, info, config.ray_serve)
            backends.update(dict.fromkeys(groups[key], backend))
        self.options = options
        self.runtime: Runtime = Runtime(
            config, backends=backends, blackboard=blackboard_factory(config.blackboard)
        )

    def __serve_build_asgi_app__(self) -> FastAPI:
        from murmurnet.server import create_app

        o = self.options
        return create_app(self.runtime, o.api_key, o.request_timeout, o.max_runs)

    def __del__(self) -> None:
        runtime = getattr(self, "runtime", None)
        if runtime is not None:
            runtime.close()


def build_app(config: RunConfig, options: ServerOptions | None = None) -> Application:
    """The Serve application for `config`; deploy it with `serve.run`."""
    try:
        from ray import serve
    except ImportError as exc:
        raise MissingDependencyError(
            f"serving on Ray needs the {exc.name} package", hint=INSTALL
        ) from None
    from murmurnet.distributed.ray_replica import ModelReplica

    settings = config.ray_serve
    groups = model_groups(config)
    replica_options: dict[str, Any] = {"num_cpus": settings.model_cpus(config.threads)}
    models = {}
    for key in groups:
        spec: ModelSpec = resolve_model(config, key)
        deployment = serve.deployment(
            name=deployment_name(key),
            autoscaling_config=settings.models.autoscaling_config(),
            max_ongoing_requests=settings.max_ongoing_requests,
            ray_actor_options=replica_options,
        )(ModelReplica)
        models[key] = deployment.bind(spec, load_options(config))
    ingress = serve.deployment(
        name=INGRESS,
        num_replicas=1,  # runs live in its memory (see ingress_max_ongoing_requests)
        max_ongoing_requests=settings.ingress_max_ongoing_requests,
        ray_actor_options={"num_cpus": settings.ingress_cpus},
    )(serve.ingress()(MurmurNetIngress))
    return ingress.bind(config, models, groups, options or ServerOptions())


def build(args: dict[str, str]) -> Application:
    """The application builder a Serve config's `import_path` names; `args` may give
    `config` (the same YAML file as `murmurnet serve --config`), `api_key`,
    `request_timeout` and `max_runs`."""
    known = {"config", "api_key", "request_timeout", "max_runs"}
    unknown = sorted(set(args) - known)
    if unknown:
        raise ConfigError(
            f"unknown application argument {unknown[0]!r}", hint=f"use {', '.join(sorted(known))}"
        )
    config_file = Path(args["config"]) if args.get("config") else None
    config = load_config(config_file=config_file)
    try:
        options = ServerOptions(
            api_key=args.get("api_key") or None,
            request_timeout=float(args.get("request_timeout", 600.0)),
            max_runs=int(args.get("max_runs", 32)),
        )
    except ValueError as exc:
        raise ConfigError(f"invalid application argument: {exc}") from None
    return build_app(config, options)
