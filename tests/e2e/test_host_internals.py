"""Loud guards for the private host internals fsx_backup_component/host.py relies on.

`python -m pulumi.dynamic` serves RPCs from a ThreadPoolExecutor(max_workers=4); host.py finds the grpc
server's pool (grpc._server._Server._state.thread_pool) and widens it so waits overlap. If either
the Pulumi SDK or grpcio changes those internals, these tests fail and say what changed; the
provider itself keeps working, only 4 backups at a time.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
from typing import Any, Callable

from e2e_helpers import BACKUP_TYPE, live_backups

from fsx_backup_component import FsxBackup

# Starts the real host module (the same code `python -m pulumi.dynamic` runs) in a thread, then
# reports what host.py finds in this process.
PROBE = textwrap.dedent(
    """
    import io, json, runpy, sys, threading, time
    sys.argv = ["pulumi.dynamic"]
    real_stdout = sys.stdout
    sys.stdout = io.TextIOWrapper(io.BytesIO())  # the host prints its port there
    threading.Thread(
        target=runpy.run_module, args=("pulumi.dynamic",), kwargs={"run_name": "__main__"}, daemon=True
    ).start()
    from fsx_backup_component import host
    deadline = time.monotonic() + 20
    pools = []
    while not pools and time.monotonic() < deadline:
        pools = host.find_host_thread_pools()
        time.sleep(0.05)
    before = [p._max_workers for p in pools]
    # As in a real run: the pool has served calls (Configure, Check...) before our provider widens it.
    for future in [pools[0].submit(time.sleep, 0.01) for _ in range(8)]:
        future.result()
    widened = host.widen_host_thread_pool(48)
    after = [p._max_workers for p in host.find_host_thread_pools()]
    # Then 12 calls that each wait for all 12 to be running (like 12 create()s waiting on backups).
    barrier = threading.Barrier(12, timeout=2)
    def wait_for_all():
        try:
            barrier.wait()
            return True
        except threading.BrokenBarrierError:
            return False
    together = [f.result() for f in [pools[0].submit(wait_for_all) for _ in range(12)]]
    real_stdout.write(json.dumps({
        "before": before, "widened": widened, "after": after,
        "threads": len(pools[0]._threads), "all_twelve_together": all(together),
    }) + "\\n")
    """
)



@functools.lru_cache(maxsize=1)
def _probe() -> dict[str, Any]:
    import json

    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_the_host_thread_pool_is_found_and_widened() -> None:
    report = _probe()
    assert report["before"] == [4], (
        "pulumi.dynamic's grpc server pool is no longer the one ThreadPoolExecutor(max_workers=4) "
        f"host.py expects (found {report['before']}); revisit fsx_backup_component/host.py"
    )
    assert report["widened"] == 48 and report["after"] == [48]



def test_the_widened_host_pool_runs_more_than_four_calls_at_once() -> None:
    report = _probe()
    assert report["all_twelve_together"], f"only {report['threads']} threads in the widened pool"



def test_concurrent_creates_overlap_in_the_real_host(emu: Any, harness: Callable[..., Any]) -> None:
    """12 backups of 2 s: blocked at 4 RPCs they would take 3 rounds (>= 6 s); widened, one round."""
    seconds, count = 2.0, 12
    emu.set_backup_seconds(seconds)
    file_systems = [emu.add_file_system("WINDOWS") for _ in range(count)]  # one backup per FS at a time

    def program() -> None:
        for i, fs_id in enumerate(file_systems):
            FsxBackup(f"b{i}", file_system_id=fs_id)

    h = harness(program)
    up = h.up().raise_for_errors()

    creates = [r for r in up.rpcs("Create") if BACKUP_TYPE in r.urn]
    assert len(creates) == count
    # (All 12 RPCs are "in flight" from the client's side even when the server queues them, so
    # the proof is the wall time of the backups themselves.)
    span = max(r.ended for r in creates if r.ended) - min(r.started for r in creates)
    assert span < 2.0 * seconds, f"{count} backups of {seconds}s took {span:.1f}s"
    assert "could not find the provider host's thread pool" not in h.provider_output()
    assert len(live_backups(emu)) == count
    assert len(h.state.of_type(BACKUP_TYPE)) == count
    # The overlapping waits share the region's poller: one DescribeBackups names every pending backup.
    polls = [p["BackupIds"] for _, _, op, p in emu.call_log if op == "DescribeBackups" and p.get("BackupIds")]
    assert max(map(len, polls)) >= 2 and len(polls) < sum(map(len, polls)), f"one poll per backup: {polls}"
