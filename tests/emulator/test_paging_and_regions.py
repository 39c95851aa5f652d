"""Short pages on every Describe*, ID look-ups included, in no promised order; resources scoped to one
region (docs/emulator.md: "Paging, every list", §4, §9, and "Why each harsh default")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import BACKUP_SECONDS, all_ids, error_of

from fsx_backup_component.testing import FsxEmulator, ManualClock

# operation -> (ID parameter, result key, ID key, NotFound code, maker of `count` resources -> IDs)
Maker = Callable[[FsxEmulator, Any, int], list[str]]


def _file_systems(emu: FsxEmulator, client: Any, count: int) -> list[str]:
    return [emu.add_file_system("WINDOWS") for _ in range(count)]


def _volumes(emu: FsxEmulator, client: Any, count: int) -> list[str]:
    fs_id = emu.add_file_system("ONTAP")
    return [emu.add_volume(fs_id, name=f"v{i}") for i in range(count)]


def _associations(emu: FsxEmulator, client: Any, count: int) -> list[str]:
    fs_id = emu.add_file_system("LUSTRE")
    return [emu.add_data_repository_association(fs_id, file_system_path=f"/ns{i}") for i in range(count)]


def _backups(emu: FsxEmulator, client: Any, count: int) -> list[str]:
    emu.set_backup_seconds(0)
    return [client.create_backup(FileSystemId=f)["Backup"]["BackupId"] for f in _file_systems(emu, client, count)]


LOOKUPS: dict[str, tuple[str, str, str, str, str, Maker]] = {
    "describe_file_systems": (
        "FileSystemIds", "FileSystems", "FileSystemId", "FileSystemNotFound", "fs-0123456789abcdef0", _file_systems
    ),
    "describe_volumes": ("VolumeIds", "Volumes", "VolumeId", "VolumeNotFound", "fsvol-0123456789abcdef0", _volumes),
    "describe_data_repository_associations": (
        "AssociationIds", "Associations", "AssociationId", "DataRepositoryAssociationNotFound",
        "dra-0123456789abcdef0", _associations,
    ),
    "describe_backups": ("BackupIds", "Backups", "BackupId", "BackupNotFound", "backup-0123456789abcdef0", _backups),
}


@pytest.mark.parametrize("operation", sorted(LOOKUPS))
def test_look_up_by_ids_answers_in_short_pages(emu: FsxEmulator, client: Any, operation: str) -> None:
    """Nothing exempts ID look-ups from paging: 8 IDs come back 3 per page (the default page size)
    with a NextToken; only following it to the end yields every one, exactly once."""
    ids_param, result_key, id_key, not_found, missing, make = LOOKUPS[operation]
    ids = make(emu, client, 8)
    call = getattr(client, operation)
    first = call(**{ids_param: ids})
    assert len(first[result_key]) == 3 and first["NextToken"]
    pages = [first]
    while "NextToken" in pages[-1]:
        pages.append(call(**{ids_param: ids, "NextToken": pages[-1]["NextToken"]}))
    assert [len(p[result_key]) for p in pages] == [3, 3, 2]
    seen = [item[id_key] for p in pages for item in p[result_key]]
    assert sorted(seen) == sorted(ids)
    # MaxResults below the page size wins; a page never exceeds the page size
    assert len(call(**{ids_param: ids, "MaxResults": 2})[result_key]) == 2
    assert len(call(**{ids_param: ids, "MaxResults": 5})[result_key]) == 3
    # An ID that does not exist still fails the whole call, whichever page it would be on
    with pytest.raises(ClientError) as excinfo:
        call(**{ids_param: [*ids, missing]})
    assert error_of(excinfo)["Code"] == not_found


def test_page_size_is_a_constructor_argument(clock: ManualClock) -> None:
    with FsxEmulator(clock=clock, page_size=50) as emu:
        client = boto3.client("fsx", region_name="us-east-1", endpoint_url=emu.endpoint_url,
                              aws_access_key_id="k", aws_secret_access_key="s")
        ids = [emu.add_file_system("WINDOWS") for _ in range(8)]
        page = client.describe_file_systems(FileSystemIds=ids)
        assert len(page["FileSystems"]) == 8 and "NextToken" not in page
        emu.page_size = 5
        assert len(client.describe_file_systems(FileSystemIds=ids)["FileSystems"]) == 5


def _listing(client: Any) -> list[str]:
    return all_ids(client.describe_file_systems, "FileSystems", "FileSystemId")


def test_no_promised_order(emu: FsxEmulator, client: Any) -> None:
    """Each listing comes in its own order (neither creation order nor ID order), yet holds every
    item once; the order is reproducible from order_seed."""
    ids = [emu.add_file_system("WINDOWS", file_system_id=f"fs-{i:017x}") for i in range(12)]
    orders = [_listing(client) for _ in range(4)]
    assert all(sorted(order) == ids for order in orders)
    assert all(order != ids for order in orders)
    assert len({tuple(order) for order in orders}) > 1  # not even the same order twice
    emu.order_seed = 99
    again = [_listing(client) for _ in range(4)]
    emu.order_seed = 99
    assert [_listing(client) for _ in range(4)] == again
    assert emu.order_seed == 99


def test_paging_is_stable_under_concurrent_inserts_and_deletes(emu: FsxEmulator, client: Any) -> None:
    """Keyset paging: between pages, file systems are created and deleted; every file system that
    exists throughout the listing is returned exactly once, and none is returned twice."""
    ids = [emu.add_file_system("WINDOWS") for _ in range(15)]
    seen: list[str] = []
    deleted: set[str] = set()
    page = client.describe_file_systems(MaxResults=3)
    while True:
        seen += [f["FileSystemId"] for f in page["FileSystems"]]
        emu.add_file_system("WINDOWS")
        unseen = [i for i in ids if i not in seen and i not in deleted]
        if unseen:
            emu.delete_file_system(unseen[-1])
            deleted.add(unseen[-1])
        if "NextToken" not in page:
            break
        page = client.describe_file_systems(MaxResults=3, NextToken=page["NextToken"])
    assert len(seen) == len(set(seen))
    assert set(ids) - deleted <= set(seen)
    assert not (deleted & set(seen[-3:]))


def test_next_token_is_bound_to_its_operation(emu: FsxEmulator, client: Any) -> None:
    for i in range(4):
        emu.add_volume(emu.add_file_system("ONTAP"), name=f"v{i}")
    token = client.describe_file_systems()["NextToken"]
    with pytest.raises(ClientError) as excinfo:
        client.describe_volumes(NextToken=token)
    assert error_of(excinfo)["Code"] == "BadRequest"


# --- one region per resource ----------------------------------------------------------------------


def test_resources_exist_in_one_region_only(emu: FsxEmulator, make_client: Any, clock: ManualClock) -> None:
    """A file system, its volumes, DRAs and backups live in the region they were made in; requests
    signed for another region do not see them."""
    west, east = make_client("eu-west-1"), make_client("us-east-1")
    lustre = emu.add_file_system("LUSTRE", region="eu-west-1")
    dra = emu.add_data_repository_association(emu.add_file_system("LUSTRE", region="eu-west-1"))
    ontap = emu.add_file_system("ONTAP", region="eu-west-1")
    vol = emu.add_volume(ontap)
    backup = west.create_backup(FileSystemId=lustre)["Backup"]
    clock.advance(BACKUP_SECONDS)

    def code(call: Any, **params: Any) -> str:
        with pytest.raises(ClientError) as excinfo:
            call(**params)
        return str(error_of(excinfo)["Code"])

    assert code(east.describe_file_systems, FileSystemIds=[lustre]) == "FileSystemNotFound"
    assert code(east.create_backup, FileSystemId=lustre) == "FileSystemNotFound"
    assert code(east.create_backup, VolumeId=vol) == "VolumeNotFound"
    assert code(east.describe_volumes, VolumeIds=[vol]) == "VolumeNotFound"
    assert code(east.describe_data_repository_associations, AssociationIds=[dra]) == (
        "DataRepositoryAssociationNotFound"
    )
    assert code(east.describe_backups, BackupIds=[backup["BackupId"]]) == "BackupNotFound"
    assert code(east.delete_backup, BackupId=backup["BackupId"]) == "BackupNotFound"
    assert code(east.describe_backups, Filters=[{"Name": "file-system-id", "Values": [lustre]}]) == (
        "FileSystemNotFound"
    )
    assert code(east.list_tags_for_resource, ResourceARN=backup["ResourceARN"]) == "ResourceNotFound"
    assert all_ids(east.describe_file_systems, "FileSystems", "FileSystemId") == []
    assert all_ids(east.describe_backups, "Backups", "BackupId") == []
    assert all_ids(east.describe_volumes, "Volumes", "VolumeId") == []
    # ... and in their own region they are all there
    west_fs = all_ids(west.describe_file_systems, "FileSystems", "FileSystemId")
    assert len(west_fs) == 3 and {lustre, ontap} <= set(west_fs)
    assert all_ids(west.describe_volumes, "Volumes", "VolumeId", VolumeIds=[vol]) == [vol]
    assert west.describe_backups(BackupIds=[backup["BackupId"]])["Backups"][0]["Lifecycle"] == "AVAILABLE"
    assert west.delete_backup(BackupId=backup["BackupId"])["Lifecycle"] == "DELETED"


def test_an_id_cannot_exist_in_two_regions(emu: FsxEmulator) -> None:
    emu.add_file_system("ONTAP", file_system_id="fs-0123456789abcdef0", region="us-east-1")
    with pytest.raises(ValueError, match="already exists"):
        emu.add_file_system("WINDOWS", file_system_id="fs-0123456789abcdef0", region="eu-west-1")
    emu.add_volume("fs-0123456789abcdef0", volume_id="fsvol-0123456789abcdef0")
    other = emu.add_file_system("ONTAP", region="eu-west-1")
    with pytest.raises(ValueError, match="already exists"):
        emu.add_volume(other, volume_id="fsvol-0123456789abcdef0")
