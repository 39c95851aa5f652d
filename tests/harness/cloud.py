"""The harness's stand-in for every provider other than the dynamic one (pulumi_aws, ...).

The engine harness plays those providers in memory: create returns an ID and the inputs as outputs.
A *cloud* decides what that means. ``InMemoryCloud`` invents IDs; ``EmulatorCloud`` makes
``pulumi_aws.fsx`` file systems, ONTAP SVMs/volumes and data repository associations really exist in
the FSx emulator (with the emulator's IDs), so an FsxBackup of a file system created in the same
program backs up something the emulator knows, and a file system update (e.g. a Lustre version
upgrade) reaches the emulator in the order the engine applied it.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Protocol

from fsx_backup_component.connection import arn_region

# Properties the real providers replace on (ForceNew). Only what the tests rely on; a program can
# add its own with `replace_on_changes`, which the harness honours like the engine.
REPLACE_ON_CHANGE: dict[str, frozenset[str]] = {
    "aws:fsx/lustreFileSystem:LustreFileSystem": frozenset(
        {"deploymentType", "subnetIds", "importPath", "exportPath", "kmsKeyId", "storageType"}
    ),
    "aws:fsx/windowsFileSystem:WindowsFileSystem": frozenset(
        {"deploymentType", "subnetIds", "activeDirectoryId", "kmsKeyId", "storageType"}
    ),
    "aws:fsx/openZfsFileSystem:OpenZfsFileSystem": frozenset({"deploymentType", "subnetIds", "kmsKeyId"}),
    "aws:fsx/ontapFileSystem:OntapFileSystem": frozenset({"deploymentType", "subnetIds", "kmsKeyId"}),
    "aws:fsx/ontapVolume:OntapVolume": frozenset({"storageVirtualMachineId", "volumeStyle"}),
    "aws:fsx/ontapStorageVirtualMachine:OntapStorageVirtualMachine": frozenset({"fileSystemId", "name"}),
    "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation": frozenset(
        {"fileSystemId", "fileSystemPath", "dataRepositoryPath"}
    ),
}


@dataclass
class CloudResource:
    """What the harness tells a cloud about a resource (inputs use the wire names, camelCase)."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    region: Optional[str] = None  # pulumi-aws v7: the resource's region (own input, else its provider's)


class Cloud(Protocol):
    def create(self, resource: CloudResource) -> tuple[str, dict[str, Any]]: ...

    def update(self, resource: CloudResource, changed: list[str]) -> dict[str, Any]: ...

    def delete(self, resource: CloudResource) -> None: ...

    def read(self, resource: CloudResource) -> Optional[dict[str, Any]]: ...

    def read_external(
        self, type_: str, id_: str, inputs: dict[str, Any], *, region: Optional[str] = None
    ) -> Optional[dict[str, Any]]:
        """``X.get(name, id)``: the live outputs of a resource the stack does not manage, or None
        when there is no such resource (in ``region``, when given: the reading provider's)."""
        ...

    def replace_keys(self, type_: str) -> frozenset[str]: ...


class InMemoryCloud:
    """Every resource exists as soon as it is created: ID = ``<name>-<n>``, outputs = inputs + id."""

    def __init__(self, region: str = "us-east-1", account_id: str = "123456789012") -> None:
        self.region = region
        self.account_id = account_id
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new_id(self, resource: CloudResource) -> str:
        with self._lock:
            return f"{resource.name}-{next(self._counter):04d}"

    def outputs_for(self, resource: CloudResource, id_: str) -> dict[str, Any]:
        outputs = dict(resource.inputs)
        outputs["id"] = id_
        if resource.type.startswith("aws:"):
            module = resource.type.split(":")[1].split("/")[0]
            region = resource.region or self.region
            outputs.setdefault("arn", f"arn:aws:{module}:{region}:{self.account_id}:{id_}")
            outputs.setdefault("region", region)  # pulumi-aws v7: every resource reports its region
        return outputs

    def create(self, resource: CloudResource) -> tuple[str, dict[str, Any]]:
        id_ = self.new_id(resource)
        return id_, self.outputs_for(resource, id_)

    def update(self, resource: CloudResource, changed: list[str]) -> dict[str, Any]:
        outputs = dict(resource.outputs)
        outputs.update(resource.inputs)
        for key in set(resource.outputs) - set(resource.inputs) - {"id", "arn"}:
            if key in changed:
                outputs.pop(key, None)  # an input the program no longer sets
        return outputs

    def delete(self, resource: CloudResource) -> None:
        return None

    def read(self, resource: CloudResource) -> Optional[dict[str, Any]]:
        return dict(resource.outputs)

    def read_external(
        self, type_: str, id_: str, inputs: dict[str, Any], *, region: Optional[str] = None
    ) -> Optional[dict[str, Any]]:
        # Knows nothing it did not create: the given properties are the resource's outputs.
        return {**inputs, "id": id_}

    def replace_keys(self, type_: str) -> frozenset[str]:
        return REPLACE_ON_CHANGE.get(type_, frozenset())


