"""Native plugin vs dynamic host, side by side in one run: spawn -> port line -> first Check of a
backup answered (median of --repeats, interleaved), and N backups created at once through the plugin
(its span vs one backup's, peak RSS of the plugin process), and the same stack through the dynamic
host in the same run (bench/scenarios.py's `up`: its provider share, first Check to last Create).

    .venv/bin/python bench/native.py                 # 5 cold starts each, 1 and 64 backups
    .venv/bin/python bench/native.py --backups 256   # issue 21's row (a few minutes more)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi.runtime.proto import provider_pb2  # noqa: E402

from bench.scenarios import run_up  # noqa: E402
from fsx_backup_component.testing import FsxEmulator  # noqa: E402
from tests.harness.fake_engine import FakeEngine  # noqa: E402
from tests.harness.host import ProviderHost, provider_environment  # noqa: E402
from tests.harness.native import CREDENTIALS, PLUGIN_DIR, NativeEngine, struct  # noqa: E402

GOAL_COLD_START = 0.5
GOAL_SPAN_RATIO = 1.3
GOAL_RSS_MB = 150.0


def cold_start(emu: FsxEmulator, engine: FakeEngine, fs_id: str, native: bool) -> float:
    env = provider_environment(os.environ, endpoint_url=emu.endpoint_url, region="us-east-1",
                               credentials=CREDENTIALS, project="bench")
    host = ProviderHost(engine.address, env, plugin_dir=PLUGIN_DIR if native else None)
    started = time.monotonic()
    host.start()
    try:
        if native:
            urn = "urn:pulumi:dev::bench::fsx-backup:index:Backup::b"
            news = {"fileSystemId": fs_id, "life": "n"}
        else:
            urn = "urn:pulumi:dev::bench::pulumi-python:dynamic/fsx-backup:Backup::b"
            news = {"target_file_system_id": fs_id, "resource_urn": urn, "__provider": _dynamic_provider()}
        host.call("Configure", provider_pb2.ConfigureRequest(args=struct({}), acceptSecrets=True), 60)
        host.call("Check", provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(news)), 60)
        return time.monotonic() - started
    finally:
        host.stop()


def _dynamic_provider() -> str:
    import base64

    import dill  # the dynamic host unpickles the provider from this input

    from fsx_backup_component.provider import BackupProvider

    return base64.b64encode(dill.dumps(BackupProvider(), protocol=dill.HIGHEST_PROTOCOL)).decode()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def span(n: int, seconds: float) -> tuple[float, float]:
    """Seconds from the first Create sent to the last answered, for ``n`` backups at once; peak RSS."""
    with FsxEmulator(port=0, backup_seconds=seconds) as emu, NativeEngine(emu) as engine:
        targets = [emu.add_file_system("WINDOWS") for _ in range(n)]
        engine.configure()
        started = time.monotonic()
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda i: engine.step(engine.urn("fsx-backup:index:Backup", f"b{i}"),
                                                {"fileSystemId": targets[i], "life": f"n{i}"}), range(n)))
        elapsed = time.monotonic() - started
        assert engine.plugin is not None and engine.plugin.pid is not None
        return elapsed, rss_mb(engine.plugin.pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backups", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0, help="emulated seconds per backup")
    args = parser.parse_args()
    rows: list[tuple[str, Any, Any, str]] = []
    with FsxEmulator(port=0) as emu, FakeEngine() as engine:
        fs = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeats):  # interleaved, so both see the same machine
            for native in (True, False):
                times[native].append(cold_start(emu, engine, fs, native))
    plugin, dynamic = statistics.median(times[True]), statistics.median(times[False])
    rows.append(("spawn -> first backup Check (median)", f"{plugin:.2f} s", f"{dynamic:.2f} s",
                 "MET" if plugin <= GOAL_COLD_START else "NOT MET"))
    one, one_rss = span(1, args.duration)
    many, many_rss = span(args.backups, args.duration)
    ratio = many / one
    rows.append((f"{args.backups} backups at once vs 1 (plugin)", f"{many:.1f} s / {one:.1f} s = {ratio:.2f}x", "",
                 "MET" if ratio <= GOAL_SPAN_RATIO else "NOT MET"))
    dyn_one = run_up("ours", 1, args.duration)
    dyn_many = run_up("ours", args.backups, args.duration)
    dyn_ratio = dyn_many.provider_share / dyn_one.provider_share
    rows[-1] = (rows[-1][0].replace(" (plugin)", ""), rows[-1][1],
                f"{dyn_many.provider_share:.1f} s / {dyn_one.provider_share:.1f} s = {dyn_ratio:.2f}x", rows[-1][3])
    rows.append((f"peak RSS, {args.backups} waiting creates", f"{many_rss:.0f} MB", f"{dyn_many.rss_mb:.0f} MB",
                 "MET" if many_rss <= GOAL_RSS_MB else "NOT MET"))
    print(f"| figure | plugin | dynamic host | goal (cold start <= {GOAL_COLD_START}s, ratio <= "
          f"{GOAL_SPAN_RATIO}x, RSS <= {GOAL_RSS_MB:g} MB) |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
