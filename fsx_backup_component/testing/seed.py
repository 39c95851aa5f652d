"""API-shaped file system / volume records and the seed file format (docs/emulator.md).

Seed file (JSON; YAML too when PyYAML happens to be importable)::

    {
      "backup_seconds": 5, "copy_seconds": 5, "backup_quota": 500,
      "page_size": 3, "token_window_seconds": 300, "order_seed": 0,
      "file_systems": [
        {"type": "LUSTRE", "id": "fs-0123456789abcdef0", "deployment_type": "PERSISTENT_2",
         "region": "us-east-1", "tags": {"Name": "scratch"}, "copy_tags_to_backups": true,
         "data_repository_associations": [{"data_repository_path": "s3://b/p", "file_system_path": "/ns1"}]},
        {"type": "ONTAP", "volumes": [{"name": "vol1", "ontap_volume_type": "RW"}]}
      ]
    }
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .emulator import FsxEmulator

__all__ = ["load_seed", "apply_seed", "build_file_system", "build_volume", "apply_file_system_options"]

Json = dict[str, Any]

_CONFIG_KEY = {
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


def _hex(digits: int) -> str:
    return uuid.uuid4().hex[:digits]


def load_seed(source: str | Path | Mapping[str, Any]) -> Json:
    """Read a seed from a mapping, a JSON file or (if PyYAML is importable) a YAML file."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # optional: never a dependency of the package
        except ImportError as exc:
            raise RuntimeError("YAML seed files need PyYAML; use JSON instead") from exc
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed must be a mapping at the top level")
    return data


def apply_seed(emulator: FsxEmulator, source: str | Path | Mapping[str, Any]) -> None:
    """Apply settings and create the seeded resources; their IDs go to ``emulator.seeded_ids``."""
    seed = load_seed(source)
    for key in ("backup_seconds", "copy_seconds"):
        if key in seed:
            setattr(emulator, key, float(seed[key]))
    if "backup_quota" in seed:
        emulator.backup_quota = int(seed["backup_quota"])
    if "page_size" in seed:
        emulator.page_size = None if seed["page_size"] is None else int(seed["page_size"])
    if "token_window_seconds" in seed:
        window = seed["token_window_seconds"]
        emulator.token_window_seconds = None if window is None else float(window)
    if "order_seed" in seed:
        emulator.order_seed = None if seed["order_seed"] is None else int(seed["order_seed"])
    if "account_id" in seed:
        emulator.account_id = str(seed["account_id"])
    for entry in seed.get("file_systems") or []:
        _seed_file_system(emulator, dict(entry))


def _seed_file_system(emulator: FsxEmulator, entry: Json) -> None:
    volumes = entry.pop("volumes", None) or []
    associations = entry.pop("data_repository_associations", None) or []
    backup_seconds = entry.pop("backup_seconds", None)
    fs_type = entry.pop("type", None) or entry.pop("file_system_type")
    fs_id = emulator.add_file_system(fs_type, file_system_id=entry.pop("id", None), **entry)
    emulator.seeded_ids["file_systems"].append(fs_id)
    if backup_seconds is not None:
        emulator.set_backup_seconds(float(backup_seconds), file_system_id=fs_id)
    for volume in volumes:
        volume = dict(volume)
        vol_id = emulator.add_volume(fs_id, volume_id=volume.pop("id", None), **volume)
        emulator.seeded_ids["volumes"].append(vol_id)
    for dra in associations:
        dra = dict(dra)
        dra_id = emulator.add_data_repository_association(
            fs_id, association_id=dra.pop("id", None), **dra
        )
        emulator.seeded_ids["associations"].append(dra_id)


# --- API-shaped records -------------------------------------------------------------------------


def build_file_system(
    emulator: FsxEmulator,
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
        "OwnerId": emulator.account_id,
        "CreationTime": emulator.clock(),
        "FileSystemId": fs_id,
        "FileSystemType": fs_type,
        "Lifecycle": lifecycle,
        "StorageCapacity": storage_capacity,
        "StorageType": "SSD",
        "VpcId": f"vpc-{_hex(17)}",
        "SubnetIds": [f"subnet-{_hex(17)}"],
        "NetworkInterfaceIds": [f"eni-{_hex(17)}"],
        "DNSName": f"{fs_id}.fsx.{region}.amazonaws.com",
        "KmsKeyId": emulator._default_kms_key(region),
        "ResourceARN": emulator._arn(region, f"file-system/{fs_id}"),
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
        root_volume = _openzfs_root_volume(emulator, fs_id, region)
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
    apply_file_system_options(emulator, fs, region, options)
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


def _openzfs_root_volume(emulator: FsxEmulator, fs_id: str, region: str) -> Json:
    vol_id = f"fsvol-{_hex(17)}"
    return {
        "CreationTime": emulator.clock(),
        "FileSystemId": fs_id,
        "Lifecycle": "AVAILABLE",
        "Name": "fsx",
        "ResourceARN": emulator._arn(region, f"volume/{fs_id}/{vol_id}"),
        "Tags": [],
        "VolumeId": vol_id,
        "VolumeType": "OPENZFS",
        "OpenZFSConfiguration": {"VolumePath": "/fsx", "DataCompressionType": "NONE", "ReadOnly": False},
    }


def apply_file_system_options(
    emulator: FsxEmulator, fs: Json, region: str, options: Mapping[str, Any]
) -> None:
    """Apply snake_case conveniences and CamelCase FileSystem members to ``fs`` in place."""
    from .emulator import _deep_merge, _tag_list

    fs_type = fs["FileSystemType"]
    config = fs[_CONFIG_KEY[fs_type]]
    for key, value in options.items():
        if key[:1].isupper():
            _deep_merge(fs, {key: value})
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
            fs["Tags"] = _tag_list(value)
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
    emulator: FsxEmulator,
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
        "CreationTime": emulator.clock(),
        "FileSystemId": fs_id,
        "Lifecycle": lifecycle,
        "Name": name,
        "ResourceARN": emulator._arn(region, f"volume/{fs_id}/{volume_id}"),
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
