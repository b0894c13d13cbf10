"""A real two-node Ray cluster on this machine for the Ray Serve tests.

`ray start` runs each node's daemons in the process group of the command that started it;
the workers and actors the raylets spawn get sessions of their own. So teardown stops
exactly what these nodes started: the two process groups, then every descendant of theirs,
found through /proc, never by a process name (`ray stop` would stop any Ray on the host).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
NODE_CPUS = 3
ENV = {
    # Ray 2.60 turns token auth on for `ray start --head`; these nodes listen for this
    # machine only.
    "RAY_AUTH_MODE": "disabled",
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


def _node_flags(temp_dir: Path) -> list[str]:
    return [
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={NODE_CPUS}",
        f"--memory={3 * 1024**3}",
        f"--object-store-memory={100 * 1024**2}",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        # Ports of their own, so another Ray on this machine cannot collide with them.
        f"--dashboard-agent-listen-port={free_port()}",
        f"--metrics-export-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
    ]


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
    """Head plus one worker node joined with `ray start --address`."""
    env = {**os.environ, **ENV}
    port = free_port()
    cluster = Cluster(address=f"127.0.0.1:{port}", temp_dir=temp_dir)
    commands = [
        [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false"],
        [RAY, "start", f"--address={cluster.address}"],
    ]
    try:
        for command in commands:
            node = subprocess.Popen(
                [*command, *_node_flags(temp_dir)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            cluster.groups.append(node.pid)
            out, _ = node.communicate(timeout=120)
            if node.returncode != 0:
                raise RuntimeError(f"{' '.join(command[:3])} failed:\n{out[-3000:]}")
    except BaseException:
        cluster.stop()
        raise
    return cluster
