"""What the benchmark measures, one function per kind of measurement.

Every stack scenario runs a real ``pulumi up`` through the engine harness (tests/harness): a fresh
``python -u -m pulumi.dynamic`` provider process per run, real gRPC, real clock, against a fresh
FsxEmulator whose backups take ``D`` seconds. Nothing here edits or subclasses the harness; it only
reads what a run leaves behind (state, event log, RPC log) and what the emulator counted.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent

OURS = "ours"
BASELINE = "baseline"
OURS_TYPE = "pulumi-python:dynamic/fsx-backup:Backup"
BASELINE_TYPE = "pulumi-python:dynamic/baseline:Backup"
DESCRIBE_PREFIX = "Describe"
REGION = "us-east-1"


# ---------------------------------------------------------------------------------------------
# targets and programs


def seed_ontap_volumes(emu: Any, count: int, file_systems: int) -> list[str]:
    """``count`` distinct ONTAP RW volumes spread round-robin over ``min(count, file_systems)``
    ONTAP file systems (FSx allows one backup in progress per ONTAP volume)."""
    fs_ids = [
        emu.add_file_system("ONTAP", deployment_type="SINGLE_AZ_1", region=REGION)
        for _ in range(max(1, min(count, file_systems)))
    ]
    return [
        emu.add_volume(fs_ids[i % len(fs_ids)], name=f"vol{i:02d}", ontap_volume_type="RW")
        for i in range(count)
    ]


def program_for(provider: str, volume_ids: list[str]) -> Callable[[], None]:
    if provider == OURS:
        from fsx_backup_component import FsxBackup

        def ours() -> None:
            for i, volume_id in enumerate(volume_ids):
                FsxBackup(f"b{i:02d}", volume_id=volume_id)

        return ours

    from bench.baseline_provider import BaselineBackup

    def baseline() -> None:
        for i, volume_id in enumerate(volume_ids):
            BaselineBackup(f"b{i:02d}", volume_id=volume_id)

    return baseline


def harness_for(provider: str, emu: Any) -> Any:
    """A harness (and so a provider process per run) of its own for each provider: the baseline
    never shares a host process with our provider, whose import widens the host's pool."""
    from tests.harness import Harness

    env: dict[str, Optional[str]] = {}
    if provider == BASELINE:
        # The host must import bench.baseline_provider to unpickle the provider (by reference).
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return Harness(emulator=emu, env=env, cwd=ROOT, rpc_timeout=900.0, run_timeout=1800.0)


# ---------------------------------------------------------------------------------------------
# one `pulumi up`


@dataclass
class UpResult:
    provider: str
    backups: int
    duration: float  # D, the emulated backup duration
    wall: float  # seconds of the harness's `up`
    describe_backups: int
    lags: list[float]  # per backup: Create response received - (CreationTime + D)
    provider_bytes: int
    max_outputs_bytes: int
    peak_concurrent: int  # most backups in progress at once in the emulator
    user_backups: int  # backups the emulator holds after the run (duplicates would show here)
    calls: dict[str, int] = field(default_factory=dict)
    check_request: Any = None
    configure_request: Any = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def lag_median(self) -> float:
        return statistics.median(self.lags) if self.lags else float("nan")

    @property
    def lag_max(self) -> float:
        return max(self.lags) if self.lags else float("nan")


def run_up(provider: str, backups: int, duration: float, file_systems: int = 4) -> UpResult:
    from fsx_backup_component.testing import FsxEmulator

    with FsxEmulator(backup_seconds=duration) as emu:
        volume_ids = seed_ontap_volumes(emu, backups, file_systems)
        with harness_for(provider, emu) as h:
            program = program_for(provider, volume_ids)
            emu.reset_counters()
            result = h.up(program)
            result.raise_for_errors()
            calls = dict(emu.calls)
            resource_type = OURS_TYPE if provider == OURS else BASELINE_TYPE
            resources = h.state.of_type(resource_type)
            if len(resources) != backups:
                raise RuntimeError(f"{provider}: {len(resources)} backups in state, expected {backups}")
            created = {b["BackupId"]: float(b["CreationTime"]) for b in emu.backups(include_deleted=True)}
            user_backups = sum(1 for b in emu.backups() if b["Type"] == "USER_INITIATED")
            create_end = {
                e.urn: e.wall for e in result.events if e.kind == "rpc" and e.name == "Create" and e.phase == "end"
            }
            lags = [create_end[r.urn] - (created[r.id] + duration) for r in resources]
            provider_bytes = max(len(str(r.inputs.get("__provider", ""))) for r in resources)
            outputs_bytes = max(
                len(json.dumps(r.outputs, sort_keys=True, separators=(",", ":"), default=str)) for r in resources
            )
            starts = sorted(created[r.id] for r in resources)
            peak = max(sum(1 for s in starts if t - duration < s <= t) for t in starts)
            first_check = next(r for r in result.rpc_log if r.method == "Check")
            configure = next(r for r in result.rpc_log if r.method == "Configure")
            from tests.harness import provider_environment

            env = provider_environment(
                os.environ, endpoint_url=emu.endpoint_url, region=h.region, credentials=h.credentials,
                project=h.project, extra=h.extra_env,
            )
            return UpResult(
                provider=provider, backups=backups, duration=duration, wall=result.duration,
                describe_backups=calls.get("DescribeBackups", 0), lags=lags, provider_bytes=provider_bytes,
                max_outputs_bytes=outputs_bytes, peak_concurrent=peak, user_backups=user_backups, calls=calls,
                check_request=first_check.request, configure_request=configure.request, env=env,
            )


