"""The Redis blackboard against a real redis-server on 127.0.0.1: versions 1, 2, 3… with
several writer processes, listeners in order, `murmurnet watch` following `ask` from another
process, `serve` writing to Redis, and a Redis restarted mid-run with persistence on losing
no entry. One server serves the session (each test its own namespace); the tests that stop
Redis start their own."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from murmurnet.cli.main import main
from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.distributed.boards import blackboard_factory
from murmurnet.distributed.redis_board import RedisBlackboards
from murmurnet.distributed.redis_client import run_keys
from murmurnet.distributed.redis_watch import follow
from murmurnet.errors import BlackboardUnavailableError
from murmurnet.types import BlackboardEntry, EntryKind

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (make setup-test installs it)",
)

REPLIES = ["agent one says 4", "agent two says 4", "both say 4", "The answer is 4."]
FAKE = ("--internal-model", "fake")
PERSISTENT = ("--appendonly", "yes", "--appendfsync", "always")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis(port: int, folder: Path, *options: str) -> subprocess.Popen[bytes]:
    """A redis-server child on loopback; the caller stops it by its pid."""
    folder.mkdir(parents=True, exist_ok=True)
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    command += ["--dir", str(folder), *options]
    log = (folder / "redis.log").open("ab")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return server
        except redis.RedisError:
            time.sleep(0.02)
    server.kill()
    pytest.fail(f"redis-server did not answer on port {port}")


@contextmanager
def redis_server(
    folder: Path, *options: str
) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A server of its own; the list holds the current process, so a test can replace it."""
    port = free_port()
    servers = [start_redis(port, folder, *options)]
    try:
        yield port, servers
    finally:
        for server in servers:
            if server.poll() is None:
                server.kill()
                server.wait(10)


@pytest.fixture(scope="session")
def shared_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with redis_server(tmp_path_factory.mktemp("redis")) as (port, _):
        yield port


@pytest.fixture
def settings(shared_port: int) -> BlackboardSettings:
    """The session's Redis under a namespace of this test's own."""
    return settings_for(shared_port)


def settings_for(port: int, **extra: object) -> BlackboardSettings:
    return BlackboardSettings.model_validate(
        {
            "store": "redis",
            "redis_url": f"redis://127.0.0.1:{port}/0",
            "namespace": f"t{uuid.uuid4().hex[:8]}",
            **extra,
        }
    )


def stream(settings: BlackboardSettings, run_id: str) -> list[BlackboardEntry]:
    """Everything on the run's stream, read back by a watcher that stops when it is quiet."""
    return list(follow(settings, run_id, idle=0.5))


# Writes `count` entries to one run from its own process; prints its versions and what its
# listener saw. Every writer opens its board, says "ready", and starts on "go".
WRITER = r"""
import json, sys, time
from murmurnet.cli.main import main
from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.distributed.boards import blackboard_factory
from murmurnet.types import EntryKind

settings = BlackboardSettings.model_validate_json(sys.argv[1])
run_id, name, count, pause = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
seen = []
board = blackboard_factory(settings)(run_id, [lambda entry: seen.append(entry.version)])
print("ready", flush=True)
sys.stdin.readline()
mine = []
for i in range(count):
    mine.append(board.write(EntryKind.CONTRIBUTION, f"{name}-{i}", role=name).version)
    time.sleep(pause)
board.entries()
print(json.dumps({"mine": mine, "seen": seen}), flush=True)
"""


def start_writers(
    settings: BlackboardSettings, run_id: str, names: list[str], count: int, pause: float
) -> list[subprocess.Popen[str]]:
    numbers = [str(count), str(pause)]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, settings.model_dump_json(), run_id, name, *numbers],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    return writers


def finish(writers: list[subprocess.Popen[str]]) -> list[dict[str, list[int]]]:
    results = []
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def assert_every_write_once(
    entries: list[BlackboardEntry],
    names: list[str],
    count: int,
    reports: list[dict[str, list[int]]],
) -> None:
    assert [e.version for e in entries] == list(range(1, len(names) * count + 1))
    texts = [e.text for e in entries]
    assert sorted(texts) == sorted(f"{n}-{i}" for n in names for i in range(count))
    for name, report in zip(names, reports, strict=True):
        # A writer's own entries keep its order, at the versions it was told.
        assert [entries[v - 1].text for v in report["mine"]] == [
            f"{name}-{i}" for i in range(count)
        ]
        # Its listener saw the run's writes, everyone's, each once and in order.
        assert report["seen"] == list(range(1, len(report["seen"]) + 1))
        assert len(report["seen"]) >= max(report["mine"])


