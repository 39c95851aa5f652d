"""Pre-change backups (issue 5) through the engine harness: the guard's hooks run as the engine runs
them, and the order of events shows the backup AVAILABLE before the file system is changed."""

from __future__ import annotations

from typing import Any, Callable, Optional

import boto3
import pulumi
import pulumi_aws as aws

from fsx_backup_component import PreChangeBackup
from fsx_backup_component.prechange import GUARD_TAG_KEY
from tests.e2e.conftest import BACKUP_SECONDS
from tests.harness import EmulatorCloud
from tests.harness.cloud import CloudResource

LUSTRE = "aws:fsx/lustreFileSystem:LustreFileSystem"


def lustre_program(
    version: str, *, keep_last: Optional[int] = None, deployment: str = "PERSISTENT_2", name: str = "guard"
) -> Callable[[], None]:
    def program() -> None:
        guard = PreChangeBackup(name, keep_last=keep_last, tags={"team": "data"})
        aws.fsx.LustreFileSystem(
            "data",
            storage_capacity=1200,
            subnet_ids="subnet-0123456789abcdef0",
            deployment_type=deployment,
            per_unit_storage_throughput=125,
            file_system_type_version=version,
            opts=pulumi.ResourceOptions(hooks=guard.hooks),
        )

    return program


def emu_client(emu: Any) -> Any:
    return boto3.client(
        "fsx", region_name="us-east-1", endpoint_url=emu.endpoint_url,
        aws_access_key_id="test", aws_secret_access_key="test",
    )


def user_backups(emu: Any, include_deleted: bool = False) -> list[dict[str, Any]]:
    return [b for b in emu.backups(include_deleted=include_deleted) if b["Type"] == "USER_INITIATED"]


def tags_of(backup: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backup.get("Tags") or []}