# ---------------------------------------------------------------------------------------------
# cold start: process spawn -> first Check answered


def cold_start(sample: UpResult, spawns: int) -> list[float]:
    """Seconds from spawning ``python -u -m pulumi.dynamic`` to the answer of its first Check (after
    Configure, as the engine does), ``spawns`` times, replaying the Configure and first Check of
    ``sample`` (a recorded `up`) against a live emulator target, so our check() makes its real
    look-up."""
    from google.protobuf import json_format
    from pulumi.runtime.proto import provider_pb2

    from fsx_backup_component.testing import FsxEmulator
    from tests.harness import FakeEngine, ProviderHost

    provider = sample.provider
    configure = json_format.ParseDict(sample.configure_request, provider_pb2.ConfigureRequest())
    check = json_format.ParseDict(sample.check_request, provider_pb2.CheckRequest())
    times = []
    with FsxEmulator(backup_seconds=0.5) as emu, FakeEngine() as engine:
        volume_id = seed_ontap_volumes(emu, 1, 1)[0]
        _retarget(check, volume_id)
        env = dict(sample.env, AWS_ENDPOINT_URL_FSX=emu.endpoint_url)
        for _ in range(spawns):
            host = ProviderHost(engine.address, env, cwd=ROOT)
            try:
                host.start()
                host.call("Configure", configure, timeout=60)
                response = host.call("Check", check, timeout=60)
                answered = time.monotonic()
                if response.failures:
                    raise RuntimeError(f"{provider}: cold-start Check failed: {response.failures}")
                times.append(answered - host.started_at)
            finally:
                host.stop()
    return times


def _retarget(check: Any, volume_id: str) -> None:
    """Point a recorded Check request at the volume of this emulator."""
    for key in ("target_volume_id", "volume_id"):
        if key in check.news.fields and check.news.fields[key].string_value:
            check.news.fields[key].string_value = volume_id


# ---------------------------------------------------------------------------------------------
# preview: read calls per file system


@dataclass
class PreviewResult:
    provider: str
    targets: int
    file_systems: int
    describe_calls: int
    calls: dict[str, int]

    @property
    def per_file_system(self) -> float:
        return self.describe_calls / self.file_systems


def run_preview(provider: str, targets: int, file_systems: int) -> PreviewResult:
    from fsx_backup_component.testing import FsxEmulator

    with FsxEmulator(backup_seconds=1.0) as emu:
        volume_ids = seed_ontap_volumes(emu, targets, file_systems)
        with harness_for(provider, emu) as h:
            emu.reset_counters()
            h.preview(program_for(provider, volume_ids)).raise_for_errors()
            calls = {k: v for k, v in emu.calls.items() if v}
    describes = sum(v for k, v in calls.items() if k.startswith(DESCRIBE_PREFIX))
    return PreviewResult(provider, targets, file_systems, describes, calls)


# ---------------------------------------------------------------------------------------------
# a long backup, on a fake clock


@dataclass
class LongBackupResult:
    seconds: float
    ours_calls: int
    ours_lag: float
    baseline_calls: int
    baseline_lag: float


def simulate_long_backup(seconds: float) -> LongBackupResult:
    """DescribeBackups calls for one backup that takes ``seconds``: our BackupWatcher (its real
    schedule, watcher.poll_interval) on a fake clock, and the baseline's Terraform schedule."""
    from fsx_backup_component.runtime import SETTLED
    from fsx_backup_component.watcher import BackupWatcher

    now = [0.0]
    calls = [0]
    done_at = seconds
    detected = [float("nan")]

    def describe(ids: Any) -> dict[str, Any]:
        calls[0] += 1
        lifecycle = "AVAILABLE" if now[0] >= done_at else "CREATING"
        if lifecycle == "AVAILABLE" and detected[0] != detected[0]:
            detected[0] = now[0]
        return {i: {"BackupId": i, "Lifecycle": lifecycle} for i in ids}

    def wait(condition: threading.Condition, timeout: float) -> None:
        now[0] += timeout

    watcher = BackupWatcher(describe, settled=SETTLED, clock=lambda: now[0], wait=wait)
    watcher.wait("backup-long", deadline=seconds * 10)
    ours_calls, ours_lag = calls[0], detected[0] - done_at

    from bench.baseline_provider import terraform_delays

    t, n = 0.0, 0
    for delay in terraform_delays():
        t += delay
        n += 1
        if t >= seconds:
            break
    return LongBackupResult(seconds, ours_calls, ours_lag, n, t - seconds)
