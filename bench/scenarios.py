"""What the benchmark measures, one function per kind of measurement.

Every stack scenario runs a real ``pulumi up`` through the engine harness (tests/harness): a fresh
``python -u -m pulumi.dynamic`` provider process per run, real gRPC, real clock, against a fresh
FsxEmulator whose backups take ``D`` seconds. Nothing here edits or subclasses the harness; it only
reads what a run leaves behind (state, event log, RPC log) and what the emulator counted.
"""

from __future__ import annotations

import json
import math
import os
import resource
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


def program_for(
    provider: str, volume_ids: list[str], resolved: Optional[list[float]] = None, tracked: Optional[list[int]] = None
) -> Callable[[], None]:
    """The stack's program. ``resolved`` gets the moment (time.monotonic) the program saw the last of
    its backups' outputs resolved, as a program that exports them would; ``tracked``, per run, how
    many Output tasks building the backups left in the SDK's end-of-program wait (sdk_tracking.py)."""
    import pulumi

    def note(_values: Any) -> None:
        if resolved is not None:
            resolved.append(time.monotonic())

    if provider == OURS:
        from fsx_backup_component import FsxBackup
        from fsx_backup_component.sdk_tracking import tracked_count

        def ours() -> None:
            before = tracked_count()
            made = [FsxBackup(f"b{i:03d}", volume_id=volume_id) for i, volume_id in enumerate(volume_ids)]
            after = tracked_count()
            if tracked is not None and before is not None and after is not None:
                tracked.append(after - before)
            pulumi.Output.all(*[b.backup_id for b in made], *[b.tags for b in made]).apply(note)

        return ours

    from bench.baseline_provider import BaselineBackup

    def baseline() -> None:
        made = [BaselineBackup(f"b{i:03d}", volume_id=volume_id) for i, volume_id in enumerate(volume_ids)]
        pulumi.Output.all(*[b.backup_id for b in made]).apply(note)

    return baseline


def harness_for(provider: str, emu: Any, backups: int = 1) -> Any:
    """A harness (and so a provider process per run) of its own for each provider: the baseline
    never shares a host process with our provider, whose import widens the host's pool."""
    from tests.harness import Harness

    env: dict[str, Optional[str]] = {}
    if provider == BASELINE:
        # The host must import bench.baseline_provider to unpickle the provider (by reference).
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    # `pulumi up --parallel` is unbounded by default: every registration of the stack (component,
    # Life and backup per FsxBackup) may be in flight at once. The harness's own default (64) would
    # run a 128-backup stack in two waves.
    parallel = max(64, 3 * backups + 16)
    return Harness(emulator=emu, env=env, cwd=ROOT, rpc_timeout=900.0, run_timeout=1800.0, parallel=parallel)


# ---------------------------------------------------------------------------------------------
# one `pulumi up`


@dataclass
class UpResult:
    provider: str
    backups: int
    duration: float  # D, the emulated backup duration
    wall: float  # seconds of the whole `up`: its preview pass, then the update
    preview: float  # seconds of the preview pass
    program: float  # update start -> the program saw its last output resolved
    provider_share: float  # first Check -> last Create answered, in the update
    describe_backups: int
    listings: int  # DescribeBackups by filters (the pre-create token-tag listings)
    polls: int  # DescribeBackups by IDs
    rounds: list[tuple[int, int]]  # per poll round: (backups asked about, calls)
    lags: list[float]  # per backup: Create response received - (CreationTime + D)
    provider_bytes: int
    max_outputs_bytes: int
    peak_concurrent: int  # most backups in progress at once in the emulator
    user_backups: int  # backups the emulator holds after the run (duplicates would show here)
    rss_mb: float  # peak resident memory of the update's provider process (VmHWM)
    threads: int  # most threads seen in that process
    throttled: int = 0  # calls the emulator answered ThrottlingException
    provider_cpu: float = float("nan")  # CPU seconds of the update's provider process
    harness_cpu: float = float("nan")  # CPU seconds of this process (engine harness, program, emulator)
    # Output tasks per backup left in the SDK's end-of-program wait by the update's program (ours only;
    # nan when the SDK keeps no such set): each one makes that wait longer for every other (quadratic).
    tracked_per_backup: float = float("nan")
    calls: dict[str, int] = field(default_factory=dict)
    check_request: Any = None
    configure_request: Any = None
    backup_check_request: Any = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def lag_median(self) -> float:
        return statistics.median(self.lags) if self.lags else float("nan")

    @property
    def lag_max(self) -> float:
        return max(self.lags) if self.lags else float("nan")

    @property
    def worst_round_excess(self) -> int:
        """Most calls a round made beyond ceil(backups asked about / 50); 0 when every round was ideal."""
        return max((calls - math.ceil(ids / 50) for ids, calls in self.rounds), default=0)