def test_several_processes_write_one_run_with_versions_1_2_3(
    settings: BlackboardSettings,
) -> None:
    names = ["w0", "w1", "w2", "w3"]
    writers = start_writers(settings, "shared-run", names, count=40, pause=0.001)
    reports = finish(writers)
    assert_every_write_once(stream(settings, "shared-run"), names, 40, reports)


def test_listeners_see_other_processes_writes_in_order(settings: BlackboardSettings) -> None:
    store = blackboard_factory(settings)
    seen: list[BlackboardEntry] = []
    here = store("r1", [seen.append])
    there = RedisBlackboards(settings)("r1", [])  # another "process": its own connections
    here.write(EntryKind.QUESTION, "q")
    there.write(EntryKind.CONTRIBUTION, "from there", round=1, agent=1)
    third = here.write(EntryKind.SUMMARY, "s", round=1)
    assert third.version == 3
    assert [e.version for e in seen] == [1, 2, 3]
    assert seen[1].text == "from there"
    assert here.entries() == there.entries() == seen
    late = store("r1", [])
    assert late.version == 3 and late.entries(EntryKind.SUMMARY) == [third]


def test_long_entries_are_stored_compressed(settings: BlackboardSettings) -> None:
    board = blackboard_factory(settings.model_copy(update={"compress_above": 200}))("big", [])
    text = "水は水素と酸素からできています。" * 100
    board.write(EntryKind.PASSAGE, text, source="water.txt")
    client = redis.Redis.from_url(settings.redis_url)
    [(_, fields)] = client.xrange(run_keys(settings.namespace, "big").entries)
    assert list(fields) == [b"zstd"] and len(fields[b"zstd"]) < len(text.encode()) / 4
    assert stream(settings, "big")[0].text == text


def config_file(tmp_path: Path, settings: BlackboardSettings, replies: list[str]) -> Path:
    path = tmp_path / "redis.yaml"
    board = settings.model_dump(include={"store", "redis_url", "namespace"})
    models = {"fake": {"type": "scripted", "responses": replies}}
    path.write_text(json.dumps({"models": models, "blackboard": board}), encoding="utf-8")
    return path


def murmurnet(*argv: str) -> list[str]:
    return [sys.executable, "-m", "murmurnet", *argv]


