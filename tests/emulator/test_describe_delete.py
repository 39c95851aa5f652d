"""DescribeBackups (§4) and DeleteBackup (§5)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import BACKUP_SECONDS, COPY_SECONDS, error_of

from fsx_backup_component.testing import FsxEmulator, ManualClock


def _make_backups(emu: FsxEmulator, client: Any, count: int, fs_type: str = "WINDOWS") -> list[str]:
    emu.set_backup_seconds(0)
    fs_id = emu.add_file_system(fs_type)
    return [client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"] for _ in range(count)]


def _describe_error(client: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        client.describe_backups(**params)
    return error_of(excinfo)


def test_pagination_with_max_results_and_opaque_token(emu: FsxEmulator, client: Any) -> None:
    ids = _make_backups(emu, client, 7)
    first = client.describe_backups(MaxResults=3)
    assert [b["BackupId"] for b in first["Backups"]] == ids[:3]
    token = first["NextToken"]
    assert "after" not in token  # opaque (base64)
    second = client.describe_backups(MaxResults=3, NextToken=token)
    third = client.describe_backups(MaxResults=3, NextToken=second["NextToken"])
    assert [b["BackupId"] for b in second["Backups"] + third["Backups"]] == ids[3:]
    assert "NextToken" not in third


def test_page_cap_is_50_and_the_paginator_sees_everything(emu: FsxEmulator, client: Any) -> None:
    ids = _make_backups(emu, client, 60)
    page = client.describe_backups(MaxResults=1000)
    assert len(page["Backups"]) == 50 and page["NextToken"]
    assert len(client.describe_backups()["Backups"]) == 50
    collected = [
        b["BackupId"] for p in client.get_paginator("describe_backups").paginate() for b in p["Backups"]
    ]
    assert collected == ids


def test_invalid_next_token_is_bad_request(emu: FsxEmulator, client: Any) -> None:
    assert _describe_error(client, NextToken="Zm9vYmFy")["Code"] == "BadRequest"  # base64("foobar")


def test_backup_ids_and_not_found(emu: FsxEmulator, client: Any) -> None:
    ids = _make_backups(emu, client, 3)
    found = client.describe_backups(BackupIds=[ids[2], ids[0]])["Backups"]
    assert {b["BackupId"] for b in found} == {ids[0], ids[2]}
    error = _describe_error(client, BackupIds=[ids[0], "backup-0123456789abcdef0"])
    assert error["Code"] == "BackupNotFound" and "backup-0123456789abcdef0" in error["Message"]


def test_backup_ids_override_filters(emu: FsxEmulator, client: Any) -> None:
    ids = _make_backups(emu, client, 2)
    result = client.describe_backups(
        BackupIds=[ids[0]], Filters=[{"Name": "file-system-type", "Values": ["LUSTRE"]}]
    )
    assert [b["BackupId"] for b in result["Backups"]] == [ids[0]]


def test_filters_and_across_or_within(emu: FsxEmulator, client: Any) -> None:
    emu.set_backup_seconds(0)
    lustre = emu.add_file_system("LUSTRE")
    windows = emu.add_file_system("WINDOWS")
    ontap = emu.add_file_system("ONTAP")
    vol = emu.add_volume(ontap)
    b_lustre = client.create_backup(FileSystemId=lustre)["Backup"]["BackupId"]
    b_windows = client.create_backup(FileSystemId=windows)["Backup"]["BackupId"]
    b_vol = client.create_backup(VolumeId=vol)["Backup"]["BackupId"]
    auto = emu.start_automatic_backup(lustre)

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        flt = [{"Name": name, "Values": values} for name, values in filters]
        return {b["BackupId"] for b in client.describe_backups(Filters=flt)["Backups"]}

    assert ids(("file-system-id", [lustre])) == {b_lustre, auto}
    assert ids(("file-system-id", [lustre, windows])) == {b_lustre, b_windows, auto}
    assert ids(("file-system-id", [lustre]), ("backup-type", ["USER_INITIATED"])) == {b_lustre}
    assert ids(("file-system-type", ["ONTAP"])) == {b_vol}
    assert ids(("volume-id", [vol])) == {b_vol}
    assert ids(("file-system-type", ["WINDOWS"]), ("file-system-id", [lustre])) == set()
    assert _describe_error(client, Filters=[{"Name": "file-cache-id", "Values": ["x"]}])["Code"] == "BadRequest"


def test_deleted_backups_vanish(emu: FsxEmulator, client: Any) -> None:
    ids = _make_backups(emu, client, 3)
    response = client.delete_backup(BackupId=ids[1])
    assert (response["BackupId"], response["Lifecycle"]) == (ids[1], "DELETED")
    emu.delete_backup_out_of_band(ids[2])
    assert [b["BackupId"] for b in client.describe_backups()["Backups"]] == [ids[0]]
    assert _describe_error(client, BackupIds=[ids[1]])["Code"] == "BackupNotFound"
    assert _describe_error(client, BackupIds=[ids[2]])["Code"] == "BackupNotFound"
    assert {b["Lifecycle"] for b in emu.backups(include_deleted=True)} == {"AVAILABLE", "DELETED"}


def _delete_error(client: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        client.delete_backup(**params)
    return error_of(excinfo)


def test_delete_not_found_and_twice(emu: FsxEmulator, client: Any) -> None:
    assert _delete_error(client, BackupId="backup-0123456789abcdef0")["Code"] == "BackupNotFound"
    backup_id = _make_backups(emu, client, 1)[0]
    client.delete_backup(BackupId=backup_id)
    assert _delete_error(client, BackupId=backup_id)["Code"] == "BackupNotFound"


def test_delete_token_idempotency(emu: FsxEmulator, client: Any) -> None:
    first, second = _make_backups(emu, client, 2)
    client.delete_backup(BackupId=first, ClientRequestToken="del-1")
    again = client.delete_backup(BackupId=first, ClientRequestToken="del-1")
    assert again["Lifecycle"] == "DELETED"
    error = _delete_error(client, BackupId=second, ClientRequestToken="del-1")
    assert (error["Code"], error["Parameter"]) == ("IncompatibleParameterError", "BackupId")


def test_delete_in_progress_backup_is_refused(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    fs_id = emu.add_file_system("LUSTRE")
    backup_id = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    for fraction in (0.05, 0.5, 0.9):  # PENDING, CREATING, TRANSFERRING
        clock.advance(fraction * BACKUP_SECONDS - (clock() - 1_800_000_000.0))
        assert _delete_error(client, BackupId=backup_id)["Code"] == "BackupInProgress"
    clock.advance(BACKUP_SECONDS)
    assert client.delete_backup(BackupId=backup_id)["Lifecycle"] == "DELETED"


def test_delete_source_of_copy_in_progress_is_refused(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    source = _make_backups(emu, client, 1)[0]
    client.copy_backup(SourceBackupId=source)
    error = _delete_error(client, BackupId=source)
    assert (error["Code"], error["BackupId"]) == ("BackupBeingCopied", source)
    clock.advance(COPY_SECONDS)
    assert client.delete_backup(BackupId=source)["Lifecycle"] == "DELETED"


def test_failed_backup_can_be_deleted(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    emu.fail_next_backup()
    backup_id = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    clock.advance(BACKUP_SECONDS)
    assert client.delete_backup(BackupId=backup_id)["Lifecycle"] == "DELETED"