_FILE_SYSTEM_TYPES = {
    "aws:fsx/lustreFileSystem:LustreFileSystem": "LUSTRE",
    "aws:fsx/windowsFileSystem:WindowsFileSystem": "WINDOWS",
    "aws:fsx/openZfsFileSystem:OpenZfsFileSystem": "OPENZFS",
    "aws:fsx/ontapFileSystem:OntapFileSystem": "ONTAP",
}
# pulumi_aws input (wire name) -> FsxEmulator.add_file_system / update_file_system keyword.
_FS_OPTIONS = {
    "deploymentType": "deployment_type",
    "importPath": "import_path",
    "exportPath": "export_path",
    "fileSystemTypeVersion": "file_system_type_version",
    "storageCapacity": "storage_capacity",
    "tags": "tags",
    "copyTagsToBackups": "copy_tags_to_backups",
    "automaticBackupRetentionDays": "automatic_backup_retention_days",
    "storageType": "storage_type",
    "kmsKeyId": "kms_key_id",
}
_UPDATABLE_FS_OPTIONS = {
    "fileSystemTypeVersion", "storageCapacity", "tags", "copyTagsToBackups", "automaticBackupRetentionDays",
}


def _known(value: Any) -> bool:
    from pulumi.output import Unknown

    return value is not None and not isinstance(value, Unknown)


class EmulatorCloud(InMemoryCloud):
    """pulumi_aws FSx resources become real emulator resources (see module docstring)."""

    def __init__(self, emulator: Any, region: str = "us-east-1") -> None:
        super().__init__(region=region, account_id=getattr(emulator, "account_id", "123456789012"))
        self.emulator = emulator
        self._svm_file_system: dict[str, str] = {}

    def create(self, resource: CloudResource) -> tuple[str, dict[str, Any]]:
        inputs = resource.inputs
        fs_type = _FILE_SYSTEM_TYPES.get(resource.type)
        if fs_type is not None:
            options = {kw: inputs[k] for k, kw in _FS_OPTIONS.items() if _known(inputs.get(k))}
            if fs_type == "LUSTRE" and "file_system_type_version" in options:
                options["file_system_type_version"] = str(options["file_system_type_version"])
            else:
                options.pop("file_system_type_version", None)
            if "storage_capacity" in options:
                options["storage_capacity"] = int(options["storage_capacity"])
            fs_id = self.emulator.add_file_system(fs_type, region=resource.region or self.region, **options)
            return fs_id, self.outputs_for(resource, fs_id)
        if resource.type == "aws:fsx/ontapStorageVirtualMachine:OntapStorageVirtualMachine":
            svm_id = "svm-" + uuid.uuid4().hex[:17]
            self._svm_file_system[svm_id] = str(inputs.get("fileSystemId"))
            return svm_id, self.outputs_for(resource, svm_id)
        if resource.type == "aws:fsx/ontapVolume:OntapVolume":
            fs_id = self._svm_file_system.get(str(inputs.get("storageVirtualMachineId")))
            if fs_id is None:
                raise ValueError(
                    f"{resource.urn}: storageVirtualMachineId {inputs.get('storageVirtualMachineId')!r} "
                    "is not an OntapStorageVirtualMachine created in this program"
                )
            volume_id = self.emulator.add_volume(
                fs_id,
                name=str(inputs.get("name") or resource.name),
                ontap_volume_type=str(inputs.get("ontapVolumeType") or "RW"),
            )
            outputs = self.outputs_for(resource, volume_id)
            outputs["fileSystemId"] = fs_id
            return volume_id, outputs
        if resource.type == "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation":
            dra_id = self.emulator.add_data_repository_association(
                str(inputs["fileSystemId"]),
                data_repository_path=str(inputs.get("dataRepositoryPath") or "s3://bucket/prefix"),
                file_system_path=str(inputs.get("fileSystemPath") or "/ns1"),
            )
            return dra_id, self.outputs_for(resource, dra_id)
        return super().create(resource)

    def update(self, resource: CloudResource, changed: list[str]) -> dict[str, Any]:
        if resource.type in _FILE_SYSTEM_TYPES:
            changes = {
                _FS_OPTIONS[k]: resource.inputs.get(k)
                for k in changed
                if k in _FS_OPTIONS and k in _UPDATABLE_FS_OPTIONS
            }
            if "file_system_type_version" in changes:
                changes["file_system_type_version"] = str(changes["file_system_type_version"])
            if changes:
                self.emulator.update_file_system(resource.id, **changes)
        return super().update(resource, changed)

    def delete(self, resource: CloudResource) -> None:
        if resource.type in _FILE_SYSTEM_TYPES:
            try:
                self.emulator.delete_file_system(resource.id)
            except KeyError:
                pass  # deleted out of band: a delete of something gone succeeds
        self._svm_file_system.pop(resource.id, None)

    def read(self, resource: CloudResource) -> Optional[dict[str, Any]]:
        if resource.type in _FILE_SYSTEM_TYPES:
            live = {b: fs for b in [resource.id] for fs in self._describe_file_system(b)}
            if not live:
                return None
        return dict(resource.outputs)

    def read_external(
        self, type_: str, id_: str, inputs: dict[str, Any], *, region: Optional[str] = None
    ) -> Optional[dict[str, Any]]:
        """A file system or ONTAP volume read from the emulator (pulumi_aws output names); None when
        the emulator has no such thing in the reading provider's region (the engine then fails the
        read, as pulumi-aws does for a resource of another region)."""
        where = region or self.region
        if type_ in _FILE_SYSTEM_TYPES:
            found = self._describe_file_system(id_)
            if not found or found[0].get("FileSystemType") != _FILE_SYSTEM_TYPES[type_]:
                return None
            if arn_region(found[0].get("ResourceARN")) != where:
                return None
            return _file_system_outputs(found[0])
        if type_ == "aws:fsx/ontapVolume:OntapVolume":
            volume = self._find_volume(id_)
            if volume is None or arn_region(volume.get("ResourceARN")) != where:
                return None
            ontap = volume.get("OntapConfiguration") or {}
            return {
                "id": id_, "arn": volume.get("ResourceARN"), "name": volume.get("Name"),
                "fileSystemId": volume.get("FileSystemId"), "volumeType": volume.get("VolumeType"),
                "storageVirtualMachineId": ontap.get("StorageVirtualMachineId"),
                "ontapVolumeType": ontap.get("OntapVolumeType"), "junctionPath": ontap.get("JunctionPath"),
                "sizeInMegabytes": ontap.get("SizeInMegabytes"), "tags": _tag_map(volume.get("Tags")),
                "region": arn_region(volume.get("ResourceARN")),
            }
        return super().read_external(type_, id_, inputs, region=region)

    def _find_volume(self, volume_id: str) -> Optional[Mapping[str, Any]]:
        for state in getattr(self.emulator, "_regions", {}).values():  # test-side peek, no API call
            volume = getattr(state, "volumes", {}).get(volume_id)
            if volume is not None:
                return volume  # type: ignore[no-any-return]
        return None

    def _describe_file_system(self, fs_id: str) -> list[Mapping[str, Any]]:
        try:
            _, fs = self.emulator._find_fs(fs_id)  # test-side peek, no API call counted
        except KeyError:
            return []
        return [fs]


