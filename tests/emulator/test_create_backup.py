"""CreateBackup semantics (docs/emulator.md §1, §2, §3, §7, §8) through boto3 over HTTP."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import BACKUP_SECONDS, all_pages, describe_backup, error_of, lifecycle

from fsx_backup_component.testing import FsxEmulator, ManualClock

# What AWS really sends (docs/emulator.md, "Why each harsh default"), not the model's text.
BACKUP_IN_PROGRESS = "Another backup is already pending."


def _create_error(client: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        client.create_backup(**params)
    return error_of(excinfo)


# --- lifecycle ------------------------------------------------------------------------------------


def test_lustre_lifecycle_creating_transferring_available(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    """CreateBackup answers CREATING (recorded); a Lustre backup then goes TRANSFERRING. PENDING is
    only for a backup that has not started (queued), never the first answer."""
    fs_id = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    backup = client.create_backup(FileSystemId=fs_id)["Backup"]
    assert (backup["Lifecycle"], backup["ProgressPercent"], backup["Type"]) == ("CREATING", 0, "USER_INITIATED")
    assert backup["CreationTime"].timestamp() == pytest.approx(clock())
    seen: list[tuple[str, int]] = []
    for _ in range(10):  # sample at 0.5 s .. 9.5 s of a 10 s backup
        clock.advance(BACKUP_SECONDS / 10 if seen else BACKUP_SECONDS / 20)
        current = describe_backup(client, backup["BackupId"])
        seen.append((current["Lifecycle"], current["ProgressPercent"]))
    assert [s[0] for s in seen] == ["CREATING"] * 7 + ["TRANSFERRING"] * 3
    progress = [s[1] for s in seen]
    assert progress == sorted(progress) and progress[0] == 5 and progress[-1] == 95
    clock.advance(BACKUP_SECONDS)
    done = describe_backup(client, backup["BackupId"])
    assert (done["Lifecycle"], done["ProgressPercent"]) == ("AVAILABLE", 100)
    assert done["SizeInBytes"] > 0
    assert "SizeInBytes" not in backup


@pytest.mark.parametrize(
    ("fs_type", "deployment"), [("WINDOWS", "MULTI_AZ_1"), ("OPENZFS", "SINGLE_AZ_2")]
)
def test_windows_and_openzfs_go_creating_then_available(
    emu: FsxEmulator, client: Any, clock: ManualClock, fs_type: str, deployment: str
) -> None:
    fs_id = emu.add_file_system(fs_type, deployment_type=deployment)
    backup = client.create_backup(FileSystemId=fs_id)["Backup"]
    states = [backup["Lifecycle"]]
    for _ in range(3):
        clock.advance(BACKUP_SECONDS * 0.3)
        states.append(lifecycle(client, backup["BackupId"]))
    clock.advance(BACKUP_SECONDS)
    states.append(lifecycle(client, backup["BackupId"]))
    assert states == ["CREATING"] * 4 + ["AVAILABLE"]
    assert backup["ResourceType"] == "FILE_SYSTEM"


def test_windows_backup_carries_directory_information(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("WINDOWS", domain_name="ad.example.org")
    backup = client.create_backup(FileSystemId=fs_id)["Backup"]
    directory = backup["DirectoryInformation"]
    assert directory["DomainName"] == "ad.example.org"
    assert directory["ActiveDirectoryId"] == backup["FileSystem"]["WindowsConfiguration"]["ActiveDirectoryId"]


def test_backup_object_has_every_applicable_field(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("LUSTRE", tags={"Name": "fs"})
    backup = client.create_backup(FileSystemId=fs_id, Tags=[{"Key": "Name", "Value": "b1"}])["Backup"]
    backup_id = backup["BackupId"]
    assert backup_id.startswith("backup-") and len(backup_id) == len("backup-") + 17
    assert backup["ResourceARN"] == f"arn:aws:fsx:us-east-1:123456789012:backup/{backup_id}"
    assert backup["OwnerId"] == "123456789012"
    assert backup["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert backup["Tags"] == [{"Key": "Name", "Value": "b1"}]
    assert backup["FileSystem"]["FileSystemId"] == fs_id
    assert backup["FileSystem"]["LustreConfiguration"]["DeploymentType"] == "PERSISTENT_2"
    assert backup["ResourceType"] == "FILE_SYSTEM"
    assert "Volume" not in backup and "FailureDetails" not in backup


def test_per_file_system_duration_override(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    slow = emu.add_file_system("WINDOWS")
    fast = emu.add_file_system("WINDOWS")
    emu.set_backup_seconds(100, file_system_id=slow)
    emu.set_backup_seconds(1)
    slow_id = client.create_backup(FileSystemId=slow)["Backup"]["BackupId"]
    fast_id = client.create_backup(FileSystemId=fast)["Backup"]["BackupId"]
    clock.advance(2)
    assert (lifecycle(client, slow_id), lifecycle(client, fast_id)) == ("CREATING", "AVAILABLE")


@pytest.mark.parametrize("fs_type", ["LUSTRE", "WINDOWS", "OPENZFS"])
def test_create_backup_answers_creating_for_every_type_even_when_done_at_once(
    emu: FsxEmulator, client: Any, fs_type: str
) -> None:
    """The CreateBackup answer is CREATING (recorded) even for a zero-duration backup; the next read
    sees it AVAILABLE."""
    emu.set_backup_seconds(0)
    fs_id = emu.add_file_system(fs_type)
    backup = client.create_backup(FileSystemId=fs_id)["Backup"]
    assert (backup["Lifecycle"], backup["ProgressPercent"]) == ("CREATING", 0)
    assert "SizeInBytes" not in backup
    assert lifecycle(client, backup["BackupId"]) == "AVAILABLE"


def test_fail_next_backup_ends_failed_with_failure_details(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    fs_a = emu.add_file_system("WINDOWS")
    fs_b = emu.add_file_system("WINDOWS")
    emu.fail_next_backup("disk on fire", file_system_id=fs_b)
    ok = client.create_backup(FileSystemId=fs_a)["Backup"]["BackupId"]
    bad = client.create_backup(FileSystemId=fs_b)["Backup"]
    assert bad["Lifecycle"] == "CREATING"  # it fails only at the end of its duration
    clock.advance(BACKUP_SECONDS)
    failed = describe_backup(client, bad["BackupId"])
    assert failed["Lifecycle"] == "FAILED"
    assert failed["FailureDetails"] == {"Message": "disk on fire"}
    assert lifecycle(client, ok) == "AVAILABLE"
    # consumed: the next backup of fs_b succeeds
    again = client.create_backup(FileSystemId=fs_b)["Backup"]["BackupId"]
    clock.advance(BACKUP_SECONDS)
    assert lifecycle(client, again) == "AVAILABLE"


# --- idempotency (§2) -----------------------------------------------------------------------------


def test_same_token_same_parameters_returns_the_same_backup(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    first = client.create_backup(FileSystemId=fs_id, ClientRequestToken="tok-1")["Backup"]
    clock.advance(BACKUP_SECONDS)
    second = client.create_backup(FileSystemId=fs_id, ClientRequestToken="tok-1")["Backup"]
    assert second["BackupId"] == first["BackupId"]
    assert second["Lifecycle"] == "AVAILABLE"  # its current state
    assert len(emu.backups()) == 1


@pytest.mark.parametrize(
    ("changed", "parameter"),
    [
        ({"Tags": [{"Key": "a", "Value": "b"}]}, "Tags"),
        ({"FileSystemId": "OTHER"}, "FileSystemId"),
    ],
)
def test_same_token_different_parameters_is_incompatible(
    emu: FsxEmulator, client: Any, changed: dict[str, Any], parameter: str
) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    other = emu.add_file_system("WINDOWS")
    client.create_backup(FileSystemId=fs_id, ClientRequestToken="tok-2")
    params = {"FileSystemId": fs_id, "ClientRequestToken": "tok-2", **changed}
    if params["FileSystemId"] == "OTHER":
        params["FileSystemId"] = other
    error = _create_error(client, **params)
    assert (error["Code"], error["Parameter"], error["HTTPStatusCode"]) == (
        "IncompatibleParameterError", parameter, 400,
    )


def test_volume_instead_of_file_system_with_same_token_names_the_field(
    emu: FsxEmulator, client: Any
) -> None:
    ontap = emu.add_file_system("ONTAP")
    vol = emu.add_volume(ontap)
    client.create_backup(VolumeId=vol, ClientRequestToken="tok-v")
    error = _create_error(client, FileSystemId=ontap, ClientRequestToken="tok-v")
    assert (error["Code"], error["Parameter"]) == ("IncompatibleParameterError", "FileSystemId")


def test_same_token_returns_deleted_and_failed_backups(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    emu.fail_next_backup("boom")
    failed = client.create_backup(FileSystemId=fs_id, ClientRequestToken="t-fail")["Backup"]
    clock.advance(BACKUP_SECONDS)
    assert client.create_backup(FileSystemId=fs_id, ClientRequestToken="t-fail")["Backup"]["Lifecycle"] == "FAILED"
    done = client.create_backup(FileSystemId=fs_id, ClientRequestToken="t-del")["Backup"]
    clock.advance(BACKUP_SECONDS)
    client.delete_backup(BackupId=done["BackupId"])
    replay = client.create_backup(FileSystemId=fs_id, ClientRequestToken="t-del")["Backup"]
    assert (replay["BackupId"], replay["Lifecycle"]) == (done["BackupId"], "DELETED")
    assert failed["BackupId"] != done["BackupId"]


def test_token_is_forgotten_after_the_window(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    """Default window 300 s on the emulator clock (a public report saw an FSx token forgotten about
    five minutes later): within it a replay adopts the backup, after it the same token makes a NEW
    backup. The window counts from the token's first use, not from its replays."""
    assert emu.token_window_seconds == 300.0
    fs_id = emu.add_file_system("WINDOWS")
    first = client.create_backup(FileSystemId=fs_id, ClientRequestToken="tok-w")["Backup"]["BackupId"]
    clock.advance(299)
    assert client.create_backup(FileSystemId=fs_id, ClientRequestToken="tok-w")["Backup"]["BackupId"] == first
    clock.advance(1)
    second = client.create_backup(FileSystemId=fs_id, ClientRequestToken="tok-w")["Backup"]
    assert second["BackupId"] != first and second["Lifecycle"] == "CREATING"
    assert len(emu.backups()) == 2
    clock.advance(1)  # the forgotten token now names the second backup, for a new window
    assert client.create_backup(FileSystemId=fs_id, ClientRequestToken="tok-w")["Backup"]["BackupId"] == second["BackupId"]


