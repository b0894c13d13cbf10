"""deploy/docker/Dockerfile against what uses it: no Docker engine runs where the tests do,
so these checks read the file. Every image deploy/k8s names is one its documented build
commands tag, from a stage that exists; the extras it installs exist; its Ray is the
RayService's rayVersion and the project's pin; the user it runs as is the pod's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
STAGES = re.findall(r"^FROM \S+ AS (\S+)$", DOCKERFILE, re.MULTILINE)
BUILD_COMMAND = r"^#\s+docker build .*--target (\S+) -t (\S+) \.$"
BUILDS = {tag: target for target, tag in re.findall(BUILD_COMMAND, DOCKERFILE, re.MULTILINE)}
"""Image tag → stage, from the build commands the file's header gives."""


def images() -> dict[str, list[dict[str, object]]]:
    """Every container of deploy/k8s by the image it names."""
    found: dict[str, list[dict[str, object]]] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("image"), str):
                found.setdefault(node["image"], []).append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in (ROOT / "deploy" / "k8s").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            walk(doc)
    return found


def test_every_image_the_manifests_name_is_built_by_a_stage_here() -> None:
    assert BUILDS, "the header gives no build commands"
    assert set(images()) == set(BUILDS)
    assert set(BUILDS.values()) <= set(STAGES)


def test_the_installed_extras_exist() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    named = re.findall(r"""["']?(?:\.|murmurnet)\[([a-z,]+)\]""", DOCKERFILE)
    assert named
    for group in named:
        assert set(group.split(",")) <= set(extras), group


def test_the_ray_image_is_the_ray_the_rayservice_and_the_project_pin() -> None:
    (base,) = re.findall(r"^ARG RAY_IMAGE=rayproject/ray:([\d.]+)-", DOCKERFILE, re.MULTILINE)
    (rayservice,) = yaml.safe_load_all((ROOT / "deploy/k8s/ray/rayservice.yaml").read_text())
    assert rayservice["spec"]["rayClusterConfig"]["rayVersion"] == base
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["ray"] == [f"ray[serve]=={base}"]


def test_the_server_image_runs_as_the_pods_user() -> None:
    server = DOCKERFILE.split("AS server\n", 1)[1].split("\nFROM ", 1)[0]
    (user,) = re.findall(r"^USER (\d+)$", server, re.MULTILINE)
    deployment = yaml.safe_load((ROOT / "deploy/k8s/server/deployment.yaml").read_text())
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(user)


def test_the_build_context_holds_what_the_stages_copy() -> None:
    kept = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.MULTILINE):
        for source in sources.split():
            assert source in kept and (ROOT / source).exists(), source