def _tag_map(tags: Any) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def _file_system_outputs(fs: Mapping[str, Any]) -> dict[str, Any]:
    """An emulator FileSystem (API shape) as pulumi_aws's FSx file system outputs."""
    config: Mapping[str, Any] = {}
    for key in ("LustreConfiguration", "WindowsConfiguration", "OntapConfiguration", "OpenZFSConfiguration"):
        if fs.get(key):
            config = fs[key]
    repository = config.get("DataRepositoryConfiguration") or {}
    outputs = {
        "id": fs.get("FileSystemId"), "arn": fs.get("ResourceARN"), "dnsName": fs.get("DNSName"),
        "ownerId": fs.get("OwnerId"), "vpcId": fs.get("VpcId"), "subnetIds": list(fs.get("SubnetIds") or []),
        "storageCapacity": fs.get("StorageCapacity"), "storageType": fs.get("StorageType"),
        "kmsKeyId": fs.get("KmsKeyId"), "tags": _tag_map(fs.get("Tags")), "tagsAll": _tag_map(fs.get("Tags")),
        "fileSystemTypeVersion": fs.get("FileSystemTypeVersion"), "deploymentType": config.get("DeploymentType"),
        "automaticBackupRetentionDays": config.get("AutomaticBackupRetentionDays"),
        "copyTagsToBackups": config.get("CopyTagsToBackups"),
        "importPath": repository.get("ImportPath"), "exportPath": repository.get("ExportPath"),
        "region": arn_region(fs.get("ResourceARN")),
    }
    if fs.get("FileSystemType") == "LUSTRE":
        outputs["subnetIds"] = (fs.get("SubnetIds") or [None])[0]  # a string in pulumi_aws's Lustre schema
    return {k: v for k, v in outputs.items() if v is not None}
