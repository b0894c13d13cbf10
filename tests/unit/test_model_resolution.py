from __future__ import annotations

from pathlib import Path

import pytest

from murmurnet.config import RunConfig, load_config
from murmurnet.errors import ConfigError, ModelNotFoundError
from murmurnet.models.resolve import resolve_model


def test_model_names_resolve() -> None:
    config = RunConfig(models={"mine": {"type": "openai", "url": "http://127.0.0.1:1/v1"}})
    assert resolve_model(config, "mine").type == "openai"
    assert resolve_model(config, "gemma-3-270m").template == "completion"
    assert resolve_model(config, "default").bundled == "qwen2.5-0.5b"
    assert resolve_model(RunConfig(model_path=Path("m.gguf")), "default").path == Path("m.gguf")
    hf = resolve_model(RunConfig(model_type="huggingface", model_name="org/tiny"), "default")
    assert (hf.type, hf.hf_name) == ("transformers", "org/tiny")
    with pytest.raises(ModelNotFoundError, match="unknown model 'nope'"):
        resolve_model(config, "nope")


def test_openai_flags_name_the_server_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--model-type openai --model-name X` once failed with "unknown model 'X'"."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    config = RunConfig(model_type="openai", model_name="my-served-model")
    assert config.model_for("internal") == "default"
    spec = resolve_model(config, config.model_for("output"))
    assert (spec.type, spec.url, spec.api_model) == (
        "openai",
        "http://127.0.0.1:9/v1",
        "my-served-model",
    )


def test_openai_flags_without_a_server_say_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="server URL"):
        resolve_model(RunConfig(model_type="openai", model_name="x"), "default")


def test_model_path_goes_through_the_same_rules() -> None:
    spec = resolve_model(RunConfig(model_type="llama.cpp", model_path=Path("a.gguf")), "default")
    assert (spec.type, spec.path) == ("llama_cpp", Path("a.gguf"))
    hf = resolve_model(RunConfig(model_type="hf", model_path=Path("folder")), "default")
    assert (hf.type, hf.path) == ("transformers", Path("folder"))


@pytest.mark.parametrize("spelling", ["llama.cpp", "llama", "gguf", "LLAMA_CPP", "llama_cpp"])
def test_one_alias_table_for_flags_and_yaml(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"models:\n  m:\n    type: {spelling}\n    path: x.gguf\n", encoding="utf-8")
    assert load_config({}, path).models["m"].type == "llama_cpp"
    assert resolve_model(
        RunConfig(model_type=spelling, model_name="qwen2.5-0.5b"), "default"
    ).type == ("llama_cpp")


def test_model_name_may_name_a_configured_model() -> None:
    config = RunConfig(
        model_name="remote", models={"remote": {"type": "openai", "url": "http://127.0.0.1:1"}}
    )
    assert resolve_model(config, "default").type == "openai"