# Real FSx pages answers at min(MaxResults, its internal maximum), and the model caps a Backups page
# at 50 (docs: fsx-backup-api.md §4): a poll of 50 IDs or a listing of up to 50 backups is one page.
# The bench's emulator pages at 50 (BENCHMARKS.md); the test suite keeps the harsh default of 3.
BENCH_PAGE_SIZE = 50
# Poll calls further apart than this belong to different rounds (a round's calls follow each other
# at once; rounds are about 0.5 s apart).
ROUND_GAP = 0.2


def poll_rounds(requests: list[Any]) -> list[tuple[int, int]]:
    """(distinct backups asked about, calls) per poll round, from the emulator's request log. A round
    asks about each pending backup once, in batches of 50: a call naming a backup the round already
    asked about, or coming after a pause, starts the next round."""
    polls = sorted((r.time, r.params.get("BackupIds") or [], bool(r.params.get("NextToken"))) for r in requests
                   if r.operation == "DescribeBackups" and r.params.get("BackupIds"))
    rounds: list[tuple[set[str], int]] = []
    last = float("-inf")
    for at, ids, next_page in polls:
        if not rounds or at - last > ROUND_GAP or (set(ids) & rounds[-1][0] and not next_page):
            rounds.append((set(), 0))
        asked, calls = rounds[-1]
        rounds[-1] = (asked | set(ids), calls + 1)
        last = at
    return [(len(asked), calls) for asked, calls in rounds]


class ProcessSampler:
    """Peak resident memory (VmHWM) and thread count of the harness's provider processes, read from
    /proc/<pid>/status every 50 ms while a run goes on."""

    def __init__(self, harness: Any) -> None:
        self._harness = harness
        self._stop = threading.Event()
        self.rss_kb: dict[int, int] = {}
        self.threads: dict[int, int] = {}
        self.cpu: dict[int, float] = {}  # seconds of CPU, last seen
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def __enter__(self) -> "ProcessSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for host in list(self._harness.providers):
                self._read(host.pid)
            self._stop.wait(0.05)

    def _read(self, pid: Optional[int]) -> None:
        if pid is None:
            return
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key == "VmHWM":
                self.rss_kb[pid] = max(self.rss_kb.get(pid, 0), int(value.split()[0]))
            elif key == "Threads":
                self.threads[pid] = max(self.threads.get(pid, 0), int(value.strip()))
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            self.cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, IndexError, ValueError):
            pass


