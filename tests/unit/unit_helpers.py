"""Builders of model-valid FSx responses, and fake time, shared by the unit tests."""

from __future__ import annotations

import datetime
import threading
from typing import Any, Optional

FS_ID = "fs-0123456789abcdef0"
FS_ID_2 = "fs-0123456789abcdef1"
VOL_ID = "fsvol-0123456789abcdef0"
URN = "urn:pulumi:dev::proj::fsx-backup:index:FsxBackup$pulumi-python:dynamic/fsx-backup:Backup::b"
CREATED = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def backup_id(n: int) -> str:
    return f"backup-{n:017x}"


def make_backup(
    bid: str = "backup-0123456789abcdef0",
    lifecycle: str = "CREATING",
    *,
    file_system_id: Optional[str] = FS_ID,
    file_system_type: str = "LUSTRE",
    volume_id: Optional[str] = None,
    tags: Optional[dict[str, str]] = None,
    percent: Optional[int] = None,
    failure: Optional[str] = None,
) -> dict[str, Any]:
    """A Backup structure with every required member (Stubber validates responses)."""
    backup: dict[str, Any] = {
        "BackupId": bid,
        "Lifecycle": lifecycle,
        "Type": "USER_INITIATED",
        "CreationTime": CREATED,
        "FileSystem": {"FileSystemId": file_system_id or FS_ID, "FileSystemType": file_system_type},
        "ResourceARN": f"arn:aws:fsx:us-east-1:123456789012:backup/{bid}",
        "ResourceType": "VOLUME" if volume_id else "FILE_SYSTEM",
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
    }
    if volume_id:
        backup["Volume"] = {"VolumeId": volume_id, "FileSystemId": file_system_id or FS_ID}
    if tags is not None:
        backup["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    if percent is not None:
        backup["ProgressPercent"] = percent
    if failure is not None:
        backup["FailureDetails"] = {"Message": failure}
    return backup


def make_file_system(
    fs_id: str = FS_ID,
    fs_type: str = "LUSTRE",
    *,
    deployment: Optional[str] = "PERSISTENT_2",
    lifecycle: str = "AVAILABLE",
    import_path: Optional[str] = None,
    export_path: Optional[str] = None,
) -> dict[str, Any]:
    fs: dict[str, Any] = {"FileSystemId": fs_id, "FileSystemType": fs_type, "Lifecycle": lifecycle}
    config_key = {
        "LUSTRE": "LustreConfiguration",
        "WINDOWS": "WindowsConfiguration",
        "ONTAP": "OntapConfiguration",
        "OPENZFS": "OpenZFSConfiguration",
    }[fs_type]
    config: dict[str, Any] = {}
    if deployment is not None:
        config["DeploymentType"] = deployment
    if fs_type == "LUSTRE" and (import_path or export_path):
        repo: dict[str, Any] = {}
        if import_path:
            repo["ImportPath"] = import_path
        if export_path:
            repo["ExportPath"] = export_path
        config["DataRepositoryConfiguration"] = repo
    fs[config_key] = config
    return fs


def make_volume(
    vol_id: str = VOL_ID,
    *,
    volume_type: str = "ONTAP",
    ontap_type: str = "RW",
    flexcache: str = "NONE",
    lifecycle: str = "CREATED",
) -> dict[str, Any]:
    volume: dict[str, Any] = {
        "VolumeId": vol_id,
        "FileSystemId": FS_ID,
        "VolumeType": volume_type,
        "Lifecycle": lifecycle,
    }
    if volume_type == "ONTAP":
        volume["OntapConfiguration"] = {"OntapVolumeType": ontap_type, "FlexCacheEndpointType": flexcache}
    return volume


def make_dra(n: int, fs_id: str = FS_ID) -> dict[str, Any]:
    return {"AssociationId": f"dra-{n:017x}", "FileSystemId": fs_id, "Lifecycle": "AVAILABLE"}


def outs_of(result: Any) -> dict[str, Any]:
    """A provider result's outputs (CreateResult, ReadResult, UpdateResult): the SDK types allow None;
    the providers here always set them."""
    outs = result.outs
    assert isinstance(outs, dict), outs
    return outs


class FakeClock:
    """Monotonic time that only moves when told to; ``sleep`` advances it and records the pause."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"negative sleep {seconds}"
        self.sleeps.append(seconds)
        self.advance(seconds)

    def condition_wait(self, _condition: threading.Condition, seconds: float) -> None:
        """A ``WaitFn`` for BackupWatcher / Coalescer: single-threaded, time jumps instead of passing.

        Like a real wait it returns a hair *after* the time asked for: the waiters compare float
        differences (``now - oldest >= window``), and ``1000.0 + 0.05 - 1000.0 < 0.05``, so a clock that
        lands exactly on the requested time would spin forever on sub-ulp waits.
        """
        assert seconds >= 0, f"negative wait {seconds}"
        self.sleeps.append(seconds)
        self.advance(seconds + 1e-9)


def fast_settings() -> Any:
    """Hypothesis settings of the unit suite: enough examples to find edge cases, whole run < 30 s."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
