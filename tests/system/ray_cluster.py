"""A real two-node Ray cluster on 127.0.0.1 for the Ray Serve tests.

The nodes' daemons run in the process group of the script that started them (ray_nodes.py);
the workers and actors the raylets spawn get sessions of their own. So teardown stops
exactly what these nodes started: the process group, then every descendant of it, found
through /proc, never by a process name (`ray stop` would stop any Ray on the host).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

NODE_CPUS = 3
START_SECONDS = 180.0
ENV = {
    # Ray 2.60 turns token auth on for `ray start --head`; these nodes listen for this
    # machine only.
    "RAY_AUTH_MODE": "disabled",
    # Ray 2.60 listens on the machine's network address unless it believes that clusters
    # of several machines are off; these nodes are for this machine only.
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    # Serve's autoscaler sees load only when handles report it (every 10 s by default):
    # report every half second so the scaling test takes seconds, not minutes.
    "RAY_SERVE_HANDLE_AUTOSCALING_METRIC_PUSH_INTERVAL_S": "0.5",
    "RAY_SERVE_REPLICA_AUTOSCALING_METRIC_PUSH_INTERVAL_S": "0.5",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _node_options(temp_dir: Path) -> dict[str, object]:
    return {
        "node_ip_address": "127.0.0.1",
        "num_cpus": NODE_CPUS,
        "memory": 3 * 1024**3,
        "object_store_memory": 100 * 1024**2,
        "temp_dir": str(temp_dir),
        # Ports of their own, so another Ray on this machine cannot collide with them.
        "dashboard_agent_listen_port": free_port(),
        "metrics_export_port": free_port(),
        "runtime_env_agent_port": free_port(),
    }


@dataclass
class Cluster:
    """Head and worker node; `address` is the head's GCS (host:port)."""

    address: str
    temp_dir: Path
    groups: list[int] = field(default_factory=list)
    stopped: set[int] = field(default_factory=set)
    """The processes `stop` stopped, for a test to check that none is left."""

    def processes(self) -> set[int]:
        """Every live process these nodes started: their groups and all descendants."""
        parents: dict[int, int] = {}
        group_of: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z":  # a zombie is gone already
                continue
            parents[int(entry.name)] = int(fields[1])
            group_of[int(entry.name)] = int(fields[2])
        found = {pid for pid, group in group_of.items() if group in self.groups}
        grew = True
        while grew:
            more = {pid for pid, parent in parents.items() if parent in found} - found
            found |= more
            grew = bool(more)
        return found

    def stop(self) -> None:
        """SIGTERM, then SIGKILL, to every process these nodes started. The set is taken
        before anything dies: an actor whose raylet is gone has init as its parent and
        could no longer be told from any other process."""
        known = self.processes()
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            known |= self.processes()
            for pid in alive(known):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while alive(known | self.processes()) and time.monotonic() < deadline:
                time.sleep(0.2)
        self.stopped = known


# Ray 2.60's Serve binds each replica's internal gRPC server to every interface ([::]:0, in
# ray/serve/_private/replica.py), whatever the node's address: the one listener we cannot
# keep on loopback.
OPEN_BY_RAY = "ray::ServeRepli"


def listeners_off_loopback(pids: set[int]) -> list[str]:
    """Every TCP listener of these processes that is not on a loopback address, as
    "process name address:port", except Serve's replica listeners (`OPEN_BY_RAY`)."""
    owner: dict[str, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        owner[target[len("socket:[") : -1]] = pid
    found = []
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] != "0A" or fields[9] not in owner:  # 0A: listening
                continue
            host_hex, port_hex = fields[1].split(":")
            raw = bytes.fromhex(host_hex)  # 32-bit words in host (little-endian) order
            host = ipaddress.ip_address(
                b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            )
            mapped = getattr(host, "ipv4_mapped", None)
            if (mapped or host).is_loopback:
                continue
            name = Path(f"/proc/{owner[fields[9]]}/comm").read_text().strip()
            if not name.startswith(OPEN_BY_RAY):
                found.append(f"{name} {host}:{int(port_hex, 16)}")
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (a zombie is gone: only its exit status is left)."""
    found = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.add(pid)
    return found


def start(temp_dir: Path) -> Cluster:
    """Head plus one worker node, both on 127.0.0.1 (see ray_nodes.py)."""
    port = free_port()
    head = {**_node_options(temp_dir), "gcs_server_port": port, "include_dashboard": False}
    script = str(Path(__file__).with_name("ray_nodes.py"))
    nodes = subprocess.Popen(
        [sys.executable, script, json.dumps([head, _node_options(temp_dir)])],
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    cluster = Cluster(address=f"127.0.0.1:{port}", temp_dir=temp_dir, groups=[nodes.pid])
    watchdog = threading.Timer(START_SECONDS, cluster.stop)  # a hung start ends, too
    watchdog.start()
    try:
        assert nodes.stdout is not None
        said = []
        for line in nodes.stdout:
            said.append(line)
            if line.strip() == cluster.address:
                break
        else:
            raise RuntimeError("the Ray nodes did not start:\n" + "".join(said)[-3000:])
        threading.Thread(target=nodes.stdout.read, daemon=True).start()  # never blocks Ray
    except BaseException:
        cluster.stop()
        raise
    finally:
        watchdog.cancel()
    return cluster
