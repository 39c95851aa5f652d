"""The stored state of an ``FsxBackup``'s child resource: its one typed definition, the typed request
read from the engine's props, and the state projected from FSx descriptions. No AWS call.

The Python dynamic-provider host hands diff/update/delete the OLD OUTPUTS, not the old inputs, and
create() never sees the URN: so the component sends the URN as ``resource_urn`` and every input is
echoed among the outputs under its own name (docs/design.md, "What the engine hands the provider").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final, Mapping, Optional, TypedDict

from . import records
from .connection import AwsSettings, settings_from_input
from .eligibility import DEFAULT_TIMEOUT_SECONDS
from .token import generation_key

# Inputs the component sends (and that are echoed among the outputs).
RESOURCE_URN: Final = "resource_urn"
TARGET_FILE_SYSTEM_ID: Final = "target_file_system_id"
TARGET_VOLUME_ID: Final = "target_volume_id"
TARGET_FACTS: Final = "target_facts"
TAGS: Final = "tags"
TRIGGERS: Final = "triggers"
TIMEOUT_SECONDS: Final = "timeout_seconds"
REGION: Final = "region"
COPY_TO_REGIONS: Final = "copy_to_regions"
COPY_TAGS: Final = "copy_tags"
LIFE: Final = "life"
DELETE_SUPERSEDED: Final = "delete_superseded"
AWS: Final = "aws"  # the AWS provider settings to act with (connection.py); no secret
KEEP_LAST: Final = "keep_last"  # None: only the current backup (no rotation)
ROTATION: Final = "rotation"  # the nonce of the resource's rotation (life.py): kept across lives

INPUT_KEYS = (
    RESOURCE_URN, TARGET_FILE_SYSTEM_ID, TARGET_VOLUME_ID, TARGET_FACTS, TAGS, TRIGGERS, TIMEOUT_SECONDS, REGION,
    COPY_TO_REGIONS, COPY_TAGS, LIFE, DELETE_SUPERSEDED, AWS, KEEP_LAST, ROTATION,
)

# Outputs that are not inputs.
BACKUP_ID: Final = "backup_id"
LIFECYCLE: Final = "lifecycle"
RESOLVED_REGION: Final = "resolved_region"
COPIES: Final = "copies"
# The tags the user asked for last time; `tags` among outputs is what AWS reports (drift shows).
MANAGED_TAGS: Final = "managed_tags"
# With keep_last: the older backups of the rotation still kept, newest first (the current one not included).
KEPT_BACKUPS: Final = "kept_backups"
# Kept from the state a read() refreshes: nothing in AWS says what they were.
KEPT_BY_READ = ("client_request_token", "token_attempt", MANAGED_TAGS, KEPT_BACKUPS)


class Inputs(TypedDict, total=False):
    """Inputs of the dynamic resource, as component.py builds them (echoed among the outputs)."""

    resource_urn: str  # the child resource's URN: create() is never told it
    target_file_system_id: Optional[str]
    target_volume_id: Optional[str]
    target_facts: Optional[dict[str, Any]]  # facts of a target resource still being created (preview)
    tags: Optional[dict[str, str]]  # as an output: the backup's tags as AWS reports them
    triggers: Any
    timeout_seconds: float
    region: Optional[str]
    copy_to_regions: Optional[list[Any]]  # region names, or {"region", "kms_key_id"} maps
    copy_tags: bool
    life: Optional[str]  # the nonce of this life (life.py); None in states older than lives
    delete_superseded: bool
    aws: Optional[dict[str, Any]]  # region/profile/shared files/assume_roles (connection.py)
    keep_last: Optional[int]
    rotation: Optional[str]


class Destination(TypedDict):
    """One entry of `copy_to_regions`, normalised."""

    region: Any  # a region name once known
    kms_key_id: Optional[str]


class CopyState(TypedDict):
    """One cross-region copy, as stored under `copies`."""

    region: str
    requested_kms_key_id: Optional[str]  # what the user asked for (None: the destination's default)
    backup_id: str
    backup_arn: Optional[str]
    lifecycle: str
    kms_key_id: Optional[str]  # what AWS used


class BackupState(Inputs, total=False):
    """Outputs stored in state: the inputs, plus what FSx reported (kept small: no FS snapshot)."""

    backup_id: str  # the current backup (the resource ID names the first one: see backup_id_of)
    backup_arn: Optional[str]
    lifecycle: str
    file_system_id: Optional[str]
    volume_id: Optional[str]
    file_system_type: Optional[str]
    resource_type: Optional[str]
    creation_time: Optional[str]
    kms_key_id: Optional[str]
    managed_tags: dict[str, str]
    resolved_region: str
    client_request_token: str
    token_attempt: int
    copies: list[CopyState]
    kept_backups: list[str]


@dataclass(frozen=True)
class Request:
    """One backup resource's inputs, read once from the engine's props (or from a stored state, whose
    inputs are echoed): what the domain calls work with. ``inputs`` is what the state echoes."""

    inputs: Inputs
    resource_urn: Any  # a str when sent by the component (create() refuses anything else)
    file_system_id: Optional[str]
    volume_id: Optional[str]
    tags: Optional[dict[str, str]]  # None when there are none (FSx's CopyTagsToBackups then applies)
    region: Optional[str]  # the `region` input, if one was given
    timeout_seconds: float
    destinations: list[Destination]
    copy_tags: bool
    delete_superseded: bool
    generation: str  # what the request tokens of this backup are derived from (token.py)
    settings: AwsSettings  # the `aws` input (the stack config is layered under it by runtime.Env)
    keep_last: Optional[int] = None  # how many backups of the rotation to keep (None: no rotation)
    rotation: Optional[str] = None  # the rotation's nonce: tags every backup of it

    @property
    def rotation_marker(self) -> Optional[tuple[str, str]]:
        """The tag (key, value) that marks the backups of this resource's rotation, if it has one."""
        if self.keep_last is None or not self.rotation:
            return None
        return (records.ROTATION_TAG_KEY, self.rotation)

    @classmethod
    def read(cls, props: Mapping[str, Any]) -> Request:
        inputs: Inputs = {k: props.get(k) for k in INPUT_KEYS}  # type: ignore[assignment]
        fs_id, vol_id, life = inputs.get(TARGET_FILE_SYSTEM_ID), inputs.get(TARGET_VOLUME_ID), inputs.get(LIFE)
        copy_tags = inputs.get(COPY_TAGS)
        return cls(
            inputs=inputs,
            resource_urn=inputs.get(RESOURCE_URN),
            file_system_id=fs_id,
            volume_id=vol_id,
            tags=inputs.get(TAGS) or None,
            region=explicit_region(inputs.get(REGION)),
            timeout_seconds=float(inputs.get(TIMEOUT_SECONDS) or DEFAULT_TIMEOUT_SECONDS),
            destinations=destinations(inputs.get(COPY_TO_REGIONS)),
            copy_tags=True if copy_tags is None else bool(copy_tags),
            delete_superseded=bool(inputs.get(DELETE_SUPERSEDED)),
            settings=settings_from_input(inputs.get(AWS))[0],
            keep_last=_whole(inputs.get(KEEP_LAST)),
            rotation=inputs.get(ROTATION) if isinstance(inputs.get(ROTATION), str) else None,
            generation=generation_key(
                file_system_id=fs_id,
                volume_id=vol_id,
                triggers=inputs.get(TRIGGERS),
                life=life if isinstance(life, str) else None,
            ),
        )


