"""DescribeFileSystems / DescribeVolumes / DescribeDataRepositoryAssociations (§9) and tagging."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import all_ids, all_pages, error_of

from fsx_backup_component.testing import FsxEmulator


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call(**params)
    return error_of(excinfo)


def test_file_systems_are_api_shaped_per_type(emu: FsxEmulator, client: Any) -> None:
    lustre = emu.add_file_system("LUSTRE", import_path="s3://b/in", deployment_type="PERSISTENT_1",
                                 tags={"Name": "l"})
    windows = emu.add_file_system("WINDOWS", deployment_type="MULTI_AZ_1")
    ontap = emu.add_file_system("ONTAP")
    zfs = emu.add_file_system("OPENZFS")
    fss = {f["FileSystemId"]: f for f in all_pages(client.describe_file_systems, "FileSystems")}
    assert set(fss) == {lustre, windows, ontap, zfs}
    assert fss[lustre]["FileSystemTypeVersion"] == "2.15"
    assert fss[lustre]["LustreConfiguration"]["DataRepositoryConfiguration"]["ImportPath"] == "s3://b/in"
    assert fss[lustre]["Tags"] == [{"Key": "Name", "Value": "l"}]
    assert fss[windows]["WindowsConfiguration"]["ActiveDirectoryId"].startswith("d-")
    assert fss[ontap]["OntapConfiguration"]["DeploymentType"] == "SINGLE_AZ_1"
    assert fss[zfs]["OpenZFSConfiguration"]["RootVolumeId"].startswith("fsvol-")
    assert all(len(i) == len("fs-") + 17 for i in fss)
    assert "DataRepositoryConfiguration" not in client.describe_file_systems(
        FileSystemIds=[emu.add_file_system("LUSTRE")]
    )["FileSystems"][0]["LustreConfiguration"]


def test_update_file_system_changes_what_describe_returns(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("LUSTRE", export_path="s3://b/out")
    emu.update_file_system(fs_id, lifecycle="UPDATING", file_system_type_version="2.12", export_path=None)
    fs = client.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]
    assert (fs["Lifecycle"], fs["FileSystemTypeVersion"]) == ("UPDATING", "2.12")
    assert "DataRepositoryConfiguration" not in fs["LustreConfiguration"]


def test_describe_file_systems_not_found_and_pagination(emu: FsxEmulator, client: Any) -> None:
    ids = [emu.add_file_system("WINDOWS") for _ in range(5)]
    error = _error(client.describe_file_systems, FileSystemIds=[ids[0], "fs-0123456789abcdef0"])
    assert error["Code"] == "FileSystemNotFound"
    pages = list(client.get_paginator("describe_file_systems").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["FileSystems"]) for p in pages] == [2, 2, 1]
    assert sorted(f["FileSystemId"] for p in pages for f in p["FileSystems"]) == sorted(ids)


def test_describe_volumes_filters_ids_and_not_found(emu: FsxEmulator, client: Any) -> None:
    fs_a, fs_b = emu.add_file_system("ONTAP"), emu.add_file_system("ONTAP")
    va1, va2 = emu.add_volume(fs_a, name="a1"), emu.add_volume(fs_a, name="a2")
    vb = emu.add_volume(fs_b, name="b", storage_virtual_machine_id="svm-0123456789abcdef0")
    by_fs = client.describe_volumes(Filters=[{"Name": "file-system-id", "Values": [fs_a]}])["Volumes"]
    assert sorted(v["VolumeId"] for v in by_fs) == sorted([va1, va2])
    by_svm = client.describe_volumes(
        Filters=[{"Name": "storage-virtual-machine-id", "Values": ["svm-0123456789abcdef0"]}]
    )["Volumes"]
    assert [v["VolumeId"] for v in by_svm] == [vb]
    volume = client.describe_volumes(VolumeIds=[va2])["Volumes"][0]
    assert volume["VolumeType"] == "ONTAP"
    assert volume["ResourceARN"] == f"arn:aws:fsx:us-east-1:123456789012:volume/{fs_a}/{va2}"
    assert volume["OntapConfiguration"]["OntapVolumeType"] == "RW"
    assert _error(client.describe_volumes, VolumeIds=["fsvol-0123456789abcdef0"])["Code"] == "VolumeNotFound"
    page = client.describe_volumes(MaxResults=2)
    assert len(page["Volumes"]) == 2 and page["NextToken"]


def test_describe_data_repository_associations(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("LUSTRE")
    other = emu.add_file_system("LUSTRE")
    dras = [emu.add_data_repository_association(fs_id, file_system_path=f"/ns{i}") for i in range(3)]
    emu.add_data_repository_association(other)
    listed = client.describe_data_repository_associations(
        Filters=[{"Name": "file-system-id", "Values": [fs_id]}], MaxResults=2
    )
    rest = client.describe_data_repository_associations(
        Filters=[{"Name": "file-system-id", "Values": [fs_id]}], MaxResults=2, NextToken=listed["NextToken"]
    )
    assert sorted(a["AssociationId"] for a in listed["Associations"] + rest["Associations"]) == sorted(dras)
    assert "NextToken" not in rest
    assert listed["Associations"][0]["DataRepositoryPath"] == "s3://bucket/prefix"
    one = client.describe_data_repository_associations(AssociationIds=[dras[1]])["Associations"]
    assert one[0]["FileSystemPath"] == "/ns1"
    error = _error(client.describe_data_repository_associations, AssociationIds=["dra-0123456789abcdef0"])
    assert error["Code"] == "DataRepositoryAssociationNotFound"


def test_dra_max_results_above_25_is_bad_request(emu: FsxEmulator, client: Any) -> None:
    assert _error(client.describe_data_repository_associations, MaxResults=26)["Code"] == "BadRequest"


def test_tag_untag_list_on_backup_file_system_and_volume(emu: FsxEmulator, client: Any) -> None:
    ontap = emu.add_file_system("ONTAP")
    vol = emu.add_volume(ontap)
    backup = client.create_backup(VolumeId=vol)["Backup"]
    fs_arn = all_pages(client.describe_file_systems, "FileSystems")[0]["ResourceARN"]
    vol_arn = client.describe_volumes(VolumeIds=[vol])["Volumes"][0]["ResourceARN"]
    for arn in (backup["ResourceARN"], fs_arn, vol_arn):
        client.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        client.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "new"}])
        client.untag_resource(ResourceARN=arn, TagKeys=["b"])
        assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "a", "Value": "new"}]
    described = client.describe_backups(BackupIds=[backup["BackupId"]])["Backups"][0]
    assert described["Tags"] == [{"Key": "a", "Value": "new"}]
    client.untag_resource(ResourceARN=backup["ResourceARN"], TagKeys=["a"])
    assert "Tags" not in client.describe_backups(BackupIds=[backup["BackupId"]])["Backups"][0]


def test_tag_limit_and_unknown_resources(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("WINDOWS", tags={f"k{i}": "v" for i in range(49)})
    arn = f"arn:aws:fsx:us-east-1:123456789012:file-system/{fs_id}"
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": "k0", "Value": "overwrite-is-fine"}])
    assert _error(client.tag_resource, ResourceARN=arn, Tags=[
        {"Key": "x", "Value": "1"}, {"Key": "y", "Value": "2"}
    ])["Code"] == "BadRequest"
    missing = "arn:aws:fsx:us-east-1:123456789012:backup/backup-0123456789abcdef0"
    error = _error(client.list_tags_for_resource, ResourceARN=missing)
    assert (error["Code"], error["ResourceARN"]) == ("ResourceNotFound", missing)
    foreign = "arn:aws:fsx:us-east-1:123456789012:bucket/thing"
    assert _error(client.tag_resource, ResourceARN=foreign, Tags=[{"Key": "a", "Value": "b"}])[
        "Code"
    ] == "NotServiceResourceError"


def test_list_tags_pagination(emu: FsxEmulator, client: Any) -> None:
    fs_id = emu.add_file_system("WINDOWS", tags={f"k{i}": "v" for i in range(5)})
    arn = f"arn:aws:fsx:us-east-1:123456789012:file-system/{fs_id}"
    first = client.list_tags_for_resource(ResourceARN=arn, MaxResults=3)
    second = client.list_tags_for_resource(ResourceARN=arn, MaxResults=3, NextToken=first["NextToken"])
    assert sorted(t["Key"] for t in first["Tags"] + second["Tags"]) == [f"k{i}" for i in range(5)]
    assert "NextToken" not in second
    # default page size (3) applies to tags as well
    assert len(all_pages(client.list_tags_for_resource, "Tags", ResourceARN=arn)) == 5
    assert len(client.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 3


def test_dra_filter_on_an_unknown_file_system_is_not_found(emu: FsxEmulator, client: Any) -> None:
    """DescribeDataRepositoryAssociations lists FileSystemNotFound in the model: same rule as the
    DescribeBackups filters."""
    fs_id = emu.add_file_system("LUSTRE")
    dra = emu.add_data_repository_association(fs_id)
    flt = [{"Name": "file-system-id", "Values": [fs_id]}]
    assert all_ids(client.describe_data_repository_associations, "Associations", "AssociationId", Filters=flt) == [dra]
    flt[0]["Values"] = ["fs-0123456789abcdef0"]
    assert _error(client.describe_data_repository_associations, Filters=flt)["Code"] == "FileSystemNotFound"
