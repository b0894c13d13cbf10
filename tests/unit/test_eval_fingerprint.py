"""Fingerprints: what produced a stored reply, so that a resumed run never mixes two setups."""

from __future__ import annotations

from pathlib import Path

from murmurnet.config import RunConfig
from murmurnet.evaluation import fingerprint as fp


def test_code_version_is_stable_and_needs_no_git() -> None:
    assert fp.code_version() == fp.code_version() == fp.hash_code(fp.PACKAGE_ROOT)
    assert len(fp.code_version()) == fp.LENGTH
    names = [p.relative_to(fp.PACKAGE_ROOT).as_posix() for p in fp.code_files()]
    assert names == sorted(names)
    assert "api.py" in names and "evaluation/prompting.py" in names
    assert any(name.endswith(".yaml") for name in names)  # prompts and roles count
    assert not set(names) & fp.READ_ONLY_MODULES  # a scoring fix keeps old replies
    # the evaluation command counts; the server and the other commands never run in one
    assert "cli/evaluate.py" in names and "cli/common.py" in names
    assert not [n for n in names if n.startswith("server/") or n == "cli/serve.py"]


def test_code_version_follows_file_contents(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "roles").mkdir()
    (tmp_path / "roles" / "r.yaml").write_text("a: 1\n")
    (tmp_path / "notes.md").write_text("ignored")
    before = fp.hash_code(tmp_path)
    (tmp_path / "notes.md").write_text("still ignored")
    assert fp.hash_code(tmp_path) == before
    (tmp_path / "roles" / "r.yaml").write_text("a: 2\n")
    assert fp.hash_code(tmp_path) != before
    (tmp_path / "evaluation").mkdir()
    after = fp.hash_code(tmp_path)
    (tmp_path / "evaluation" / "scoring.py").write_text("changed = True\n")
    assert fp.hash_code(tmp_path) == after


def test_comments_docstrings_and_layout_do_not_change_the_code_version(tmp_path: Path) -> None:
    code = tmp_path / "a.py"
    code.write_text('"""Old."""\n\ndef f(x):\n    """Why."""\n    return x + 1\n')
    (tmp_path / "p.yaml").write_text("task: Answer.  # why\n")
    before = fp.hash_code(tmp_path)
    code.write_text(
        '"""New words."""\n\n\ndef f(x):  # a comment\n    return (x + 1)\n    """Unreachable."""\n'
    )
    (tmp_path / "p.yaml").write_text("# a comment\ntask: >-\n  Answer.\n")
    assert fp.hash_code(tmp_path) == before
    code.write_text("def f(x):\n    return x + 2\n")
    assert fp.hash_code(tmp_path) != before
    code.write_text("def f(x):\n    return x + 1\n")
    (tmp_path / "p.yaml").write_text("task: Answer briefly.\n")
    assert fp.hash_code(tmp_path) != before  # a prompt's words count


def test_fingerprint_changes_with_settings_strategy_and_code() -> None:
    config = RunConfig()
    base = fp.fingerprinter(config)
    assert base("plain") == fp.fingerprinter(RunConfig())("plain")
    assert base("plain") != base("single")
    assert base("plain") != fp.fingerprinter(RunConfig(agents=3))("plain")
    assert base("plain") != fp.fingerprinter(None)("plain")
    settings = fp.settings_of(config)
    assert fp.fingerprint(settings, "plain", code="a") != fp.fingerprint(
        settings, "plain", code="b"
    )


def test_settings_that_change_no_reply_are_left_out(tmp_path: Path) -> None:
    base = fp.fingerprinter(RunConfig())("murmur")
    assert fp.fingerprinter(RunConfig(strategy="single", debug=True))("murmur") == base
    assert fp.fingerprinter(RunConfig(log=tmp_path / "log.jsonl"))("murmur") == base


def test_role_files_count_by_content(tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_text("roles: {}\n")
    first = fp.fingerprinter(RunConfig(role_files=[roles]))("murmur")
    roles.write_text("roles: {critic: {}}\n")
    assert fp.fingerprinter(RunConfig(role_files=[roles]))("murmur") != first
