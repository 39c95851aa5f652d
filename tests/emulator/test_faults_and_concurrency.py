"""Fault injection (seeded, reproducible) and thread safety under concurrent boto3 clients."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff
from fsx_emu_helpers import BACKUP_SECONDS, error_of

from fsx_backup_component.testing import Faults, FsxEmulator, ManualClock


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard-mode backoff (up to 20 s with jitter) would make retry tests slow."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.mark.usefixtures("no_backoff")
def test_throttling_is_retried_by_botocore(emu: FsxEmulator, make_client: Any) -> None:
    emu.faults.seed(7)
    emu.faults.throttle_rate = 0.5
    client = make_client(retries=9)
    for _ in range(10):
        assert client.describe_backups()["Backups"] == []
    # every throttled attempt was received, counted, and retried to success
    assert emu.calls["DescribeBackups"] > 10


def test_throttling_error_shape_without_retries(emu: FsxEmulator, client: Any) -> None:
    emu.faults.throttle_rate = 1.0
    with pytest.raises(ClientError) as excinfo:
        client.describe_backups()
    error = error_of(excinfo)
    assert (error["Code"], error["HTTPStatusCode"]) == ("ThrottlingException", 400)


@pytest.mark.usefixtures("no_backoff")
def test_internal_error_is_500_and_retried(emu: FsxEmulator, make_client: Any) -> None:
    emu.faults.internal_error_rate = 1.0
    with pytest.raises(ClientError) as excinfo:
        make_client(retries=2).describe_file_systems()
    assert (error_of(excinfo)["Code"], error_of(excinfo)["HTTPStatusCode"]) == ("InternalServerError", 500)
    assert emu.calls["DescribeFileSystems"] == 3  # standard mode retried the 500 twice


def test_faults_restricted_to_operations(emu: FsxEmulator, client: Any) -> None:
    emu.faults.internal_error_rate = 1.0
    emu.faults.operations = {"CreateBackup"}
    assert client.describe_backups()["Backups"] == []
    with pytest.raises(ClientError):
        client.create_backup(FileSystemId="fs-0123456789abcdef0")


def test_seeded_fault_sequence_is_reproducible() -> None:
    def sequence(seed: int) -> list[str | None]:
        faults = Faults(throttle_rate=0.3, internal_error_rate=0.3)
        faults.seed(seed)
        return [getattr(faults.pick("DescribeBackups"), "code", None) for _ in range(50)]

    first = sequence(42)
    assert first == sequence(42)
    assert first != sequence(43)
    assert {"ThrottlingException", "InternalServerError", None} == set(first)


def test_latency_is_added_per_request(emu: FsxEmulator, client: Any) -> None:
    emu.faults.latency_seconds = 0.2
    started = time.monotonic()
    client.describe_backups()
    assert time.monotonic() - started >= 0.2  # a real wait by default (a lower bound cannot flake)
    slept: list[float] = []
    emu.faults.sleep = slept.append
    client.describe_backups()
    emu.faults.operations = {"CreateBackup"}
    client.describe_backups()  # latency narrowed to other operations
    emu.faults.reset()
    client.describe_backups()
    assert slept == [0.2]


def test_many_threads_one_backup_per_file_system(
    emu: FsxEmulator, make_client: Any, clock: ManualClock
) -> None:
    """32 threads race CreateBackup on 4 file systems: exactly one wins per file system, the rest
    get BackupInProgress; counters and the call log account for every request."""
    fs_ids = [emu.add_file_system("WINDOWS") for _ in range(4)]
    clients = [make_client() for _ in range(8)]

    def attempt(index: int) -> str:
        client = clients[index % len(clients)]
        try:
            client.create_backup(FileSystemId=fs_ids[index % 4])
            return "created"
        except ClientError as err:
            return str(err.response["Error"]["Code"])

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(32)))
    assert outcomes.count("created") == 4
    assert outcomes.count("BackupInProgress") == 28
    assert emu.calls["CreateBackup"] == 32 and len(emu.call_log) == 32
    assert sorted(b["FileSystem"]["FileSystemId"] for b in emu.backups()) == sorted(fs_ids)


def test_concurrent_tokens_create_one_backup_each(emu: FsxEmulator, make_client: Any) -> None:
    """Concurrent retries with the same token all see the same backup (§2)."""
    fs_ids = [emu.add_file_system("LUSTRE") for _ in range(5)]
    clients = [make_client() for _ in range(5)]

    def attempt(index: int) -> str:
        fs_index = index % 5
        backup = clients[index % 5].create_backup(
            FileSystemId=fs_ids[fs_index], ClientRequestToken=f"token-{fs_index}"
        )["Backup"]
        return str(backup["BackupId"])

    with ThreadPoolExecutor(max_workers=25) as pool:
        ids = list(pool.map(attempt, range(50)))
    assert len(set(ids)) == 5
    assert len(emu.backups()) == 5


def test_concurrent_reads_while_writing(emu: FsxEmulator, make_client: Any, clock: ManualClock) -> None:
    emu.set_backup_seconds(0)
    fs_id = emu.add_file_system("WINDOWS")
    writer, readers = make_client(), [make_client() for _ in range(4)]

    def write() -> int:
        for _ in range(20):
            writer.create_backup(FileSystemId=fs_id)
        return 20

    def read(index: int) -> int:
        total = 0
        for _ in range(10):
            pages = readers[index].get_paginator("describe_backups").paginate()
            ids = [b["BackupId"] for page in pages for b in page["Backups"]]
            assert len(ids) == len(set(ids))  # keyset pagination never repeats an item
            total += 1
        return total

    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(write)] + [pool.submit(read, i) for i in range(4)]
        assert [f.result() for f in futures] == [20, 10, 10, 10, 10]
    clock.advance(BACKUP_SECONDS)
    assert len(emu.backups()) == 20


def _storm_outcomes(emu: FsxEmulator, client: Any, count: int) -> list[str]:
    outcomes = []
    calls = (
        lambda: client.describe_backups(),
        lambda: client.describe_file_systems(),
        lambda: client.create_backup(FileSystemId="fs-0123456789abcdef0"),
        lambda: client.describe_volumes(),
    )
    for index in range(count):
        try:
            calls[index % len(calls)]()
            outcomes.append("ok")
        except ClientError as err:
            outcomes.append(str(err.response["Error"]["Code"]))
    return outcomes


def test_throttle_storm_throttles_that_fraction_of_all_calls_for_its_seconds(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    """70 % of ALL FSx calls (whatever ``operations`` says) answer ThrottlingException / 400 for 8 s
    of the emulator clock from when the storm is armed; then none."""
    emu.faults.operations = {"DeleteBackup"}  # narrows the per-request rates, not the storm
    storm = emu.faults.throttle_storm(rate=0.7, seconds=8.0)
    assert (storm.start, storm.end) == (clock(), clock() + 8.0)
    during = _storm_outcomes(emu, client, 200)
    throttled = during.count("ThrottlingException")
    assert 0.6 * 200 <= throttled <= 0.8 * 200
    assert {"ok", "FileSystemNotFound"} <= set(during)  # the rest are answered normally
    assert storm.throttled == throttled and storm.seen == 200
    assert emu.faults.injected["ThrottlingException"] == throttled
    assert emu.calls["CreateBackup"] == 50  # every throttled request was received and counted
    clock.advance(7.9)
    assert "ThrottlingException" in _storm_outcomes(emu, client, 20)
    clock.advance(0.1)
    assert set(_storm_outcomes(emu, client, 40)) == {"ok", "FileSystemNotFound"}


def test_a_storm_of_so_many_calls_ends_after_them_whatever_the_clock_says(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    """A storm measured in calls throttles among exactly the next ``calls`` requests, however long
    they take (a loaded machine makes them slower, not fewer); then none."""
    storm = emu.faults.throttle_storm(rate=0.7, seconds=0.0, calls=100, seed=7)
    clock.advance(3600.0)  # time does not end it
    during = _storm_outcomes(emu, client, 100)
    assert storm.seen == 100 and storm.throttled == during.count("ThrottlingException")
    assert 0.55 * 100 <= storm.throttled <= 0.85 * 100
    assert set(_storm_outcomes(emu, client, 40)) == {"ok", "FileSystemNotFound"}
    assert storm.seen == 100
    with pytest.raises(ValueError, match="calls"):
        emu.faults.throttle_storm(calls=-1)


def test_throttle_storm_error_shape_and_reproducibility(clock: ManualClock, checker: Any) -> None:
    def run() -> list[str]:
        with FsxEmulator(clock=clock) as emulator:
            emulator.faults.throttle_storm(rate=0.5, seconds=1.0, seed=3)
            fsx = boto3.client("fsx", region_name="us-east-1", endpoint_url=emulator.endpoint_url,
                               aws_access_key_id="k", aws_secret_access_key="s",
                               config=Config(retries={"total_max_attempts": 1}))
            fsx.meta.events.register("after-call.fsx", checker)  # ThrottlingException: 400, generic
            return _storm_outcomes(emulator, fsx, 30)

    first = run()
    assert first == run()
    assert "ThrottlingException" in first and "ok" in first


def test_throttle_storm_can_start_later_and_be_reset(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    emu.faults.throttle_storm(rate=1.0, seconds=5.0, start=clock() + 10)
    assert set(_storm_outcomes(emu, client, 8)) == {"ok", "FileSystemNotFound"}
    clock.advance(10)
    assert set(_storm_outcomes(emu, client, 8)) == {"ThrottlingException"}
    emu.faults.reset()
    assert set(_storm_outcomes(emu, client, 8)) == {"ok", "FileSystemNotFound"}


@pytest.mark.usefixtures("no_backoff")
def test_botocore_retries_through_a_storm_once_it_ends(
    emu: FsxEmulator, make_client: Any, clock: ManualClock
) -> None:
    """A storm drains botocore's retries: with 3 attempts, some calls fail in the storm; the same calls
    go through once the clock has passed it."""
    emu.faults.throttle_storm(rate=0.7, seconds=8.0)
    client = make_client(retries=2)
    failures = sum(1 for outcome in _storm_outcomes(emu, client, 40) if outcome == "ThrottlingException")
    assert failures > 0
    clock.advance(8)
    assert "ThrottlingException" not in _storm_outcomes(emu, client, 40)
