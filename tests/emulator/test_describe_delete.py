"""DescribeBackups (§4) and DeleteBackup (§5)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import BACKUP_SECONDS, COPY_SECONDS, error_of

from fsx_backup_component.testing import FsxEmulator, ManualClock
from fsx_backup_component.testing.validation import pattern_matches, service_model

NEXT_TOKEN_PATTERN = service_model().shape_for("NextToken").metadata["pattern"]


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
    pages = []
    params: dict[str, Any] = {"MaxResults": 2}
    while True:
        page = client.describe_backups(**params)
        pages.append([b["BackupId"] for b in page["Backups"]])
        if "NextToken" not in page:
            break
        token = page["NextToken"]
        assert "BackupId" not in token and "backup-" not in token  # opaque (base64)
        assert pattern_matches(NEXT_TOKEN_PATTERN, token) and len(token) <= 255  # the model's NextToken
        params["NextToken"] = token
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert sorted(i for p in pages for i in p) == sorted(ids)  # every backup exactly once


def test_page_size_bounds_every_page_and_the_cap_is_50(emu: FsxEmulator, client: Any) -> None:
    ids = _make_backups(emu, client, 60)
    assert emu.page_size == 3
    first = client.describe_backups(MaxResults=50)
    assert len(first["Backups"]) == 3 and first["NextToken"]  # min(MaxResults, page_size)
    assert len(client.describe_backups()["Backups"]) == 3
    emu.page_size = None  # only the model's cap
    page = client.describe_backups(MaxResults=1000)
    assert len(page["Backups"]) == 50 and page["NextToken"]
    emu.page_size = 7
    collected = [
        b["BackupId"] for p in client.get_paginator("describe_backups").paginate() for b in p["Backups"]
    ]
    assert sorted(collected) == sorted(ids)


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


def test_filter_on_an_unknown_file_system_or_volume_is_not_found(
    emu: FsxEmulator, client: Any, clock: ManualClock
) -> None:
    """DescribeBackups lists FileSystemNotFound / VolumeNotFound in the model: a filter naming a file
    system or volume that does not exist (here, now) answers them, even when backups of it remain."""
    fs_id = emu.add_file_system("WINDOWS")
    vol = emu.add_volume(emu.add_file_system("ONTAP"))
    kept = client.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    client.create_backup(VolumeId=vol)
    missing_fs, missing_vol = "fs-0123456789abcdef0", "fsvol-0123456789abcdef0"
    error = _describe_error(client, Filters=[{"Name": "file-system-id", "Values": [fs_id, missing_fs]}])
    assert (error["Code"], missing_fs in error["Message"]) == ("FileSystemNotFound", True)
    error = _describe_error(client, Filters=[{"Name": "volume-id", "Values": [missing_vol]}])
    assert (error["Code"], missing_vol in error["Message"]) == ("VolumeNotFound", True)
    by_volume = client.describe_backups(Filters=[{"Name": "volume-id", "Values": [vol]}])["Backups"]
    assert [b["Volume"]["VolumeId"] for b in by_volume] == [vol]
    clock.advance(BACKUP_SECONDS)
    emu.delete_file_system(fs_id)  # the user-initiated backup survives ...
    assert client.describe_backups(BackupIds=[kept])["Backups"][0]["BackupId"] == kept
    # ... but a filter on its (now unknown) file system fails
    assert _describe_error(client, Filters=[{"Name": "file-system-id", "Values": [fs_id]}])["Code"] == (
        "FileSystemNotFound"
    )


def test_delete_token_is_forgotten_after_the_window(emu: FsxEmulator, client: Any, clock: ManualClock) -> None:
    """Within the token window a repeated DeleteBackup succeeds; after it the request is new, and the
    backup it names is gone: BackupNotFound."""
    backup_id = _make_backups(emu, client, 1)[0]
    client.delete_backup(BackupId=backup_id, ClientRequestToken="del-w")
    clock.advance(emu.token_window_seconds - 1)  # type: ignore[operator]
    assert client.delete_backup(BackupId=backup_id, ClientRequestToken="del-w")["Lifecycle"] == "DELETED"
    clock.advance(1)
    assert _delete_error(client, BackupId=backup_id, ClientRequestToken="del-w")["Code"] == "BackupNotFound"
