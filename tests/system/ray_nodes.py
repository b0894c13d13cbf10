"""Run as a script by `ray_cluster.start`: a head and a worker node, both on 127.0.0.1,
until SIGTERM or SIGINT. Prints the head's address once both nodes are up.

`ray start` cannot build this in Ray 2.60: it swaps 127.0.0.1 for the machine's network
address, unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, and then it refuses a second node.
Ray's own test cluster (`ray.cluster_utils.Cluster`) takes the address as given.
"""

from __future__ import annotations

import json
import os
import signal
import sys

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is imported

from ray.cluster_utils import Cluster


def main() -> None:
    head, worker = json.loads(sys.argv[1])
    # The test cluster records its address in `ray/ray_current_cluster` under $RAY_TMPDIR
    # (else $TMPDIR, else /tmp), whatever folder its nodes were given: a folder a machine
    # that never ran Ray lacks (the start then fails), and a file a later plain `ray.init()`
    # there would follow to this dead cluster. So it goes in the test's own folder.
    os.environ["RAY_TMPDIR"] = head["temp_dir"]
    os.makedirs(os.path.join(head["temp_dir"], "ray"), exist_ok=True)
    cluster = Cluster(initialize_head=True, head_node_args=head)
    cluster.add_node(**worker)
    # Blocked only now: the nodes' daemons would inherit the mask and ignore SIGTERM.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    print(cluster.address, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    cluster.shutdown()


if __name__ == "__main__":
    main()
