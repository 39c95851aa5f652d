"""The scenarios the Python path is proven by, through the native plugin: throttling, paging with a
forgetful token, copies, retargets, refresh, progress and the credential scan. Each runs the real
plugin process over gRPC against the emulator (tests/harness/native.py), so a guarantee that holds
only in the dynamic adapter fails here."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from fsx_backup_component.testing import FsxEmulator
from tests.harness.engine import ObservedCounter
from tests.harness.native import BACKUP, COMPONENT, CREDENTIALS, NativeEngine, PluginError, plain

PARALLEL_BACKUPS = 8
# A storm measured in calls (not seconds), so it ends after the same requests however loaded the
# machine is; on the calls that decide duplicates: CreateBackup and the polls that follow it.
STORM_CALLS = 40
STORM_OPERATIONS = ("CreateBackup", "DescribeBackups")


@pytest.fixture
def emu() -> Iterator[FsxEmulator]:
    with FsxEmulator(port=0, backup_seconds=1.0, copy_seconds=1.0) as emulator:
        yield emulator


@pytest.fixture
def engine(emu: FsxEmulator) -> Iterator[NativeEngine]:
    with NativeEngine(emu) as native:
        yield native


def user_backups(emu: FsxEmulator, region: str = "us-east-1", include_deleted: bool = False) -> list[dict[str, Any]]:
    return [
        b for b in emu.backups(region=region, include_deleted=include_deleted)
        if b["Type"] == "USER_INITIATED" and not b.get("SourceBackupId")
    ]


def lustre(emu: FsxEmulator) -> str:
    return emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")


def test_a_throttle_storm_over_parallel_creates_loses_and_duplicates_nothing(
    engine: NativeEngine, emu: FsxEmulator
) -> None:
    targets = [lustre(emu) for _ in range(PARALLEL_BACKUPS)]
    engine.configure()
    storm = emu.faults.throttle_storm(rate=0.5, calls=STORM_CALLS, seed=7, operations=STORM_OPERATIONS)
    outcomes: dict[str, Any] = {}

    def up(index: int, fs: str) -> None:
        urn = engine.urn(BACKUP, f"b{index}")
        try:
            outcomes[urn] = engine.step(urn, {"fileSystemId": fs, "life": f"n{index}"})
        except PluginError as exc:
            outcomes[urn] = exc

    threads = [threading.Thread(target=up, args=(i, fs)) for i, fs in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # The storm lasted the whole run (seeded: 23 of its first 37 calls were throttled).
    assert storm.throttled >= STORM_CALLS // 4
    assert emu.faults.injected["ThrottlingException"] == storm.throttled
    assert all(isinstance(o, dict) for o in outcomes.values()), [o for o in outcomes.values() if not isinstance(o, dict)]
    made = user_backups(emu)
    assert sorted(b["FileSystem"]["FileSystemId"] for b in made) == sorted(targets), "one backup per target, no more"
    assert {o["backupId"] for o in outcomes.values()} == {b["BackupId"] for b in made}
    assert {o["lifecycle"] for o in outcomes.values()} == {"AVAILABLE"}


def test_a_killed_create_is_adopted_through_pages_of_one_after_fsx_forgot_the_token(emu: FsxEmulator) -> None:
    emu.page_size = 1
    emu.token_window_seconds = 0  # the token is forgotten at once: only the token tag can find the backup
    fs = lustre(emu)
    emu.set_backup_seconds(0.0, fs)
    client = boto3.client("fsx", region_name="us-east-1", endpoint_url=emu.endpoint_url,
                          aws_access_key_id="k", aws_secret_access_key="s")
    # Other user backups of the same file system to page past (AVAILABLE at once).
    client_made = [client.create_backup(FileSystemId=fs)["Backup"]["BackupId"] for _ in range(4)]
    emu.set_backup_seconds(1.0, fs)
    creates_before = emu.calls["CreateBackup"]
    with NativeEngine(emu) as engine:
        urn = engine.urn(BACKUP, "crash")
        inputs = {"fileSystemId": fs, "life": "n1"}
        counter = ObservedCounter.install(emu)
        counter.arm("CreateBackup", 1, engine.kill, current=emu.calls["CreateBackup"])
        with pytest.raises(PluginError):
            engine.step(urn, inputs)
        engine.restart()
        outputs = engine.step(urn, inputs)
    ours = [b for b in user_backups(emu) if b["BackupId"] not in client_made]
    assert [b["BackupId"] for b in ours] == [outputs["backupId"]], "adopted by its tag, never made twice"
    assert emu.calls["CreateBackup"] - creates_before == 1, "the restarted create made no second request"


def test_copies_are_made_reported_and_deleted_with_the_backup(engine: NativeEngine, emu: FsxEmulator) -> None:
    fs = lustre(emu)
    up = engine.construct("copied", {"fileSystemId": fs, "copyToRegions": [{"region": "us-west-2"}]})
    (copy,) = up.outputs["copies"]
    (made,) = [b for b in emu.backups(region="us-west-2") if b.get("SourceBackupId")]
    assert copy["backupId"] == made["BackupId"] and copy["region"] == "us-west-2"
    assert made["SourceBackupId"] == up.outputs["backupId"] and copy["lifecycle"] == "AVAILABLE"
    engine.destroy()
    assert emu.backups(region="us-west-2") == [] and user_backups(emu) == []


def test_a_new_target_gets_a_new_backup_and_the_old_one_is_kept(engine: NativeEngine, emu: FsxEmulator) -> None:
    first_fs, second_fs = lustre(emu), lustre(emu)
    first = engine.construct("moving", {"fileSystemId": first_fs})
    second = engine.construct("moving", {"fileSystemId": second_fs})
    assert second.outputs["backupId"] != first.outputs["backupId"] and second.outputs["fileSystemId"] == second_fs
    lifecycles = {b["BackupId"]: b["Lifecycle"] for b in user_backups(emu, include_deleted=True)}
    assert lifecycles == {first.outputs["backupId"]: "AVAILABLE", second.outputs["backupId"]: "AVAILABLE"}


def test_refresh_notices_a_backup_deleted_by_hand_and_the_next_up_makes_a_new_one(
    engine: NativeEngine, emu: FsxEmulator
) -> None:
    fs = lustre(emu)
    first = engine.construct("gone", {"fileSystemId": fs})
    urn = engine.urn(BACKUP, "gone", COMPONENT)
    emu.delete_backup_out_of_band(first.outputs["backupId"])
    engine.refresh()
    assert urn not in engine.state, "a backup deleted by hand leaves the state on refresh"
    again = engine.construct("gone", {"fileSystemId": fs})
    assert again.outputs["backupId"] != first.outputs["backupId"] and again.outputs["lifecycle"] == "AVAILABLE"


def test_progress_reaches_the_engine_through_every_pending_lifecycle(emu: FsxEmulator) -> None:
    emu.set_backup_seconds(3.0)
    fs = lustre(emu)
    with NativeEngine(emu) as engine:
        engine.construct("watched", {"fileSystemId": fs})
        urn = engine.urn(BACKUP, "watched", COMPONENT)
        said = " ".join(r.message for r in engine.log.for_urn(urn))
    assert "CREATING" in said or "TRANSFERRING" in said, said
    assert "AVAILABLE" in said, said


def test_no_credential_reaches_the_state_the_log_or_the_plugin_output(emu: FsxEmulator) -> None:
    fs = lustre(emu)
    with NativeEngine(emu) as engine:
        run = engine.construct("scan", {"fileSystemId": fs, "tags": {"team": "data"}})
        try:
            engine.construct("scan-bad", {"fileSystemId": "fs-0000000000000dead"})
        except PluginError:
            pass  # an error message is scanned too
        engine.destroy()
        assert engine.plugin is not None
        texts = {
            "state": json.dumps([vars(s) for s in engine.state.values()]) + json.dumps(run.outputs),
            "log": " ".join(r.message for r in engine.log.records),
            "errors": " ".join(f.message for f in engine.failures),
            "plugin output": engine.plugin.stdout + engine.plugin.stderr,
        }
    assert plain(run.outputs["lifecycle"]) == "AVAILABLE"
    leaks = [(where, name) for where, text in texts.items() for name, value in CREDENTIALS.items() if value in text]
    assert leaks == []


def test_keep_last_rotates_through_the_plugin_and_names_keep_last_when_bad(
    engine: NativeEngine, emu: FsxEmulator
) -> None:
    fs = lustre(emu)
    taken: list[str] = []
    for day in range(1, 4):
        up = engine.construct("daily", {"fileSystemId": fs, "keepLast": 2, "triggers": {"day": day}})
        taken.append(up.outputs["backupId"])
        live = sorted(user_backups(emu), key=lambda b: b["CreationTime"], reverse=True)
        assert [b["BackupId"] for b in live] == taken[::-1][:2], f"after rotation {day}"
        assert up.outputs["keptBackups"] == taken[::-1][1:2]
    engine.destroy()
    assert user_backups(emu) == []
    with pytest.raises(PluginError) as raised:
        engine.construct("bad", {"fileSystemId": fs, "keepLast": "3"}, dry_run=True)
    assert "keepLast" in raised.value.failure.message and "keep_last" not in raised.value.failure.message
