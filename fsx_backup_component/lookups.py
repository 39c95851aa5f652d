"""Target look-ups, coalesced per client (``watcher.Coalescer``): for preview checks, FSx descriptions
of file systems and volumes turned into the facts eligibility.py judges (cached briefly); for
creates, the listing of a target's backups that finds this generation's token tag and the target's
tags FSx would copy to the backup (both never cached)."""

from __future__ import annotations

import functools
import time
from typing import Any, Callable, Mapping, Optional

from . import fsx
from .eligibility import FileSystemFacts, VolumeFacts
from .watcher import Coalescer, WaitFn, condition_wait

# How long a create waits for others to share its listing of backups (one DescribeBackups per 20
# targets). Creates of a large stack arrive over a second or two; a quarter second gathers dozens of
# them per listing, and is nothing next to a backup that takes minutes.
LISTING_WINDOW = 0.25
# How long a create waits for others to share its description of the target (when FSx's tag copying
# must be read). The creates that shared a listing are released by it together: a few milliseconds apart.
DESCRIBE_WINDOW = 0.05


class TargetLookups:
    """Facts about file systems and volumes, shared by all concurrent check() calls of a region, and
    the backups of targets, shared by all concurrent creates."""

    def __init__(
        self,
        client: Any,
        *,
        clock: Callable[[], float] = time.monotonic,
        wait: WaitFn = condition_wait,
        listing_window: Optional[float] = None,
    ) -> None:
        self._file_systems: Coalescer[Optional[fsx.FileSystem]] = Coalescer(
            functools.partial(fsx.describe_file_systems, client), clock=clock, wait=wait
        )
        self._volumes: Coalescer[Optional[fsx.Volume]] = Coalescer(
            functools.partial(fsx.describe_volumes, client), clock=clock, wait=wait
        )
        self._associations: Coalescer[int] = Coalescer(
            functools.partial(fsx.count_data_repository_associations, client), clock=clock, wait=wait
        )
        # For creates: descriptions no older than the create asking (ttl 0), one DescribeVolumes /
        # DescribeFileSystems per 50 targets of the creates released together by a shared listing,
        # instead of one each (a burst FSx would throttle).
        self._client = client
        self._current = {
            name: Coalescer[Optional[dict[str, Any]]](describe, window=DESCRIBE_WINDOW, ttl=0.0, clock=clock, wait=wait)
            for name, describe in (
                ("volume", functools.partial(fsx.describe_volumes, client)),
                ("file system", functools.partial(fsx.describe_file_systems, client)),
            )
        }
        self._listings = {
            name: Coalescer[list[fsx.Backup]](
                functools.partial(fsx.list_user_backups_of, client, filter_name=name),
                window=LISTING_WINDOW if listing_window is None else listing_window,
                ttl=0.0,
                clock=clock,
                wait=wait,
            )
            for name in ("volume-id", "file-system-id")
        }

    def user_backups(self, *, file_system_id: Optional[str], volume_id: Optional[str]) -> list[fsx.Backup]:
        """The target's live user-initiated backups now (``fsx.list_user_backups``), listed together
        with the targets of the creates that ask within ``listing_window``: one DescribeBackups per
        20 targets instead of one per create."""
        if volume_id:
            return self._listings["volume-id"].get(volume_id)
        return self._listings["file-system-id"].get(file_system_id or "")

    def tags_copied_to_backups(self, *, file_system_id: Optional[str], volume_id: Optional[str]) -> dict[str, str]:
        """``fsx.tags_copied_to_backups``, the target described now, in one call with the targets of
        the creates that ask at the same moment."""
        current = self._current["volume" if volume_id else "file system"]
        return fsx.tags_copied_to_backups(
            self._client, file_system_id=file_system_id, volume_id=volume_id, describe=current.get
        )

    def file_system(self, file_system_id: str) -> Optional[FileSystemFacts]:
        """The facts of one file system, ``None`` if it does not exist in this region."""
        fs = self._file_systems.get(file_system_id)
        if fs is None:
            return None
        lustre = fs.get("LustreConfiguration") or {}
        repo = lustre.get("DataRepositoryConfiguration") or {}
        fs_type = fs.get("FileSystemType")
        associations = self._associations.get(file_system_id) if fs_type == "LUSTRE" else 0
        deployment = (
            lustre.get("DeploymentType")
            or (fs.get("WindowsConfiguration") or {}).get("DeploymentType")
            or (fs.get("OntapConfiguration") or {}).get("DeploymentType")
            or (fs.get("OpenZFSConfiguration") or {}).get("DeploymentType")
        )
        return FileSystemFacts(
            file_system_id=file_system_id,
            file_system_type=fs_type,
            deployment_type=deployment,
            import_path=repo.get("ImportPath"),
            export_path=repo.get("ExportPath"),
            data_repository_association_count=associations,
            lifecycle=fs.get("Lifecycle"),
        )

    def volume(self, volume_id: str) -> Optional[VolumeFacts]:
        """The facts of one volume, ``None`` if it does not exist in this region."""
        volume = self._volumes.get(volume_id)
        if volume is None:
            return None
        return volume_facts(volume)


def volume_facts(volume: Mapping[str, Any]) -> VolumeFacts:
    """The eligibility facts of a volume's FSx description (DescribeVolumes)."""
    ontap = volume.get("OntapConfiguration") or {}
    return VolumeFacts(
        volume_id=volume.get("VolumeId"),
        volume_type=volume.get("VolumeType"),
        ontap_volume_type=ontap.get("OntapVolumeType"),
        flexcache_endpoint_type=ontap.get("FlexCacheEndpointType"),
        lifecycle=volume.get("Lifecycle"),
        name=volume.get("Name"),
        svm_root=ontap.get("StorageVirtualMachineRoot"),
    )
