"""CopyBackup (§6): regions, KMS keys, limits, tags, lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import BACKUP_SECONDS, COPY_SECONDS, error_of, lifecycle

from fsx_backup_component.testing import FsxEmulator, ManualClock

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def source(emu: FsxEmulator, make_client: Any, clock: ManualClock) -> str:
    """An AVAILABLE backup in us-east-1 tagged {"origin": "src", "shared": "source"}."""
    fs_id = emu.add_file_system("LUSTRE", region="us-east-1")
    backup = make_client("us-east-1").create_backup(
        FileSystemId=fs_id, Tags=[{"Key": "origin", "Value": "src"}, {"Key": "shared", "Value": "source"}]
    )["Backup"]
    clock.advance(BACKUP_SECONDS)
    return str(backup["BackupId"])


def _copy_error(client: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        client.copy_backup(**params)
    return error_of(excinfo)


def test_cross_region_copy_lifecycle_and_fields(
    source: str, make_client: Any, clock: ManualClock
) -> None:
    west = make_client("us-west-2")
    copy = west.copy_backup(SourceBackupId=source, SourceRegion="us-east-1")["Backup"]
    assert copy["Lifecycle"] == "COPYING" and copy["ProgressPercent"] == 0
    assert (copy["SourceBackupId"], copy["SourceBackupRegion"], copy["Type"]) == (source, "us-east-1", "USER_INITIATED")
    assert copy["ResourceARN"].startswith("arn:aws:fsx:us-west-2:123456789012:backup/backup-")
    assert copy["KmsKeyId"].startswith("arn:aws:kms:us-west-2:")
    assert copy["FileSystem"]["LustreConfiguration"]["DeploymentType"] == "PERSISTENT_2"
    assert "Tags" not in copy  # CopyTags defaults to false
    clock.advance(COPY_SECONDS / 2)
    assert west.describe_backups(BackupIds=[copy["BackupId"]])["Backups"][0]["ProgressPercent"] == 50
    clock.advance(COPY_SECONDS / 2)
    assert lifecycle(west, copy["BackupId"]) == "AVAILABLE"
    assert make_client("us-east-1").describe_backups()["Backups"][0]["BackupId"] == source


def test_in_region_copy_is_the_default(source: str, client: Any) -> None:
    copy = client.copy_backup(SourceBackupId=source)["Backup"]
    assert copy["SourceBackupRegion"] == "us-east-1"
    assert len(client.describe_backups()["Backups"]) == 2


def test_copy_tags_merge_tags_parameter_wins(source: str, client: Any) -> None:
    copy = client.copy_backup(
        SourceBackupId=source, CopyTags=True, Tags=[{"Key": "shared", "Value": "param"}, {"Key": "new", "Value": "1"}]
    )["Backup"]
    assert {t["Key"]: t["Value"] for t in copy["Tags"]} == {"origin": "src", "shared": "param", "new": "1"}
    only_param = client.copy_backup(SourceBackupId=source, Tags=[{"Key": "new", "Value": "2"}])["Backup"]
    assert only_param["Tags"] == [{"Key": "new", "Value": "2"}]


def test_copy_tags_limit(source: str, client: Any) -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    assert _copy_error(client, SourceBackupId=source, CopyTags=True, Tags=tags)["Code"] == "BadRequest"


def test_source_not_available_or_missing(emu: FsxEmulator, client: Any, source: str) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    creating = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    error = _copy_error(client, SourceBackupId=creating)
    assert (error["Code"], error["BackupId"]) == ("SourceBackupUnavailable", creating)
    assert _copy_error(client, SourceBackupId="backup-0123456789abcdef0")["Code"] == "BackupNotFound"
    # the source exists in us-east-1 only
    assert _copy_error(client, SourceBackupId=source, SourceRegion="eu-west-1")["Code"] == "BackupNotFound"


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "xx-nowhere-9"])
def test_invalid_source_region(source: str, client: Any, region: str) -> None:
    assert _copy_error(client, SourceBackupId=source, SourceRegion=region)["Code"] == "InvalidRegion"


def test_opt_in_region_cross_region_copy_is_unsupported(source: str, make_client: Any) -> None:
    error = _copy_error(make_client("af-south-1"), SourceBackupId=source, SourceRegion="us-east-1")
    assert error["Code"] == "UnsupportedOperation"


@pytest.mark.parametrize(
    "key",
    [
        KEY_ID,
        "mrk-1234567890abcdef1234567890abcdef",
        "alias/my-key",
        f"arn:aws:kms:us-east-1:111122223333:key/{KEY_ID}",
    ],
)
def test_valid_kms_key_shapes(source: str, client: Any, key: str) -> None:
    copy = client.copy_backup(SourceBackupId=source, KmsKeyId=key)["Backup"]
    assert copy["KmsKeyId"].startswith("arn:aws:kms:us-east-1:")


@pytest.mark.parametrize(
    "key", ["not-a-key", f"arn:aws:kms:eu-west-1:111122223333:key/{KEY_ID}", "arn:aws:s3:::bucket"]
)
def test_invalid_kms_key_shapes(source: str, client: Any, key: str) -> None:
    assert _copy_error(client, SourceBackupId=source, KmsKeyId=key)["Code"] == "InvalidDestinationKmsKey"


def test_kms_key_marked_invalid(emu: FsxEmulator, source: str, client: Any) -> None:
    emu.mark_kms_key_invalid(KEY_ID, "us-east-1")
    assert _copy_error(client, SourceBackupId=source, KmsKeyId=KEY_ID)["Code"] == "InvalidDestinationKmsKey"


def test_five_copies_in_progress_per_destination_region(
    source: str, client: Any, make_client: Any, clock: ManualClock
) -> None:
    for _ in range(5):
        client.copy_backup(SourceBackupId=source)
    error = _copy_error(client, SourceBackupId=source)
    assert (error["Code"], error["Limit"]) == ("ServiceLimitExceeded", "TOTAL_IN_PROGRESS_COPY_BACKUPS")
    make_client("us-east-2").copy_backup(SourceBackupId=source, SourceRegion="us-east-1")  # other region
    clock.advance(COPY_SECONDS)
    assert client.copy_backup(SourceBackupId=source)["Backup"]["Lifecycle"] == "COPYING"


def test_multi_az_windows_into_region_without_multi_az(
    emu: FsxEmulator, make_client: Any, clock: ManualClock
) -> None:
    emu.regions_without_multi_az.add("ap-southeast-2")
    fs_id = emu.add_file_system("WINDOWS", deployment_type="MULTI_AZ_1")
    backup_id = make_client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    clock.advance(BACKUP_SECONDS)
    sydney = make_client("ap-southeast-2")
    error = _copy_error(sydney, SourceBackupId=backup_id, SourceRegion="us-east-1")
    assert error["Code"] == "IncompatibleRegionForMultiAZ"
    assert make_client("eu-west-1").copy_backup(SourceBackupId=backup_id, SourceRegion="us-east-1")


def test_copy_token_idempotency(source: str, client: Any) -> None:
    first = client.copy_backup(SourceBackupId=source, ClientRequestToken="c1")["Backup"]["BackupId"]
    assert client.copy_backup(SourceBackupId=source, ClientRequestToken="c1")["Backup"]["BackupId"] == first
    error = _copy_error(client, SourceBackupId=source, ClientRequestToken="c1", CopyTags=True)
    assert (error["Code"], error["Parameter"]) == ("IncompatibleParameterError", "CopyTags")


def test_failed_copy(emu: FsxEmulator, source: str, client: Any, clock: ManualClock) -> None:
    emu.fail_next_backup("copy broke")
    copy_id = client.copy_backup(SourceBackupId=source)["Backup"]["BackupId"]
    clock.advance(COPY_SECONDS)
    failed = client.describe_backups(BackupIds=[copy_id])["Backups"][0]
    assert (failed["Lifecycle"], failed["FailureDetails"]["Message"]) == ("FAILED", "copy broke")


def test_copies_count_towards_the_backup_quota(emu: FsxEmulator, source: str, client: Any) -> None:
    emu.backup_quota = 1
    error = _copy_error(client, SourceBackupId=source)
    assert (error["Code"], error["Limit"]) == ("ServiceLimitExceeded", "TOTAL_USER_INITIATED_BACKUPS")


def test_copy_token_is_forgotten_after_the_window(emu: FsxEmulator, source: str, client: Any, clock: ManualClock) -> None:
    first = client.copy_backup(SourceBackupId=source, ClientRequestToken="c-w")["Backup"]
    assert first["Lifecycle"] == "COPYING"
    clock.advance(COPY_SECONDS)
    assert client.copy_backup(SourceBackupId=source, ClientRequestToken="c-w")["Backup"]["BackupId"] == first["BackupId"]
    clock.advance(emu.token_window_seconds)  # type: ignore[arg-type]
    second = client.copy_backup(SourceBackupId=source, ClientRequestToken="c-w")["Backup"]
    assert second["BackupId"] != first["BackupId"] and second["Lifecycle"] == "COPYING"