def test_watch_follows_an_ask_from_another_process(
    tmp_path: Path, settings: BlackboardSettings
) -> None:
    config = config_file(tmp_path, settings, REPLIES)
    watcher = subprocess.Popen(
        murmurnet("watch", "--json", "--config", str(config), "--wait", "60"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    asked = subprocess.run(
        murmurnet("ask", "Tell me about four.", "--json", "--config", str(config), *FAKE),
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    answer = json.loads(asked.stdout)
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert f"watching run {answer['run_id']}" in err
    watched = [json.loads(line) for line in out.splitlines()]
    assert watched == answer["entries"]  # every entry, in order, as the run wrote it
    assert watched[-1]["kind"] == "final" and watched[-1]["text"] == answer["answer"]
    human = subprocess.run(
        murmurnet("watch", answer["run_id"], "--config", str(config)),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert human.stdout.startswith("#1 question\n  Tell me about four.")
    assert "final" in human.stdout.splitlines()[-2]


def test_watch_gives_up_waiting_for_a_run_in_one_line(
    settings: BlackboardSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["watch", "--redis-url", settings.redis_url, "--namespace", settings.namespace]
    assert main([*argv, "--wait", "0.3"]) == 2
    err = capsys.readouterr().err
    assert "no run started within 0.3 s" in err and len(err.strip().splitlines()) == 1


def test_watch_of_an_unknown_run_is_a_one_line_error_not_a_hang(
    settings: BlackboardSettings,
) -> None:
    """A mistyped id used to wait forever for a first entry, printing nothing."""
    flags = ("--redis-url", settings.redis_url, "--namespace", settings.namespace)
    typo = subprocess.run(
        murmurnet("watch", "no-such-run", *flags), capture_output=True, text=True, timeout=60
    )
    assert typo.returncode == 2 and typo.stdout == ""
    [line] = typo.stderr.strip().splitlines()
    assert "no run no-such-run" in line and settings.redis_url in line
    # A run that has opened its board but written nothing yet is there to watch.
    blackboard_factory(settings)("quiet", [])
    quiet = subprocess.run(
        murmurnet("watch", "quiet", *flags, "--idle", "0.3"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert quiet.returncode == 0 and quiet.stdout == "", quiet.stderr


def test_serve_writes_its_runs_to_redis(tmp_path: Path, settings: BlackboardSettings) -> None:
    config = config_file(tmp_path, settings, REPLIES)
    port = free_port()
    server = subprocess.Popen(
        murmurnet("serve", "--port", str(port), "--config", str(config), *FAKE),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        reply = httpx.post(
            f"{base}/v1/murmur", json={"question": "Tell me about four."}, timeout=60
        ).json()
    finally:
        server.terminate()
        server.wait(20)
    on_redis = [e.model_dump(mode="json") for e in stream(settings, reply["run_id"])]
    assert on_redis == reply["entries"] and on_redis[-1]["kind"] == "final"


def test_a_restart_mid_run_with_persistence_loses_no_entry(tmp_path: Path) -> None:
    """Redis is killed while two processes write and a third watches, then started again on
    its append-only file: every write is there once, at versions 1…N, and the watcher saw
    them all."""
    with redis_server(tmp_path / "aof", *PERSISTENT) as (port, servers):
        settings = settings_for(port, retry_seconds=30)
        names, count = ["a", "b"], 150
        watch_config = tmp_path / "watch.yaml"
        watch_config.write_text(json.dumps({"blackboard": settings.model_dump()}), "utf-8")
        watcher = subprocess.Popen(
            murmurnet("watch", "run", "--json", "--config", str(watch_config), "--wait", "60"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        writers = start_writers(settings, "run", names, count=count, pause=0.01)
        client = redis.Redis(port=port)
        key = run_keys(settings.namespace, "run").entries
        wait_for_entries(client, key, count // 2, writers, seconds=60)
        servers[0].kill()  # SIGKILL: no chance to flush anything it had not already
        servers[0].wait(10)
        time.sleep(1.0)  # the writers and the watcher are retrying now
        servers.append(start_redis(port, tmp_path / "aof", *PERSISTENT))
        assert client.xlen(key) >= count // 2  # what was written before is back
        reports = finish(writers)
        blackboard_factory(settings)("run", []).write(EntryKind.FINAL, "done")
        entries = stream(settings, "run")
        assert_every_write_once(entries[:-1], names, count, reports)
        out, err = watcher.communicate(timeout=60)
        assert watcher.returncode == 0, err
        watched = [BlackboardEntry.model_validate_json(line) for line in out.splitlines()]
        assert watched == entries


def wait_for_entries(
    client: redis.Redis,
    key: str,
    count: int,
    writers: list[subprocess.Popen[str]],
    seconds: float,
) -> None:
    """Until the stream holds `count` entries: a writer that died fails the test at once, one
    that is stuck after `seconds`, instead of the test hanging."""
    deadline = time.monotonic() + seconds
    while (written := client.xlen(key)) < count:
        dead = [w.returncode for w in writers if w.poll() is not None]
        if dead or time.monotonic() > deadline:
            pytest.fail(f"{written} of {count} entries written; writers exited with {dead}")
        time.sleep(0.01)


def test_waiting_for_writers_ends_when_they_die(settings: BlackboardSettings) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], text=True)
    dead.wait(30)
    client = redis.Redis.from_url(settings.redis_url)
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match=r"0 of 5 entries written; .*\[3\]"):
        wait_for_entries(client, "nothing", 5, [dead], seconds=30)
    assert time.monotonic() - started < 5
    with pytest.raises(pytest.fail.Exception, match="0 of 5"):
        wait_for_entries(client, "nothing", 5, [], seconds=0.2)  # alive but stuck


def test_redis_gone_for_good_is_a_one_line_error(tmp_path: Path) -> None:
    with redis_server(tmp_path / "gone") as (port, servers):
        board = blackboard_factory(settings_for(port, retry_seconds=0.5, timeout=0.5))("r", [])
        board.write(EntryKind.QUESTION, "q")
        servers[0].kill()
        servers[0].wait(10)
        started = time.monotonic()
        with pytest.raises(BlackboardUnavailableError, match="cannot reach the Redis"):
            board.write(EntryKind.CONTRIBUTION, "c", round=1, agent=1)
        assert time.monotonic() - started < 5


def test_a_restart_that_lost_the_run_is_not_taken_for_a_fresh_start(tmp_path: Path) -> None:
    """Without persistence a restarted Redis would hand out version 1 again: the board says
    so instead of writing a run with two first entries."""
    with redis_server(tmp_path / "volatile") as (port, servers):
        board = blackboard_factory(settings_for(port, retry_seconds=10))("r", [])
        for text in ("q", "c1", "c2"):
            board.write(EntryKind.CONTRIBUTION, text)
        servers[0].kill()
        servers[0].wait(10)
        servers.append(start_redis(port, tmp_path / "volatile"))
        with pytest.raises(BlackboardUnavailableError, match="no longer holds"):
            board.write(EntryKind.SUMMARY, "s")
