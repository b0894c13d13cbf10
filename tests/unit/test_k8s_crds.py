"""The custom resources in deploy/k8s against the schemas their operators publish (vendored
in tests/data/k8s, source and version in each file's header): KubeRay's RayService and
KEDA's ScaledObject. Unknown fields are errors, as with `kubectl apply --validate=strict`;
the pod templates inside the RayService go through kubernetes-validate --strict. And both
agree with the code: the Serve config is one Ray would take, the KEDA query is valid PromQL
naming a series that `/metrics` really exports."""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from murmurnet import RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.server import create_app

jsonschema = pytest.importorskip("jsonschema", reason="pip install -e '.[dev]'")

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = ROOT / "tests" / "data" / "k8s"
KUBERNETES = "1.37.0"


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def strict(schema: Any) -> Any:
    """The CRD schema as the API server applies it with strict field validation: an object
    with declared properties takes no others (unless it preserves unknown fields). A node
    marked `x-trimmed` accepts anything here; the test checks that part on its own."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "x-trimmed" in schema:
        return {}
    node = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    return node


@functools.cache
def validator(name: str) -> Any:
    schema = strict(load(SCHEMAS / name))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def errors(doc: dict[str, Any], name: str) -> list[str]:
    found = validator(name).iter_errors(doc)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def rayservice() -> dict[str, Any]:
    return load(K8S / "ray" / "rayservice.yaml")


def scaledobject() -> dict[str, Any]:
    return load(K8S / "keda" / "scaledobject.yaml")


RAY = "ray.io_rayservices.v1.schema.yaml"
KEDA = "keda.sh_scaledobjects.v1alpha1.schema.yaml"


@pytest.mark.parametrize(("doc", "schema"), [(rayservice, RAY), (scaledobject, KEDA)])
def test_each_custom_resource_fits_its_published_schema(doc: Any, schema: str) -> None:
    assert errors(doc(), schema) == []


def test_every_custom_resource_in_deploy_has_a_schema_here() -> None:
    """test_k8s_server.py validates the core kinds and leaves these to this file."""
    custom = [
        (path.relative_to(K8S).as_posix(), doc["apiVersion"], doc["kind"])
        for path in sorted(K8S.glob("*/*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["apiVersion"].startswith(("ray.io/", "keda.sh/"))
    ]
    assert custom == [
        ("keda/scaledobject.yaml", "keda.sh/v1alpha1", "ScaledObject"),
        ("ray/rayservice.yaml", "ray.io/v1", "RayService"),
    ]


@pytest.mark.parametrize(
    ("doc", "schema", "path", "value"),
    [
        (rayservice, RAY, ["spec", "rayClusterConfig", "enableInTreeAutoscaler"], True),
        (rayservice, RAY, ["spec", "serveConfigV2"], {"applications": []}),
        (scaledobject, KEDA, ["spec", "minReplicaCount"], "one"),
        (scaledobject, KEDA, ["spec", "triggers"], []),
    ],
)
def test_a_wrong_field_or_type_is_caught(
    doc: Any, schema: str, path: list[str], value: Any
) -> None:
    broken = copy.deepcopy(doc())
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert errors(broken, schema) != []


def pod_templates() -> list[dict[str, Any]]:
    cluster = rayservice()["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    return [group["template"] for group in groups]


def test_the_ray_pod_templates_and_metadata_pass_strict_validation() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="pip install -e '.[dev]'")
    for template in pod_templates():
        pod = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}}
        validate.validate({**pod, "template": template}, KUBERNETES, strict=True)
    for doc in (rayservice(), scaledobject()):
        # Custom resources carry the standard ObjectMeta: check it as a core object's.
        meta = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc["metadata"]}
        validate.validate(meta, KUBERNETES, strict=True)
    broken = copy.deepcopy(pod_templates()[0])
    broken["spec"]["containers"][0]["volumeMount"] = []
    with pytest.raises(validate.ValidationError):
        validate.validate({**pod, "template": broken}, KUBERNETES, strict=True)


def serve_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(rayservice()["spec"]["serveConfigV2"])
    return config


def configmap_config() -> dict[str, Any]:
    (configmap,) = yaml.safe_load_all((K8S / "server" / "configmap.yaml").read_text())
    config: dict[str, Any] = yaml.safe_load(configmap["data"]["config.yaml"])
    return config


def test_the_serve_application_names_the_documented_contract() -> None:
    (app,) = serve_config()["applications"]
    assert app["import_path"] == "murmurnet.distributed.ray_app:build"
    deployments = {d["name"]: d for d in app["deployments"]}
    assert set(deployments) == {"MurmurNetIngress", "Model-default"}
    # The ingress is one replica (runs live in its memory); the models' replicas scale.
    assert deployments["MurmurNetIngress"]["num_replicas"] == 1
    assert "autoscaling_config" not in deployments["MurmurNetIngress"]
    models = deployments["Model-default"]
    scaling = models["autoscaling_config"]
    assert 1 <= scaling["min_replicas"] <= scaling["max_replicas"]
    assert 0 < scaling["target_ongoing_requests"] <= models["max_ongoing_requests"]
    # One model replica = one engine with the config's threads: its CPUs in Ray.
    model = deployments["Model-default"]["ray_actor_options"]
    assert model["num_cpus"] == configmap_config()["threads"]
    mount = app["args"]["config"].rsplit("/", 1)[0]
    for template in pod_templates():
        (main,) = template["spec"]["containers"]
        paths = {m["mountPath"] for m in main["volumeMounts"]}
        assert {mount, configmap_config()["cache_folder"]} <= paths
        cpus = int(main["resources"]["requests"]["cpu"])
        assert cpus >= model["num_cpus"] or main["name"] == "ray-head"


def test_ray_accepts_the_serve_config() -> None:
    schema = pytest.importorskip("ray.serve.schema", reason="Ray is optional (pip install ray)")
    from ray.serve.config import AutoscalingConfig

    schema.ServeDeploySchema.model_validate(serve_config())
    for deployment in serve_config()["applications"][0]["deployments"]:
        if "autoscaling_config" not in deployment:
            continue
        # Ray keeps autoscaling_config a plain dict here and ignores keys it does not know.
        scaling = deployment["autoscaling_config"]
        assert set(scaling) <= set(AutoscalingConfig.model_fields), deployment["name"]
        AutoscalingConfig(**scaling)


def test_the_serve_application_builder_exists_once_written() -> None:
    module, _, name = serve_config()["applications"][0]["import_path"].partition(":")
    try:
        imported = __import__(module, fromlist=[name])
    except ImportError as exc:
        if exc.name is not None and module.startswith(exc.name):
            pytest.skip(f"{module} is not written yet")
        raise  # it exists but needs what is not installed: that is not "not written"
    assert callable(getattr(imported, name))


def keda_query() -> str:
    (trigger,) = scaledobject()["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    query: str = trigger["metadata"]["query"]
    return query


def test_keda_scales_the_server_deployment_as_the_hpa_would() -> None:
    spec = scaledobject()["spec"]
    (deployment,) = yaml.safe_load_all((K8S / "server" / "deployment.yaml").read_text())
    (hpa,) = yaml.safe_load_all((K8S / "server" / "hpa.yaml").read_text())
    assert spec["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (
        hpa["spec"]["minReplicas"],
        hpa["spec"]["maxReplicas"],
    )
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] == hpa["spec"]["behavior"]
    # Pods are added before one refuses runs: the threshold is below --max-runs.
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    max_runs = int(args[args.index("--max-runs") + 1])
    (trigger,) = spec["triggers"]
    assert 0 < float(trigger["metadata"]["threshold"]) < max_runs


def test_the_keda_query_names_only_series_the_server_exports() -> None:
    runtime = Runtime(RunConfig(), backends={"default": ScriptedBackend(lambda r: "4")})
    with TestClient(create_app(runtime)) as client:
        text = client.get("/metrics").text
    exported = set(re.findall(r"^(murmurnet_\w+?)(?:\{| )", text, re.MULTILINE))
    named = set(re.findall(r"\bmurmurnet_\w+", keda_query()))
    assert named and named <= exported, f"not exported: {named - exported}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="make setup-test installs promtool")
def test_the_keda_query_is_valid_promql(tmp_path: Path) -> None:
    rules = {"groups": [{"name": "keda", "rules": [{"record": "keda:q", "expr": keda_query()}]}]}
    path = tmp_path / "keda.yml"
    path.write_text(json.dumps(rules))
    checked = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