def _whole(value: Any) -> Optional[int]:
    """``keep_last`` as the int it was checked to be (a float from the wire, 3.0, included)."""
    if value is None or isinstance(value, bool):
        return None
    return int(value) if isinstance(value, (int, float)) and float(value).is_integer() else None


def explicit_region(value: Any) -> Optional[str]:
    """The `region` input when one was given (else the provider's configuration decides)."""
    return value if isinstance(value, str) and value else None


def destinations(value: Any) -> list[Destination]:
    """`copy_to_regions` as a list of {"region", "kms_key_id"}; plain strings are regions."""
    found: list[Destination] = []
    for item in value or []:
        if isinstance(item, str):
            found.append({"region": item, "kms_key_id": None})
        elif isinstance(item, Mapping):
            found.append({"region": item.get("region"), "kms_key_id": item.get("kms_key_id")})
    return found


def copy_key(destination: Mapping[str, Any]) -> str:
    """A destination as the copy's token sees it: a new KMS key for a region means a new copy."""
    return f"{destination['region']}|{destination.get('kms_key_id') or ''}"


def copy_key_of(copy: Mapping[str, Any]) -> str:
    """The ``copy_key`` of the destination a stored copy was made for."""
    return copy_key({"region": copy.get("region"), "kms_key_id": copy.get("requested_kms_key_id")})


def backup_id_of(state: Mapping[str, Any], resource_id: str) -> str:
    """The backup the state holds. The resource ID is the first backup's: an update to a new target
    cannot change a resource ID, so `backup_id` is what names the current backup."""
    return str(state.get(BACKUP_ID) or resource_id)


def backup_state(inputs: Mapping[str, Any], backup: records.Backup, *, region: str) -> BackupState:
    """Outputs for a backup: the inputs echoed, plus a small projection of the FSx description."""
    file_system = backup.get("FileSystem") or {}
    volume = backup.get("Volume") or {}
    state: dict[str, Any] = {k: inputs.get(k) for k in INPUT_KEYS}
    state.update(
        {
            "backup_id": backup["BackupId"],
            "backup_arn": backup.get("ResourceARN"),
            "lifecycle": backup["Lifecycle"],
            "file_system_id": file_system.get("FileSystemId") or volume.get("FileSystemId"),
            "volume_id": volume.get("VolumeId") or inputs.get(TARGET_VOLUME_ID),
            "file_system_type": file_system.get("FileSystemType"),
            "resource_type": backup.get("ResourceType"),
            "creation_time": _iso(backup.get("CreationTime")),
            "kms_key_id": backup.get("KmsKeyId"),
            TAGS: records.user_tags(backup),
            MANAGED_TAGS: dict(inputs.get(TAGS) or {}),
            RESOLVED_REGION: region,
        }
    )
    return BackupState(**state)  # type: ignore[typeddict-item]


def copy_state(destination: Mapping[str, Any], copy: records.Backup) -> CopyState:
    """A copy as stored under `copies`."""
    return {
        "region": destination["region"],
        "requested_kms_key_id": destination.get("kms_key_id"),
        "backup_id": copy["BackupId"],
        "backup_arn": copy.get("ResourceARN"),
        "lifecycle": copy["Lifecycle"],
        "kms_key_id": copy.get("KmsKeyId"),
    }


def refreshed_copy(copy: CopyState, live: records.Backup) -> CopyState:
    """A stored copy with what AWS reports now."""
    return {**copy, "lifecycle": live["Lifecycle"], "kms_key_id": live.get("KmsKeyId")}


def _iso(value: Any) -> Optional[str]:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(value)))