def run_up(
    provider: str, backups: int, duration: float, file_systems: int = 4, *, storm: Optional[tuple[float, float]] = None
) -> UpResult:
    """One `pulumi up` (preview pass, then the update) of ``backups`` backups of ``duration`` seconds.
    ``storm``: (rate, seconds) of a throttling storm that starts with the update's first FSx call."""
    from fsx_backup_component.testing import FsxEmulator

    with FsxEmulator(backup_seconds=duration, page_size=BENCH_PAGE_SIZE) as emu:
        volume_ids = seed_ontap_volumes(emu, backups, file_systems)
        with harness_for(provider, emu, backups) as h:
            resolved: list[float] = []
            tracked: list[int] = []
            program = program_for(provider, volume_ids, resolved, tracked)
            emu.reset_counters()
            if storm is not None:
                # As tests/reliability/test_transient_faults.py: the storm starts with the update's first
                # CreateBackup, so it hits the creates and the polls (the few calls creates share before
                # it, a listing and a description per 20 / 50 targets, would absorb it otherwise).
                rate, seconds = storm
                h.on_emulator_call(
                    "CreateBackup", 1, lambda: emu.faults.throttle_storm(rate=rate, seconds=seconds, seed=48)
                )
            with ProcessSampler(h) as sampler:
                before = resource.getrusage(resource.RUSAGE_SELF)
                result = h.up(program)
                after = resource.getrusage(resource.RUSAGE_SELF)
            result.raise_for_errors()
            calls = dict(emu.calls)
            requests = list(emu.requests)
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
            from tests.harness.properties import plain

            # The string the engine stores (the harness keeps secrets wrapped: measure the value).
            provider_bytes = max(len(str(plain(r.inputs).get("__provider", ""))) for r in resources)
            outputs_bytes = max(
                len(json.dumps(r.outputs, sort_keys=True, separators=(",", ":"), default=str)) for r in resources
            )
            starts = sorted(created[r.id] for r in resources)
            peak = max(sum(1 for s in starts if t - duration < s <= t) for t in starts)
            checks = [r for r in result.rpc_log if r.method == "Check"]
            creates = [r for r in result.rpc_log if r.method == "Create"]
            first_check = checks[0]
            backup_check = next(r for r in checks if resource_type in r.urn)
            configure = next(r for r in result.rpc_log if r.method == "Configure")
            update_pid = h.providers[-1].pid
            describes = [r for r in requests if r.operation == "DescribeBackups"]
            from tests.harness import provider_environment

            env = provider_environment(
                os.environ, endpoint_url=emu.endpoint_url, region=h.region, credentials=h.credentials,
                project=h.project, extra=h.extra_env,
            )
            preview = result.preview_result.duration if result.preview_result is not None else 0.0
            return UpResult(
                provider=provider, backups=backups, duration=duration,
                wall=result.duration + preview, preview=preview,
                program=(max(resolved) - result.started) if resolved else float("nan"),
                provider_share=max(r.ended or r.started for r in creates) - min(r.started for r in checks),
                describe_backups=calls.get("DescribeBackups", 0),
                listings=sum(1 for r in describes if r.params.get("Filters") and not r.params.get("BackupIds")),
                polls=sum(1 for r in describes if r.params.get("BackupIds")),
                rounds=poll_rounds(requests), lags=lags, provider_bytes=provider_bytes,
                max_outputs_bytes=outputs_bytes, peak_concurrent=peak, user_backups=user_backups,
                rss_mb=sampler.rss_kb.get(update_pid or -1, 0) / 1024, threads=sampler.threads.get(update_pid or -1, 0),
                throttled=sum(storm.throttled for storm in emu.faults.storms), calls=calls,
                provider_cpu=sampler.cpu.get(update_pid or -1, float("nan")),
                harness_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                tracked_per_backup=tracked[-1] / backups if tracked else float("nan"),
                check_request=first_check.request, configure_request=configure.request,
                backup_check_request=backup_check.request, env=env,
            )


# ---------------------------------------------------------------------------------------------
# cold start: process spawn -> first Check answered


def cold_start(sample: UpResult, spawns: int, *, backup_check: bool = False) -> list[float]:
    """Seconds from spawning ``python -u -m pulumi.dynamic`` to the answer of its first Check (after
    Configure, as the engine does), ``spawns`` times, replaying the Configure and first Check of
    ``sample`` (a recorded `up`: for ours, a Life's) against a live emulator target.
    ``backup_check``: replay the first Check of a backup resource instead (ours: its real look-up,
    with boto3 loaded and a client made first)."""
    from google.protobuf import json_format
    from pulumi.runtime.proto import provider_pb2

    from fsx_backup_component.testing import FsxEmulator
    from tests.harness import FakeEngine, ProviderHost

    provider = sample.provider
    configure = json_format.ParseDict(sample.configure_request, provider_pb2.ConfigureRequest())
    check = json_format.ParseDict(
        sample.backup_check_request if backup_check else sample.check_request, provider_pb2.CheckRequest()
    )
    times = []
    with FsxEmulator(backup_seconds=0.5, page_size=BENCH_PAGE_SIZE) as emu, FakeEngine() as engine:
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

    with FsxEmulator(backup_seconds=1.0, page_size=BENCH_PAGE_SIZE) as emu:
        volume_ids = seed_ontap_volumes(emu, targets, file_systems)
        with harness_for(provider, emu, targets) as h:
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
