from __future__ import annotations

from pathlib import Path

import pytest

from murmurnet.config import RunConfig, load_config
from murmurnet.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_original_cli() -> None:
    config = load_config()
    assert (config.agents, config.iterations) == (2, 1)
    assert (config.internal_temp, config.output_temp, config.summary_temp) == (0.7, 0.7, 0.6)
    assert (config.internal_tokens, config.output_tokens, config.summary_tokens) == (200, 250, 150)
    assert config.parallel and config.summary and config.local_files


def test_precedence_is_flags_then_env_then_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "agents: 3\niterations: 2\ninternal_tokens: 50\n")
    assert load_config({}, path).agents == 3
    monkeypatch.setenv("MURMURNET_AGENTS", "4")
    config = load_config({}, path)
    assert (config.agents, config.iterations) == (4, 2)
    assert load_config({"agents": 5}, path).agents == 5
    assert load_config({"agents": None}, path).agents == 4


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, "agentz: 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'agentz' in config file .*config.yaml"):
        load_config({}, path)


def test_wrong_type_names_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, "agents: many\n")
    with pytest.raises(ConfigError, match=r"'agents' in config file .*config.yaml"):
        load_config({}, path)


def test_nested_unknown_key_in_model_spec(tmp_path: Path) -> None:
    path = write(tmp_path, "models:\n  m:\n    type: llama_cpp\n    pth: x.gguf\n")
    with pytest.raises(ConfigError, match=r"models.m.pth"):
        load_config({}, path)


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "agents: [1,\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line"):
        load_config({}, path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config({}, tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("flags", "key"),
    [
        ({"agents": 0}, "agents"),
        ({"agents": 17}, "agents"),
        ({"iterations": 0}, "iterations"),
        ({"internal_temp": -0.1}, "internal_temp"),
        ({"output_tokens": 0}, "output_tokens"),
    ],
)
def test_out_of_range_flags(flags: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=rf"'{key}' in flag --{key.replace('_', '-')}"):
        load_config(flags)


def test_env_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MURMURNET_ITERATIONS", "0")
    with pytest.raises(ConfigError, match="MURMURNET_ITERATIONS"):
        load_config()


def test_original_sections_are_accepted_and_checked(tmp_path: Path) -> None:
    ok = write(tmp_path, "distributed_coordination:\n  consensus_algorithm: raft\nagents: 3\n")
    assert load_config({}, ok).agents == 3
    assert load_config({}, ok).consensus == "leader"  # raft → the Raft-inspired protocol
    bad = write(tmp_path, "performance_optimization:\n  compression_algorithm: gzip\n")
    with pytest.raises(ConfigError, match="compression_algorithm"):
        load_config({}, bad)


def test_stage_models_fall_back_to_the_internal_model() -> None:
    config = RunConfig(internal_model="a", summary_model="b")
    assert (config.model_for("summary"), config.model_for("output")) == ("b", "a")


def test_shipped_examples_load() -> None:
    from murmurnet.roles.assignment import assign_roles, available_roles

    root = Path(__file__).resolve().parents[2]
    config = load_config({}, root / "examples" / "mixed-models.yaml")
    assert (config.model_for("summary"), config.model_for("output")) == ("gemma", "qwen")
    roles = assign_roles(config, "informational", "en")
    assert [r.name for r in roles] == ["researcher", "fact_checker", "critic"]
    with_file = load_config({"role_files": [root / "examples" / "roles-ja.yaml"]})
    assert available_roles(with_file, "ja")["teacher"].title == "先生"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("performance_optimization:\n  compresion_algorithm: lz4\n", "compresion_algorithm"),
        ("performance_optimization:\n  compression_threshold_bytes: big\n", "threshold"),
        ("distributed_coordination:\n  heartbeat_interval: fast\n", "heartbeat_interval"),
        ("distributed_coordination:\n  max_load_threshold: high\n", "max_load_threshold"),
    ],
)
def test_the_original_sections_name_the_key_the_user_wrote(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_file=write(tmp_path, text))
    line = caught.value.one_line()
    assert named in line and "\n" not in line
    assert "endpoint_pool" not in line and "blackboard." not in line


def test_the_original_compression_keys_set_the_blackboard(tmp_path: Path) -> None:
    original = (
        "performance_optimization:\n  enable: true\n  enable_latency_tracing: true\n"
        "  enable_compression: true\n  compression_algorithm: lz4\n"
        "  compression_threshold_bytes: 2048\n  batch_size: 10\n"
    )
    board = load_config(config_file=write(tmp_path, original)).blackboard
    assert (board.compression, board.compress_above) == ("zstd", 2048)
    off = "performance_optimization:\n  enable_compression: false\n"
    assert load_config(config_file=write(tmp_path, off)).blackboard.compression == "none"
