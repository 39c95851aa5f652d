"""A throttling storm against the package's AWS calls themselves (fsx.py over real HTTP to the
emulator): 48 concurrent CreateBackup calls through one client while 70% of all calls are throttled
for 8 seconds of the emulator's clock. botocore's standard retry quota is shared by the client and
drains within the burst, after which botocore raises at once; the package's own retries
(``fsx.TransientRetry``) carry every call through the storm, and the fixed request token makes each
repeat harmless. The storm's clock is a ManualClock that only the package's retries advance, and
botocore's own backoff takes no time, so the test never waits."""

from __future__ import annotations

import dataclasses
import threading
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.endpoint
import pytest

from fsx_backup_component import fsx
from fsx_backup_component.testing import FsxEmulator, ManualClock
from fsx_backup_component.token import derive_token

STORM_RATE = 0.70
STORM_SECONDS = 8.0
CALLS = 48


@pytest.fixture
def storm_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FsxEmulator, ManualClock]]:
    clock = ManualClock()
    with FsxEmulator(port=0, clock=clock, backup_seconds=60.0) as emu:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_ENDPOINT_URL_FSX", emu.endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASTORMSTORMSTORM1")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "storm-secret")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        # botocore's own backoff (endpoint.py: time.sleep) takes no time at all: the storm outlasts
        # every botocore attempt, and only the package's retries let the storm's clock move on.
        fake_time = types.SimpleNamespace(**{**vars(botocore.endpoint.time), "sleep": lambda _seconds: None})
        monkeypatch.setattr(botocore.endpoint, "time", fake_time)
        yield emu, clock


def _sleeper(clock: ManualClock) -> Any:
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.advance(seconds / CALLS)  # every thread sleeps at once: the clock moves per round

    return sleep


def _storm(emu: FsxEmulator, clock: ManualClock, retry: fsx.TransientRetry) -> list[Any]:
    file_systems = [emu.add_file_system("WINDOWS") for _ in range(CALLS)]
    client = fsx.client_for("us-east-1")
    emu.faults.throttle_storm(rate=STORM_RATE, seconds=STORM_SECONDS, seed=7)
    retry.sleep = _sleeper(clock)

    def create(fs_id: str) -> Any:
        try:
            return fsx.create_backup(
                client, file_system_id=fs_id, volume_id=None, token=derive_token("urn", fs_id), tags=None
            ).backup["BackupId"]
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test compares
            return exc

    with ThreadPoolExecutor(CALLS) as pool:
        return list(pool.map(create, file_systems))


def test_forty_eight_creates_survive_a_throttling_storm(
    storm_world: tuple[FsxEmulator, ManualClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, clock = storm_world
    # The package's retry as shipped (fsx.TRANSIENT_RETRY: its budget and pauses), on the storm's clock.
    retry = dataclasses.replace(fsx.TRANSIENT_RETRY, clock=clock, retried=0)
    monkeypatch.setattr(fsx, "TRANSIENT_RETRY", retry)

    outcomes = _storm(emu, clock, retry)

    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert failures == []
    assert len(set(outcomes)) == CALLS
    assert len([b for b in emu.backups() if b["Type"] == "USER_INITIATED"]) == CALLS, "a backup was made twice"
    assert retry.retried > 0, "the storm never reached the package's own retries"


def test_without_the_package_retries_botocore_alone_gives_up_in_the_storm(
    storm_world: tuple[FsxEmulator, ManualClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same storm with the package's retries switched off fails calls, which is
    why they exist (botocore's retry quota is drained)."""
    emu, clock = storm_world
    retry = fsx.TransientRetry(clock=clock, budget_seconds=0.0)
    monkeypatch.setattr(fsx, "TRANSIENT_RETRY", retry)

    outcomes = _storm(emu, clock, retry)

    assert any(isinstance(o, Exception) and "Throttling" in str(o) for o in outcomes), outcomes
