"""Choosing the blackboard store in the configuration, the Redis payload codec, and a Redis
that cannot be reached: everything about the Redis board that needs no redis-server (the
tests that run one are in tests/system/test_redis_blackboard.py)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from murmurnet.blackboard import in_memory
from murmurnet.cli.main import main
from murmurnet.config import RunConfig, load_config
from murmurnet.config.blackboard import LZ4_LIKE_LEVEL, BlackboardSettings
from murmurnet.distributed.boards import blackboard_factory
from murmurnet.distributed.redis_client import redacted, run_keys
from murmurnet.distributed.redis_codec import JSON_FIELD, ZSTD_FIELD, Codec
from murmurnet.errors import BlackboardUnavailableError, ConfigError
from murmurnet.server.profiles import profiles
from murmurnet.types import BlackboardEntry, EntryKind


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_default_store_is_memory_and_needs_no_redis() -> None:
    settings = load_config().blackboard
    assert settings.store == "memory"
    assert blackboard_factory(settings) is in_memory


def test_a_blackboard_section_in_yaml_and_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "blackboard:\n  store: redis\n  redis_url: redis://127.0.0.1:6390/2\n"
        "  namespace: team-a\n  compress_above: 64\n",
    )
    settings = load_config({}, path).blackboard
    assert (settings.store, settings.namespace, settings.compress_above) == ("redis", "team-a", 64)
    monkeypatch.setenv("MURMURNET_BLACKBOARD", '{"store": "redis", "namespace": "from-env"}')
    assert load_config().blackboard.namespace == "from-env"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("blackboard:\n  stor: redis\n", "blackboard.stor"),
        ("blackboard:\n  store: etcd\n", "blackboard.store"),
        ("blackboard:\n  namespace: 'two words'\n", "blackboard.namespace"),
        ("blackboard:\n  redis_url: http://x\n", "blackboard.redis_url"),
    ],
)
def test_a_wrong_blackboard_key_names_itself(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        load_config({}, write(tmp_path, text))


def test_the_originals_compression_algorithm_maps_onto_zstd(tmp_path: Path) -> None:
    """lz4 is not shipped: it means zstd's fast level, which is what choosing it asked for."""
    zstd = write(tmp_path, "performance_optimization:\n  compression_algorithm: zstd\n")
    assert load_config({}, zstd).blackboard.compression == "zstd"
    assert load_config({}, zstd).blackboard.compression_level == 3
    lz4 = write(tmp_path, "performance_optimization:\n  compression_algorithm: lz4\n")
    board = load_config({}, lz4).blackboard
    assert (board.compression, board.compression_level) == ("zstd", LZ4_LIKE_LEVEL)
    both = write(
        tmp_path,
        "blackboard:\n  compression_level: 9\n"
        "performance_optimization:\n  compression_algorithm: lz4\n",
    )
    assert load_config({}, both).blackboard.compression_level == 9  # the file's own key wins


def entry(text: str) -> BlackboardEntry:
    return BlackboardEntry(version=0, kind=EntryKind.CONTRIBUTION, text=text, round=1, agent=2)


def test_short_payloads_stay_plain_json_and_long_ones_are_zstd() -> None:
    codec = Codec(BlackboardSettings(compress_above=300))
    field, payload = codec.encode(entry("short"))
    assert field == JSON_FIELD
    assert json.loads(payload)["text"] == "short"  # readable with redis-cli, never pickle
    assert "version" not in json.loads(payload)  # the stream ID is the version
    long = entry("水の化学式は H2O です。" * 50)
    field, payload = codec.encode(long)
    assert field == ZSTD_FIELD and len(payload) < len(long.text.encode())
    decoded = codec.decode(b"0-7", {field: payload})
    assert decoded == long.model_copy(update={"version": 7})


def test_compression_none_and_a_fast_level_read_back_the_same() -> None:
    text = "the same words again " * 100
    plain = Codec(BlackboardSettings(compression="none", compress_above=0))
    fast = Codec(BlackboardSettings(compression_level=LZ4_LIKE_LEVEL, compress_above=0))
    reader = Codec(BlackboardSettings())
    for codec, expected in ((plain, JSON_FIELD), (fast, ZSTD_FIELD)):
        field, payload = codec.encode(entry(text))
        assert field == expected
        assert reader.decode("0-1", {field: payload}).text == text


def test_an_unknown_payload_is_a_typed_error() -> None:
    with pytest.raises(BlackboardUnavailableError, match="lz4"):
        Codec(BlackboardSettings()).decode(b"0-1", {b"lz4": b"..."})


def test_keys_are_namespaced_and_share_one_cluster_slot() -> None:
    keys = run_keys("team-a", "abc123")
    assert keys.entries == "team-a:run:{abc123}:entries"
    assert keys.writes == "team-a:run:{abc123}:writes"


def test_a_password_never_reaches_a_message() -> None:
    assert redacted("redis://:s3cret@db.example:6380/0") == "redis://:***@db.example:6380/0"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_an_unreachable_redis_is_a_typed_error_at_once() -> None:
    settings = BlackboardSettings(
        store="redis", redis_url=f"redis://:pw@127.0.0.1:{closed_port()}/0", timeout=1
    )
    started = time.monotonic()
    with pytest.raises(BlackboardUnavailableError) as caught:
        blackboard_factory(settings)
    assert time.monotonic() - started < 3
    line = caught.value.one_line()
    assert "cannot reach the Redis blackboard" in line and "pw" not in line
    assert "\n" not in line


def test_ask_with_an_unreachable_redis_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {
        "models": {"fake": {"type": "scripted", "responses": ["a", "b", "s", "four"]}},
        "blackboard": {"store": "redis", "redis_url": f"redis://127.0.0.1:{closed_port()}/0"},
    }
    path = write(tmp_path, json.dumps(config))
    code = main(["ask", "What is 2+2?", "--config", str(path), "--internal-model", "fake"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "cannot reach the Redis blackboard" in err


def test_watch_needs_a_shared_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "some-run"]) == 2
    assert "nothing to watch" in capsys.readouterr().err
    assert main(["watch", "some-run", "--redis-url", "http://nope"]) == 2
    assert "invalid --redis-url" in capsys.readouterr().err
    url = f"redis://127.0.0.1:{closed_port()}/0"
    assert main(["watch", "some-run", "--redis-url", url]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Redis blackboard" in err and len(err.strip().splitlines()) == 1


def test_a_server_profile_cannot_move_the_blackboard() -> None:
    """The store belongs to the runtime, so a profile that set it would be silently ignored."""
    config = RunConfig(profiles={"shared": {"blackboard": {"store": "redis"}}})
    with pytest.raises(ConfigError, match="may not set blackboard"):
        profiles(config)