def test_backup_is_available_before_the_file_system_is_updated(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    first = h.up(lustre_program("2.12")).raise_for_errors()
    fs_urn = first.urn("data", LUSTRE)
    assert first.ops[fs_urn] == "create"
    assert user_backups(emu) == [], "no backup on the first creation"

    same = h.up(lustre_program("2.12")).raise_for_errors()
    assert same.ops[fs_urn] == "same"
    assert user_backups(emu) == [], "no backup when nothing changes"

    upgrade = h.up(lustre_program("2.15")).raise_for_errors()
    assert upgrade.ops[fs_urn] == "update"
    (backup,) = user_backups(emu)
    fs_id = h.state.resources[fs_urn].id
    assert backup["FileSystem"]["FileSystemId"] == fs_id
    # The backup is of the file system as it was: the snapshot still has the old version.
    assert backup["FileSystem"]["FileSystemTypeVersion"] == "2.12"
    assert tags_of(backup)[GUARD_TAG_KEY].endswith("/guard") and tags_of(backup)["team"] == "data"

    hook_end = h.events.first(kind="hook", phase="end", urn=fs_urn, run=upgrade.number)
    update_start = h.events.first(kind="op", name="update", phase="start", urn=fs_urn, run=upgrade.number)
    assert not hook_end.detail.get("error")
    assert hook_end.seq < update_start.seq, "the update started before the pre-change hook returned"
    available_at = backup["CreationTime"] + BACKUP_SECONDS
    assert available_at <= update_start.wall, "the backup was not AVAILABLE when the update started"
    # The emulated file system really was upgraded, after the backup.
    described = emu_client(emu).describe_file_systems(
        FileSystemIds=[fs_id]
    )
    assert described["FileSystems"][0]["FileSystemTypeVersion"] == "2.15"


def test_one_backup_per_change_and_keep_last_prunes_only_its_own(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    h.up(lustre_program("2.12", keep_last=1)).raise_for_errors()
    fs_id = next(r.id for r in h.state.resources.values() if r.type == LUSTRE)
    client = emu_client(emu)
    foreign = client.create_backup(FileSystemId=fs_id, Tags=[{"Key": "owner", "Value": "someone-else"}])["Backup"]
    wait_available(emu, [foreign["BackupId"]])  # FSx takes one backup at a time per file system
    other_guard = client.create_backup(
        FileSystemId=fs_id, Tags=[{"Key": GUARD_TAG_KEY, "Value": "other-project/test/guard"}]
    )["Backup"]
    wait_available(emu, [other_guard["BackupId"]])

    h.up(lustre_program("2.15", keep_last=1)).raise_for_errors()
    h.up(lustre_program("2.16", keep_last=1)).raise_for_errors()

    def made_by_this_guard(backup: dict[str, Any]) -> bool:
        tag = tags_of(backup).get(GUARD_TAG_KEY, "")
        return tag.endswith("/test/guard") and not tag.startswith("other-project/")

    live = {b["BackupId"]: b for b in user_backups(emu)}
    mine = [b for b in live.values() if made_by_this_guard(b)]
    assert len(mine) == 1, "keep_last=1 keeps exactly the newest backup of this guard"
    assert mine[0]["FileSystem"]["FileSystemTypeVersion"] == "2.15", "the newest is the one before 2.16"
    assert foreign["BackupId"] in live and other_guard["BackupId"] in live, "pruning touched a backup it did not make"
    ever_made = [b for b in user_backups(emu, include_deleted=True) if made_by_this_guard(b)]
    assert len(ever_made) == 2, "exactly one backup per change"


def wait_available(emu: Any, backup_ids: list[str]) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = {b["BackupId"]: b["Lifecycle"] for b in emu.backups()}
        if all(states.get(i) == "AVAILABLE" for i in backup_ids):
            return
        time.sleep(0.05)
    raise AssertionError(f"backups {backup_ids} did not become AVAILABLE")


class FailFirstUpdate(EmulatorCloud):
    """The AWS provider's update of the file system fails once (e.g. a throttled UpdateFileSystem)."""

    def __init__(self, emulator: Any) -> None:
        super().__init__(emulator)
        self.failed = False

    def update(self, resource: CloudResource, changed: Any) -> dict[str, Any]:
        if not self.failed:
            self.failed = True
            raise RuntimeError("UpdateFileSystem: ThrottlingException")
        return super().update(resource, changed)


def test_a_retried_change_adopts_the_same_backup(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(cloud=FailFirstUpdate(emu))
    h.up(lustre_program("2.12")).raise_for_errors()
    failed = h.up(lustre_program("2.15"))
    assert not failed.ok and "ThrottlingException" in failed.error_text()
    (backup,) = user_backups(emu)

    h.up(lustre_program("2.15")).raise_for_errors()
    assert [b["BackupId"] for b in user_backups(emu, include_deleted=True)] == [backup["BackupId"]], (
        "the retried update made a second pre-change backup"
    )


def test_replacement_backs_up_the_old_file_system_before_deleting_it(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    first = h.up(lustre_program("2.12")).raise_for_errors()
    fs_urn = first.urn("data", LUSTRE)
    old_id = h.state.resources[fs_urn].id

    replaced = h.up(lustre_program("2.12", deployment="PERSISTENT_1")).raise_for_errors()
    assert replaced.ops[fs_urn] == "replace"
    (backup,) = user_backups(emu)
    assert backup["FileSystem"]["FileSystemId"] == old_id
    hook_end = h.events.first(kind="hook", phase="end", urn=fs_urn, run=replaced.number)
    delete_start = h.events.first(kind="op", name="delete", phase="start", urn=fs_urn, run=replaced.number)
    assert hook_end.detail.get("hook_type") == "before_delete" and not hook_end.detail.get("error")
    assert hook_end.seq < delete_start.seq and delete_start.detail.get("id") == old_id


def test_guard_arguments_are_checked_when_the_program_runs(harness: Callable[..., Any]) -> None:
    def program() -> None:
        PreChangeBackup("bad", keep_last=0)

    result = harness().up(program)
    assert not result.ok
    assert "keep_last" in result.error_text() and ">= 1" in result.error_text()