def test_token_window_is_configurable(clock: ManualClock) -> None:
    fs_forever = "fs-0000000000000000a"
    with FsxEmulator(clock=clock, token_window_seconds=None) as forever, FsxEmulator(
        clock=clock, token_window_seconds=5.0
    ) as short:
        for emulator in (forever, short):
            emulator.add_file_system("WINDOWS", file_system_id=fs_forever)
            emulator.set_backup_seconds(1)
        ids = {}
        for name, emulator in (("forever", forever), ("short", short)):
            fsx = boto3.client("fsx", region_name="us-east-1", endpoint_url=emulator.endpoint_url,
                               aws_access_key_id="k", aws_secret_access_key="s")
            first = fsx.create_backup(FileSystemId=fs_forever, ClientRequestToken="t")["Backup"]["BackupId"]
            ids[name] = (fsx, first)
        clock.advance(86_400)
        for name, (fsx, first) in ids.items():
            again = fsx.create_backup(FileSystemId=fs_forever, ClientRequestToken="t")["Backup"]["BackupId"]
            assert (again == first) is (name == "forever")
        short.token_window_seconds = 1_000_000.0  # an attribute, read on every request
        fsx, _ = ids["short"]
        clock.advance(86_400)
        latest = short.backups()[-1]["BackupId"]
        assert fsx.create_backup(FileSystemId=fs_forever, ClientRequestToken="t")["Backup"]["BackupId"] == latest


