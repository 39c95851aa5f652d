"""Every response shape against botocore's output shapes. The `checker` fixture (conftest) already
does this for all tests; here every operation and error is exercised on purpose, and the checker
itself is shown to catch drift."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsx_backup_component.testing import FsxEmulator, ManualClock
from fsx_backup_component.testing.validation import check_output, service_model

IMPLEMENTED = {
    "CreateBackup", "DescribeBackups", "DeleteBackup", "CopyBackup", "DescribeFileSystems",
    "DescribeVolumes", "DescribeDataRepositoryAssociations", "TagResource", "UntagResource",
    "ListTagsForResource",
}


def test_check_output_catches_drift() -> None:
    backup_shape = service_model().shape_for("Backup")
    problems = check_output(
        backup_shape,
        {"BackupId": "backup-0123456789abcdef0", "Lifecycle": "DONE", "Type": "USER_INITIATED",
         "CreationTime": "yesterday", "FileSystem": {}, "Extra": 1, "ProgressPercent": True},
    )
    joined = "\n".join(problems)
    assert "Backup.Extra: member not in model" in joined
    assert "'DONE' not in enum" in joined
    assert "CreationTime: expected number" in joined
    assert "ProgressPercent: expected integer" in joined


def test_every_operation_and_type_conforms(
    emu: FsxEmulator, make_client: Any, clock: ManualClock, checker: Any
) -> None:
    client, west = make_client(), make_client("us-west-2")
    fs = {t: emu.add_file_system(t, tags={"Name": t.lower()}) for t in ("LUSTRE", "WINDOWS", "ONTAP", "OPENZFS")}
    for fs_type in ("LUSTRE", "WINDOWS", "OPENZFS"):
        emu.update_file_system(fs[fs_type], copy_tags_to_backups=True)
    emu.add_file_system("LUSTRE", import_path="s3://b/p", export_path="s3://b/q", deployment_type="PERSISTENT_1")
    emu.add_data_repository_association(fs["LUSTRE"])
    emu.add_data_repository_association(emu.add_file_system("LUSTRE"))
    vol = emu.add_volume(fs["ONTAP"], tags={"v": "1"}, copy_tags_to_backups=True)
    emu.fail_next_backup("x", file_system_id=fs["WINDOWS"])
    backups = [
        client.create_backup(FileSystemId=fs["WINDOWS"])["Backup"]["BackupId"],
        client.create_backup(FileSystemId=fs["OPENZFS"])["Backup"]["BackupId"],
        client.create_backup(VolumeId=vol)["Backup"]["BackupId"],
    ]
    emu.update_file_system(fs["LUSTRE"], lifecycle="AVAILABLE")
    emu.delete_file_system(emu.add_file_system("LUSTRE"))
    client.describe_backups()
    clock.advance(60)
    client.describe_backups()
    west.copy_backup(SourceBackupId=backups[1], SourceRegion="us-east-1", CopyTags=True)
    client.describe_file_systems()
    client.describe_volumes()
    client.describe_data_repository_associations()
    arn = client.describe_backups(BackupIds=[backups[2]])["Backups"][0]["ResourceARN"]
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": "t", "Value": "v"}])
    client.list_tags_for_resource(ResourceARN=arn)
    client.untag_resource(ResourceARN=arn, TagKeys=["t"])
    client.delete_backup(BackupId=backups[0])
    for call in (
        lambda: client.create_backup(FileSystemId=fs["ONTAP"]),
        lambda: client.delete_backup(BackupId="backup-0123456789abcdef0"),
        lambda: client.copy_backup(SourceBackupId=backups[1], SourceRegion="cn-north-1"),
        lambda: client.list_tags_for_resource(ResourceARN="arn:aws:fsx:us-east-1:123456789012:x/y"),
    ):
        with pytest.raises(ClientError):
            call()
    assert {name for name, _ in checker.seen} == IMPLEMENTED
    assert {status for _, status in checker.seen} == {200, 400}
    # The fixture asserts checker.problems == [] at teardown; check here too for a clear failure.
    assert checker.problems == []
