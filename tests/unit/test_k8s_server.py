"""deploy/k8s/server: the manifests of `murmurnet serve` pass `kubernetes-validate --strict`,
and they agree with the code they run: the ConfigMap is a config file the project loads,
the ports, probe paths and mounts are the ones the server really uses. The files are
written by hand (a user edits them), so these tests are what keeps them true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from murmurnet import RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.config import load_config
from murmurnet.server import create_app
from murmurnet.server.app import OPEN_ROUTES

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
SERVER = K8S / "server"
KUBERNETES = "1.37.0"
"""The newest Kubernetes that kubernetes-validate (dev extra) carries schemas for."""


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifest(name: str) -> dict[str, Any]:
    (doc,) = documents(SERVER / name)
    return doc


def container() -> dict[str, Any]:
    (main,) = manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    return main


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def configmap_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunConfig:
    """The ConfigMap's config.yaml, loaded as `murmurnet serve --config` would load it."""
    monkeypatch.delenv("MURMURNET_CACHE_FOLDER", raising=False)  # the tests' own, not the pod's
    path = tmp_path / "config.yaml"
    path.write_text(manifest("configmap.yaml")["data"]["config.yaml"])
    return load_config(config_file=path)


def test_every_core_manifest_passes_strict_validation() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="pip install -e '.[dev]'")
    kinds = set()
    for path in sorted(K8S.glob("*/*.yaml")):
        for doc in documents(path):
            if doc.get("apiVersion", "").startswith(("ray.io/", "keda.sh/", "kustomize.")):
                continue  # custom resources: test_k8s_crds.py checks them against their CRDs
            kinds.add(doc["kind"])
            validate.validate(doc, KUBERNETES, strict=True)
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds


def test_strict_validation_rejects_a_misspelt_field() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="pip install -e '.[dev]'")
    deployment = manifest("deployment.yaml")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(validate.ValidationError):
        validate.validate(deployment, KUBERNETES, strict=True)


def test_kustomization_applies_every_server_manifest() -> None:
    listed = manifest("kustomization.yaml")["resources"]
    on_disk = sorted(p.name for p in SERVER.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk


def test_the_configmap_is_a_config_the_project_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = configmap_config(tmp_path, monkeypatch)
    main = container()
    mounts = {m["name"]: m["mountPath"] for m in main["volumeMounts"]}
    assert flag(main["args"], "--config") == f"{mounts['config']}/config.yaml"
    assert str(config.cache_folder) == mounts["model-cache"]
    # The engine's threads are the CPUs the pod is given, not the node's cores it can see.
    assert config.threads == int(main["resources"]["requests"]["cpu"])


def test_ports_and_metrics_agree_with_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitoring = configmap_config(tmp_path, monkeypatch).monitoring
    main = container()
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert main["args"][0] == "serve" and int(flag(main["args"], "--port")) == ports["http"]
    assert flag(main["args"], "--host") == "0.0.0.0"  # reachable from the Service
    assert monitoring.enable_prometheus and monitoring.prometheus_port == ports["metrics"]
    annotations = manifest("deployment.yaml")["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]
    service = manifest("service.yaml")["spec"]
    assert {p["targetPort"] for p in service["ports"]} <= set(ports)
    pod_labels = manifest("deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= pod_labels.items()


def test_the_hpa_scales_this_deployment() -> None:
    hpa = manifest("hpa.yaml")["spec"]
    deployment = manifest("deployment.yaml")
    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    # Utilization is measured against the request: a container without one never scales.
    assert "cpu" in container()["resources"]["requests"]


def test_the_pod_runs_as_non_root_on_a_read_only_root() -> None:
    pod = manifest("deployment.yaml")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"]
    security = container()["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    writable = {m["mountPath"] for m in container()["volumeMounts"] if not m.get("readOnly")}
    assert "/tmp" in writable


def test_the_probes_are_open_routes_of_the_server() -> None:
    main = container()
    ready, live = main["readinessProbe"]["httpGet"], main["livenessProbe"]["httpGet"]
    assert ready["port"] == live["port"] == "http"
    assert {ready["path"], live["path"]} <= OPEN_ROUTES
    runtime = Runtime(RunConfig(), backends={"default": ScriptedBackend(lambda r: "4")})
    with TestClient(create_app(runtime, api_key="k8s")) as client:
        assert client.get(live["path"]).status_code == 200
        for _ in range(200):
            if (answer := client.get(ready["path"])).status_code == 200:
                break
        assert answer.json() == {"status": "ready"}