def test_tokens_are_per_region(emu: FsxEmulator, make_client: Any) -> None:
    east_fs = emu.add_file_system("WINDOWS", region="us-east-1")
    west_fs = emu.add_file_system("WINDOWS", region="us-west-2")
    east = make_client("us-east-1").create_backup(FileSystemId=east_fs, ClientRequestToken="shared")
    west = make_client("us-west-2").create_backup(FileSystemId=west_fs, ClientRequestToken="shared")
    assert east["Backup"]["BackupId"] != west["Backup"]["BackupId"]


def test_without_token_each_call_is_a_new_backup(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    first = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    clock.advance(BACKUP_SECONDS)
    second = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    assert first != second


def test_failed_request_does_not_consume_the_token(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    client.create_backup(FileSystemId=fs_id)
    assert _create_error(client, FileSystemId=fs_id, ClientRequestToken="retry-me")["Code"] == "BackupInProgress"
    clock.advance(BACKUP_SECONDS)
    backup = client.create_backup(FileSystemId=fs_id, ClientRequestToken="retry-me")["Backup"]
    assert backup["Lifecycle"] == "CREATING"


# --- one at a time (§8) ---------------------------------------------------------------------------


def test_one_backup_in_progress_per_file_system(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    fs_id = emu.add_file_system("LUSTRE")
    other = emu.add_file_system("LUSTRE")
    client.create_backup(FileSystemId=fs_id)
    error = _create_error(client, FileSystemId=fs_id)
    assert (error["Code"], error["Message"], error["HTTPStatusCode"]) == ("BackupInProgress", BACKUP_IN_PROGRESS, 400)
    client.create_backup(FileSystemId=other)  # other file systems are unaffected
    clock.advance(BACKUP_SECONDS * 0.95)  # still TRANSFERRING: still in progress
    assert _create_error(client, FileSystemId=fs_id)["Code"] == "BackupInProgress"
    clock.advance(BACKUP_SECONDS)
    assert client.create_backup(FileSystemId=fs_id)["Backup"]["Lifecycle"] == "CREATING"


def test_automatic_backup_in_progress_blocks_user_backup(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    auto_id = emu.start_automatic_backup(fs_id)
    assert _create_error(client, FileSystemId=fs_id)["Code"] == "BackupInProgress"
    auto = all_pages(client.describe_backups, "Backups", Filters=[{"Name": "backup-type", "Values": ["AUTOMATIC"]}])
    assert [b["BackupId"] for b in auto] == [auto_id]
    clock.advance(BACKUP_SECONDS)
    assert client.create_backup(FileSystemId=fs_id)["Backup"]["Type"] == "USER_INITIATED"


def test_ontap_one_backup_in_progress_per_volume(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("ONTAP")
    vol_a, vol_b = emu.add_volume(fs_id, name="a"), emu.add_volume(fs_id, name="b")
    client.create_backup(VolumeId=vol_a)
    assert _create_error(client, VolumeId=vol_a)["Code"] == "BackupInProgress"
    assert client.create_backup(VolumeId=vol_b)["Backup"]["Lifecycle"] == "CREATING"


# --- eligibility (§7) -----------------------------------------------------------------------------


def test_ontap_file_system_backup_is_unsupported(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("ONTAP")
    error = _create_error(client, FileSystemId=fs_id)
    assert (error["Code"], error["Message"]) == ("UnsupportedOperation", "ONTAP file system backup is unsupported.")


@pytest.mark.parametrize("deployment", ["SCRATCH_1", "SCRATCH_2"])
def test_lustre_scratch_is_unsupported(emu: FsxEmulator, client: Any, deployment: str) -> None:
    fs_id = emu.add_file_system("LUSTRE", deployment_type=deployment)
    error = _create_error(client, FileSystemId=fs_id)
    assert error["Code"] == "UnsupportedOperation" and deployment in error["Message"]


@pytest.mark.parametrize("link", ["import_path", "export_path", "dra"])
def test_lustre_linked_to_s3_is_unsupported(emu: FsxEmulator, client: Any, link: str) -> None:
    if link == "dra":
        fs_id = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
        emu.add_data_repository_association(fs_id, lifecycle="FAILED")
    else:
        fs_id = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_1")
        emu.update_file_system(fs_id, **{link: "s3://bucket/p"})
    error = _create_error(client, FileSystemId=fs_id)
    assert error["Code"] == "UnsupportedOperation"
    assert "linked to an Amazon S3 data repository" in error["Message"]


@pytest.mark.parametrize(
    "volume_kwargs",
    [{"ontap_volume_type": "DP"}, {"ontap_volume_type": "LS"}, {"flexcache_endpoint_type": "CACHE"}],
)
def test_ineligible_ontap_volumes(emu: FsxEmulator, client: Any, volume_kwargs: dict[str, Any]) -> None:
    vol = emu.add_volume(emu.add_file_system("ONTAP"), **volume_kwargs)
    assert _create_error(client, VolumeId=vol)["Code"] == "UnsupportedOperation"


def test_ontap_rw_flexgroup_volume_backup(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("ONTAP")
    vol = emu.add_volume(fs_id, volume_style="FLEXGROUP", flexcache_endpoint_type="ORIGIN")
    backup = client.create_backup(VolumeId=vol)["Backup"]
    assert backup["ResourceType"] == "VOLUME"
    assert backup["Volume"]["VolumeId"] == vol
    assert backup["Volume"]["OntapConfiguration"]["VolumeStyle"] == "FLEXGROUP"
    assert backup["FileSystem"]["FileSystemId"] == fs_id


def test_openzfs_volume_backup_is_unsupported(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("OPENZFS")
    root = client.describe_file_systems()["FileSystems"][0]["OpenZFSConfiguration"]["RootVolumeId"]
    assert fs_id and _create_error(client, VolumeId=root)["Code"] == "UnsupportedOperation"


@pytest.mark.parametrize("state", ["CREATING", "MISCONFIGURED", "DELETING", "FAILED"])
def test_file_system_not_available_is_bad_request(emu: FsxEmulator, client: Any, state: str) -> None:
    fs_id = emu.add_file_system("LUSTRE")
    emu.update_file_system(fs_id, lifecycle=state)
    error = _create_error(client, FileSystemId=fs_id)
    assert (error["Code"], error["Message"]) == ("BadRequest", f"Cannot take final backup while {fs_id} is in {state}")
    assert emu.backups() == []


@pytest.mark.parametrize(("fs_type", "queued_state"), [("LUSTRE", "PENDING"), ("WINDOWS", "CREATING")])
def test_backup_requested_while_updating_is_queued_until_available(
    emu: FsxEmulator, client: Any, clock: ManualClock, fs_type: str, queued_state: str
) -> None:
    """The user guides: a backup requested during an update is queued, not refused. It stays in
    progress (PENDING for Lustre: "hasn't started") while the file system is UPDATING, however long,
    and runs its full duration once the file system is AVAILABLE again."""
    fs_id = emu.add_file_system(fs_type)
    emu.update_file_system(fs_id, lifecycle="UPDATING")
    backup = client.create_backup(FileSystemId=fs_id)["Backup"]
    assert (backup["Lifecycle"], backup["ProgressPercent"]) == ("CREATING", 0)
    clock.advance(BACKUP_SECONDS * 5)
    queued = describe_backup(client, backup["BackupId"])
    assert (queued["Lifecycle"], queued["ProgressPercent"]) == (queued_state, 0)
    assert _create_error(client, FileSystemId=fs_id)["Code"] == "BackupInProgress"  # one at a time
    assert _delete_error(client, backup["BackupId"]) == "BackupInProgress"
    emu.update_file_system(fs_id, lifecycle="AVAILABLE")
    clock.advance(BACKUP_SECONDS / 2)
    assert lifecycle(client, backup["BackupId"]) == "CREATING"
    clock.advance(BACKUP_SECONDS / 2)
    assert lifecycle(client, backup["BackupId"]) == "AVAILABLE"


def test_queued_backup_of_a_deleted_file_system_fails(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("WINDOWS", lifecycle="UPDATING")
    backup_id = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    emu.delete_file_system(fs_id)
    assert lifecycle(client, backup_id) == "FAILED"


def _delete_error(client: Any, backup_id: str) -> str:
    with pytest.raises(ClientError) as excinfo:
        client.delete_backup(BackupId=backup_id)
    return str(error_of(excinfo)["Code"])


def test_volume_not_created_is_bad_request(emu: FsxEmulator, client: Any) -> None:
    vol = emu.add_volume(emu.add_file_system("ONTAP"), lifecycle="PENDING")
    error = _create_error(client, VolumeId=vol)
    assert error["Code"] == "BadRequest" and "PENDING" in error["Message"]


def test_not_found_and_target_selection_errors(emu: FsxEmulator, client: Any) -> None:
    assert _create_error(client, FileSystemId="fs-0123456789abcdef0")["Code"] == "FileSystemNotFound"
    assert _create_error(client, VolumeId="fsvol-0123456789abcdef0")["Code"] == "VolumeNotFound"
    assert _create_error(client)["Code"] == "BadRequest"
    fs_id = emu.add_file_system("ONTAP")
    both = _create_error(client, FileSystemId=fs_id, VolumeId=emu.add_volume(fs_id))
    assert both["Code"] == "BadRequest"


# --- quota and tags -------------------------------------------------------------------------------


def test_user_initiated_backup_quota(clock: ManualClock, make_client: Any, emu: FsxEmulator) -> None:
    emu.backup_quota = 2
    emu.set_backup_seconds(0)
    fs_id = emu.add_file_system("WINDOWS")
    client = make_client()
    first = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    client.create_backup(FileSystemId=fs_id)
    error = _create_error(client, FileSystemId=fs_id)
    assert (error["Code"], error["Limit"]) == ("ServiceLimitExceeded", "TOTAL_USER_INITIATED_BACKUPS")
    emu.start_automatic_backup(fs_id)  # automatic backups do not count
    client.delete_backup(BackupId=first)  # DELETED ones do not count
    assert client.create_backup(FileSystemId=fs_id)["Backup"]["Lifecycle"] == "CREATING"


def test_tags_copied_only_when_omitted_and_copy_tags_to_backups(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    fs_tags = {"Name": "prod", "team": "hpc"}
    copying = emu.add_file_system("LUSTRE", tags=fs_tags, copy_tags_to_backups=True)
    plain = emu.add_file_system("LUSTRE", tags=fs_tags)
    copied = client.create_backup(FileSystemId=copying)["Backup"]
    assert copied["Tags"] == [{"Key": "Name", "Value": "prod"}, {"Key": "team", "Value": "hpc"}]
    assert "Tags" not in client.create_backup(FileSystemId=plain)["Backup"]
    clock.advance(BACKUP_SECONDS)
    explicit = client.create_backup(FileSystemId=copying, Tags=[{"Key": "only", "Value": "this"}])["Backup"]
    assert explicit["Tags"] == [{"Key": "only", "Value": "this"}]


def test_ontap_volume_tags_copied_from_the_volume(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("ONTAP", tags={"fs": "tag"})
    vol = emu.add_volume(fs_id, tags={"vol": "tag"}, copy_tags_to_backups=True)
    assert client.create_backup(VolumeId=vol)["Backup"]["Tags"] == [{"Key": "vol", "Value": "tag"}]


def test_snapshot_survives_file_system_deletion(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    fs_id = emu.add_file_system("LUSTRE", tags={"Name": "gone-soon"})
    backup_id = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    auto_id = emu.start_automatic_backup(emu.add_file_system("WINDOWS"))
    clock.advance(BACKUP_SECONDS)
    emu.update_file_system(fs_id, file_system_type_version="2.12")  # the snapshot must not follow
    emu.delete_file_system(fs_id)
    kept = client.describe_backups(BackupIds=[backup_id])["Backups"][0]
    assert kept["FileSystem"]["FileSystemId"] == fs_id
    assert kept["FileSystem"]["FileSystemTypeVersion"] == "2.15"
    assert kept["FileSystem"]["Tags"] == [{"Key": "Name", "Value": "gone-soon"}]
    assert _create_error(client, FileSystemId=fs_id)["Code"] == "FileSystemNotFound"
    assert auto_id in {b["BackupId"] for b in emu.backups()}  # other FS's automatic backup untouched


def test_automatic_backups_go_with_their_file_system(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    emu.start_automatic_backup(fs_id)
    emu.delete_file_system(fs_id)
    assert all_pages(client.describe_backups, "Backups") == []
