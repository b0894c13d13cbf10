"""Session files: atomic saves that fail as typed errors and keep the previous file intact.

Every failure here is one the user can cause (a read-only folder, a full disk, a folder
where the file should be, a hand-edited file) and must end as one ConfigError line naming
the session file, never a traceback or a silently emptied conversation.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

import pytest

from murmurnet.errors import ConfigError
from murmurnet.memory import Conversation, load_session, save_session


def conversation(*questions: str) -> Conversation:
    talk = Conversation()
    for question in questions:
        talk.add(question, f"answer to {question}")
    return talk


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "sessions" / "talk.json"
    save_session(path, conversation("富士山の高さは？"))
    return path


def test_round_trip_is_private_and_leaves_no_temporary_file(saved: Path) -> None:
    assert load_session(saved).turns[0].question == "富士山の高さは？"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert leftovers(saved.parent) == []
    assert load_session(saved.parent / "new.json").turns == []


def test_an_unwritable_folder_is_a_config_error_and_the_old_file_survives(
    saved: Path, tmp_path: Path
) -> None:
    before = saved.read_bytes()
    if os.geteuid() == 0:  # root ignores permission bits: use a parent that is a file
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file", "utf-8")
        target = blocker / "talk.json"
    else:
        saved.parent.chmod(0o500)
        target = saved
    try:
        with pytest.raises(ConfigError) as error:
            save_session(target, conversation("first", "second"))
    finally:
        saved.parent.chmod(0o700)
    line = error.value.one_line()
    assert line.startswith(f"cannot save session file {target} (") and "\n" not in line
    assert saved.read_bytes() == before
    assert leftovers(saved.parent) == []


def test_a_folder_refusing_new_files_is_a_config_error(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a read-only folder does, also where the tests run as root (chmod is ignored)."""
    before = saved.read_bytes()

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(ConfigError, match=r"cannot save session file .*talk\.json \(Permission"):
        save_session(saved, conversation("first", "second"))
    assert saved.read_bytes() == before


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EIO], ids=["disk-full", "io-error"])
def test_a_failed_write_keeps_the_previous_session(
    saved: Path, monkeypatch: pytest.MonkeyPatch, failure: int
) -> None:
    before = saved.read_bytes()

    def broken(source: object, target: object) -> None:
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(ConfigError, match=os.strerror(failure)) as error:
        save_session(saved, conversation("first", "second"))
    assert str(saved) in error.value.one_line()
    assert saved.read_bytes() == before
    assert leftovers(saved.parent) == []


def test_ctrl_c_during_a_save_removes_the_temporary_file(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = saved.read_bytes()

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_session(saved, conversation("first", "second"))
    assert saved.read_bytes() == before
    assert leftovers(saved.parent) == []


def test_a_folder_where_the_session_file_should_be(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "talk.json"
    path.mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"cannot read session file .*talk\.json \("):
        load_session(path)
    with pytest.raises(ConfigError, match=r"cannot save session file .*talk\.json \("):
        save_session(path, conversation("q"))
    assert path.is_dir() and leftovers(path.parent) == []


def test_a_session_under_a_file_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    (tmp_path / "sessions").write_text("not a folder", "utf-8")
    with pytest.raises(ConfigError, match="cannot read session file"):
        load_session(tmp_path / "sessions" / "talk.json")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "EOF while parsing"),
        (b"{not json", "Invalid JSON"),
        (b'{"turns": [{"question": "q"}]}', "turns.0.answer: Field required"),
        (b'{"turns": "many"}', "turns: Input should be a valid"),
        (b"\xff\xfe\x00garbage", "Invalid JSON"),
    ],
)
def test_a_damaged_session_is_one_line_naming_file_and_problem(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "talk.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as error:
        load_session(path)
    line = error.value.one_line()
    assert line.startswith(f"session file {path} is damaged (") and "\n" not in line
    assert problem in line
    assert "move it away" in line
    assert path.read_bytes() == content  # never overwritten by a load
