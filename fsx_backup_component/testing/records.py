"""API-shaped records of the emulator's world: FileSystem and Volume structures (botocore's shapes),
tag lists, and the snake_case options that seed files and ``FsxEmulator.add_*`` accept."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

__all__ = ["Account", "apply_file_system_options", "build_file_system", "build_volume", "deep_merge", "tag_list"]

Json = dict[str, Any]

CONFIG_KEY = {
    "LUSTRE": "LustreConfiguration",
    "WINDOWS": "WindowsConfiguration",
    "ONTAP": "OntapConfiguration",
    "OPENZFS": "OpenZFSConfiguration",
}
# Snake-case conveniences accepted by add_file_system/update_file_system besides CamelCase members.
_FS_OPTIONS = frozenset(
    {
        "lifecycle", "deployment_type", "file_system_type_version", "import_path", "export_path",
        "tags", "storage_capacity", "copy_tags_to_backups", "automatic_backup_retention_days",
        "active_directory_id", "domain_name", "storage_type", "kms_key_id",
    }
)


class Account(Protocol):
    """What a record needs from the account that owns it (the emulator is one)."""

    account_id: str

    def clock(self) -> float: ...

    def arn(self, region: str, resource: str) -> str: ...

    def default_kms_key(self, region: str) -> str: ...


def tag_list(tags: Mapping[str, str] | Iterable[Mapping[str, str]] | None) -> list[Json]:
    """Accept {"k": "v"} or [{"Key": k, "Value": v}] and return the API list form."""
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return [{"Key": t["Key"], "Value": t["Value"]} for t in tags]


def deep_merge(target: Json, changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _hex(digits: int) -> str:
    return uuid.uuid4().hex[:digits]


def build_file_system(
    account: Account,
    fs_type: str,
    fs_id: str,
    region: str,
    *,
    deployment_type: str,
    import_path: str | None,
    export_path: str | None,
    lifecycle: str,
    tags: list[Json],
    storage_capacity: int,
    file_system_type_version: str,
    extra: Mapping[str, Any],
) -> tuple[Json, Json | None]:
    """A FileSystem structure (botocore shape) and, for OpenZFS, its root volume."""
    fs: Json = {
        "OwnerId": account.account_id,
        "CreationTime": account.clock(),
        "FileSystemId": fs_id,
        "FileSystemType": fs_type,
        "Lifecycle": lifecycle,
        "StorageCapacity": storage_capacity,
        "StorageType": "SSD",
        "VpcId": f"vpc-{_hex(17)}",
        "SubnetIds": [f"subnet-{_hex(17)}"],
        "NetworkInterfaceIds": [f"eni-{_hex(17)}"],
        "DNSName": f"{fs_id}.fsx.{region}.amazonaws.com",
        "KmsKeyId": account.default_kms_key(region),
        "ResourceARN": account.arn(region, f"file-system/{fs_id}"),
        "Tags": tags,
    }
    root_volume = None
    if fs_type == "LUSTRE":
        fs["FileSystemTypeVersion"] = file_system_type_version
        fs["LustreConfiguration"] = _lustre_configuration(deployment_type)
    elif fs_type == "WINDOWS":
        fs["WindowsConfiguration"] = _windows_configuration(deployment_type)
        fs["_DomainName"] = "corp.example.com"
    elif fs_type == "ONTAP":
        fs["OntapConfiguration"] = {
            "DeploymentType": deployment_type,
            "AutomaticBackupRetentionDays": 30,
            "DailyAutomaticBackupStartTime": "05:00",
            "ThroughputCapacity": 128,
            "WeeklyMaintenanceStartTime": "1:05:00",
        }
        fs["_SvmId"] = f"svm-{_hex(17)}"
    else:  # OPENZFS: every file system has a root volume (§9 RootVolumeId)
        root_volume = _openzfs_root_volume(account, fs_id, region)
        fs["OpenZFSConfiguration"] = {
            "DeploymentType": deployment_type,
            "AutomaticBackupRetentionDays": 0,
            "CopyTagsToBackups": False,
            "CopyTagsToVolumes": False,
            "ThroughputCapacity": 64,
            "RootVolumeId": root_volume["VolumeId"],
        }
    options = dict(extra)
    if import_path is not None:
        options["import_path"] = import_path
    if export_path is not None:
        options["export_path"] = export_path
    apply_file_system_options(fs, options)
    return fs, root_volume


def _lustre_configuration(deployment_type: str) -> Json:
    config: Json = {
        "WeeklyMaintenanceStartTime": "1:05:00",
        "DeploymentType": deployment_type,
        "MountName": _hex(8),
        "AutomaticBackupRetentionDays": 0,
        "CopyTagsToBackups": False,
        "DataCompressionType": "NONE",
    }
    if deployment_type.startswith("PERSISTENT"):
        config["PerUnitStorageThroughput"] = 125 if deployment_type == "PERSISTENT_2" else 200
    return config


def _windows_configuration(deployment_type: str) -> Json:
    config: Json = {
        "ActiveDirectoryId": f"d-{_hex(10)}",
        "DeploymentType": deployment_type,
        "ThroughputCapacity": 32,
        "WeeklyMaintenanceStartTime": "1:05:00",
        "DailyAutomaticBackupStartTime": "05:00",
        "AutomaticBackupRetentionDays": 7,
        "CopyTagsToBackups": False,
    }
    if deployment_type == "MULTI_AZ_1":
        config["PreferredSubnetId"] = f"subnet-{_hex(17)}"
    return config


def _openzfs_root_volume(account: Account, fs_id: str, region: str) -> Json:
    vol_id = f"fsvol-{_hex(17)}"
    return {
        "CreationTime": account.clock(),
        "FileSystemId": fs_id,
        "Lifecycle": "AVAILABLE",
        "Name": "fsx",
        "ResourceARN": account.arn(region, f"volume/{fs_id}/{vol_id}"),
        "Tags": [],
        "VolumeId": vol_id,
        "VolumeType": "OPENZFS",
        "OpenZFSConfiguration": {"VolumePath": "/fsx", "DataCompressionType": "NONE", "ReadOnly": False},
    }


def apply_file_system_options(fs: Json, options: Mapping[str, Any]) -> None:
    """Apply snake_case conveniences and CamelCase FileSystem members to ``fs`` in place."""
    fs_type = fs["FileSystemType"]
    config = fs[CONFIG_KEY[fs_type]]
    for key, value in options.items():
        if key[:1].isupper():
            deep_merge(fs, {key: value})
        elif key not in _FS_OPTIONS:
            raise TypeError(f"unknown file system option {key!r}")
        elif key == "lifecycle":
            fs["Lifecycle"] = value
        elif key == "deployment_type":
            config["DeploymentType"] = value
        elif key == "file_system_type_version":
            if fs_type == "LUSTRE":
                fs["FileSystemTypeVersion"] = value
        elif key in ("import_path", "export_path"):
            _set_repository_path(fs, key, value)
        elif key == "tags":
            fs["Tags"] = tag_list(value)
        elif key == "storage_capacity":
            fs["StorageCapacity"] = int(value)
        elif key == "storage_type":
            fs["StorageType"] = value
        elif key == "kms_key_id":
            fs["KmsKeyId"] = value
        elif key == "copy_tags_to_backups":
            if fs_type == "ONTAP":  # the model has the flag on ONTAP volumes, not file systems
                raise ValueError("ONTAP: set copy_tags_to_backups on the volume (add_volume)")
            config["CopyTagsToBackups"] = bool(value)
        elif key == "automatic_backup_retention_days":
            config["AutomaticBackupRetentionDays"] = int(value)
        elif key == "active_directory_id":
            config["ActiveDirectoryId"] = value
        elif key == "domain_name":
            fs["_DomainName"] = value


def _set_repository_path(fs: Json, key: str, value: str | None) -> None:
    """DataRepositoryConfiguration appears only while an import/export path is set (§9)."""
    if fs["FileSystemType"] != "LUSTRE":
        raise ValueError("import/export paths exist on Lustre file systems only")
    config = fs["LustreConfiguration"]
    repository = config.setdefault(
        "DataRepositoryConfiguration",
        {"Lifecycle": "AVAILABLE", "ImportedFileChunkSize": 1024, "AutoImportPolicy": "NONE"},
    )
    field = "ImportPath" if key == "import_path" else "ExportPath"
    if value is None:
        repository.pop(field, None)
    else:
        repository[field] = value
    if "ImportPath" not in repository and "ExportPath" not in repository:
        del config["DataRepositoryConfiguration"]


def build_volume(
    account: Account,
    fs: Json,
    region: str,
    volume_id: str,
    *,
    name: str,
    ontap_volume_type: str,
    flexcache_endpoint_type: str,
    volume_style: str,
    lifecycle: str,
    tags: list[Json],
    extra: Mapping[str, Any],
) -> Json:
    """A Volume structure (botocore shape): ONTAP with OntapConfiguration, or an OpenZFS child."""
    fs_id = fs["FileSystemId"]
    volume: Json = {
        "CreationTime": account.clock(),
        "FileSystemId": fs_id,
        "Lifecycle": lifecycle,
        "Name": name,
        "ResourceARN": account.arn(region, f"volume/{fs_id}/{volume_id}"),
        "Tags": tags,
        "VolumeId": volume_id,
    }
    options = dict(extra)
    if fs["FileSystemType"] == "ONTAP":
        volume["VolumeType"] = "ONTAP"
        volume["OntapConfiguration"] = {
            "FlexCacheEndpointType": flexcache_endpoint_type,
            "JunctionPath": f"/{name}",
            "SecurityStyle": "UNIX",
            "SizeInMegabytes": int(options.pop("size_in_megabytes", 1024)),
            "StorageEfficiencyEnabled": True,
            "StorageVirtualMachineId": options.pop("storage_virtual_machine_id", fs["_SvmId"]),
            "StorageVirtualMachineRoot": bool(options.pop("storage_virtual_machine_root", False)),
            "UUID": str(uuid.uuid4()),
            "OntapVolumeType": ontap_volume_type,
            "SnapshotPolicy": "default",
            "CopyTagsToBackups": bool(options.pop("copy_tags_to_backups", False)),
            "VolumeStyle": volume_style,
        }
    elif fs["FileSystemType"] == "OPENZFS":
        volume["VolumeType"] = "OPENZFS"
        volume["OpenZFSConfiguration"] = {
            "ParentVolumeId": fs["OpenZFSConfiguration"]["RootVolumeId"],
            "VolumePath": f"/fsx/{name}",
            "DataCompressionType": "NONE",
            "ReadOnly": False,
        }
    else:
        raise ValueError(f"{fs['FileSystemType']} file systems have no volumes")
    for key, value in options.items():
        if not key[:1].isupper():
            raise TypeError(f"unknown volume option {key!r}")
        volume[key] = copy.deepcopy(value)
    return volume
