"""State and behaviour of the local FSx emulator.

Every behaviour is described, with its source, in docs/emulator.md; its entries carry the section
tags (§N) that the comments below cite. What the sources leave UNCONFIRMED is decided in exactly one
named constant or function below, with a comment (docs/emulator.md, "Assumptions (UNCONFIRMED)").

Time never advances in the background: each backup stores its creation time and duration, and its
lifecycle is computed from the injected clock when a request asks for it. Tests therefore move a
``ManualClock`` instead of sleeping.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FsxError
from .faults import Faults
from .records import (
    apply_file_system_options,
    build_file_system,
    build_volume,
    tag_list,
)
from .seed import apply_seed
from .server import (
    EmulatorServer,
    Refusal,
    RequestContext,
    content_type_refusal,
    current_request,
    signature_error,
)
from .sts import (
    EXPIRED_TOKEN_MESSAGE,
    INVALID_TOKEN_MESSAGE,
    AuthError,
    Identities,
    Role,
    Session,
    StsError,
    check_account_id,
    handle_sts,
    new_request_id,
    parse_request,
    render_error,
    render_result,
)
from .validation import format_validation_errors, operation_model, validate_input

__all__ = ["FsxEmulator", "ManualClock", "FsxError", "RequestRecord"]

Json = dict[str, Any]

# --- constants: regions, states, limits ---------------------------------------------------------

DEFAULT_REGION = "us-east-1"
COMMERCIAL_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1",
        "eu-south-1", "eu-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-south-2", "ap-east-1", "sa-east-1", "me-south-1", "me-central-1", "af-south-1",
        "il-central-1",
    }
)
OTHER_PARTITION_REGIONS = {
    "cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
    "us-gov-west-1": "aws-us-gov", "us-gov-east-1": "aws-us-gov",
}
# §6 "no cross-region in opt-in regions". The list is AWS's opt-in set at the time of writing.
OPT_IN_REGIONS = frozenset(
    {"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ca-west-1",
     "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1"}
)

FILE_SYSTEM_TYPES = ("WINDOWS", "LUSTRE", "ONTAP", "OPENZFS")
DEFAULT_DEPLOYMENT_TYPES = {
    "LUSTRE": "PERSISTENT_2", "WINDOWS": "SINGLE_AZ_2", "ONTAP": "SINGLE_AZ_1", "OPENZFS": "SINGLE_AZ_1",
}
IN_PROGRESS = frozenset({"PENDING", "CREATING", "TRANSFERRING", "COPYING"})  # §3 poll states

# UNCONFIRMED (§5): DeleteBackup answers BackupInProgress while the backup is still being made.
# COPYING is deliberately not in the set: deleting an in-flight copy destination is allowed here.
DELETE_BLOCKED_LIFECYCLES = frozenset({"PENDING", "CREATING", "TRANSFERRING"})
# §7 + docs/emulator.md "Why each harsh default" (queued backups): AVAILABLE is normal; a backup requested while the file system is
# UPDATING is queued, not refused (Windows and Lustre user guides); CREATING is refused with BadRequest
# (recorded text below). Every other lifecycle refused the same way: UNCONFIRMED.
# ONTAP volumes report CREATED when healthy (AVAILABLE is accepted too).
BACKUP_ALLOWED_FS_LIFECYCLES = frozenset({"AVAILABLE"})
BACKUP_QUEUED_FS_LIFECYCLES = frozenset({"UPDATING"})
FS_NOT_READY_MESSAGE = "Cannot take final backup while {fs_id} is in {lifecycle}"  # recorded (CREATING)
BACKUP_ALLOWED_VOLUME_LIFECYCLES = frozenset({"CREATED", "AVAILABLE"})
# UNCONFIRMED (§7): a DRA in any lifecycle (even DELETING/FAILED) still makes a Lustre FS ineligible.
DRA_LIFECYCLES_BLOCKING_BACKUP = frozenset(
    {"CREATING", "AVAILABLE", "MISCONFIGURED", "UPDATING", "DELETING", "FAILED"}
)
MAX_IN_PROGRESS_COPIES = 5  # §6, per destination region per account
MAX_TAGS = 50  # §8
PAGE_CAP = 50  # §4: Backups list max 50; used for every paginated list of the emulator
DRA_PAGE_CAP = 25  # §9: DescribeDataRepositoryAssociations MaxResults 1-25
# "Paging applies to look-ups by ID too": a page holds min(MaxResults, internal maximum) items; the
# internal maximum is not published, so it is a knob (FsxEmulator.page_size) and small by default so
# that every test sees short pages, ID look-ups included.
DEFAULT_PAGE_SIZE = 3
# "Token window: undocumented": one public report saw a token forgotten about five minutes later
# (kubernetes-sigs/aws-fsx-csi-driver PR #453). UNCONFIRMED; FsxEmulator.token_window_seconds.
DEFAULT_TOKEN_WINDOW_SECONDS = 300.0
SUPPORTED_BACKUP_FILTERS = frozenset({"file-system-id", "backup-type", "file-system-type", "volume-id"})

# docs/emulator.md "Why each harsh default": the message AWS really sends (recorded, Windows, 2018). The model's
# description ("Another backup is already under way...") is not the message.
BACKUP_IN_PROGRESS_MESSAGE = "Another backup is already pending."
# Lustre user-initiated: CREATING, then TRANSFERRING for the last 30% of the duration. PENDING only
# while the backup "hasn't started" (queued behind an UPDATING file system).
LUSTRE_TRANSFERRING_FRACTION = 0.3

_KMS_KEY_ID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_KMS_ALIAS = r"alias/[a-zA-Z0-9/_-]{1,250}"


def _hex_id(prefix: str, digits: int = 17) -> str:
    """IDs shaped like real ones: fs-/fsvol-/dra-/backup- + 17 lowercase hex digits."""
    return prefix + uuid.uuid4().hex[:digits]


def partition_of(region: str) -> str | None:
    """'aws' for the commercial regions, the other partition's name, or None when unknown."""
    if region in COMMERCIAL_REGIONS:
        return "aws"
    return OTHER_PARTITION_REGIONS.get(region)


class ManualClock:
    """A clock tests move by hand: ``clock.advance(5)`` instead of ``time.sleep(5)``."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    __call__ = now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += seconds
            return self._now


# --- backups ---------------------------------------------------------------------------------


@dataclass
class _Backup:
    """One backup. ``base`` holds the fixed API fields; the time-dependent ones are computed."""

    base: Json
    created_at: float
    duration: float
    lustre_phases: bool  # §3: PENDING/TRANSFERRING exist for Lustre user-initiated backups only
    is_copy: bool
    size_bytes: int
    fail_message: str | None = None
    deleted: bool = False
    source: tuple[str, str] | None = None  # (region, backup id) of a copy's source
    target_fs_id: str = ""
    target_volume_id: str | None = None
    seq: int = 0
    # When the work started: ``created_at``, or None while the backup is queued behind an UPDATING
    # file system (set when the file system is AVAILABLE again).
    started_at: float | None = None

    @property
    def backup_id(self) -> str:
        return str(self.base["BackupId"])

    @property
    def user_initiated(self) -> bool:
        return self.base["Type"] == "USER_INITIATED"

    @property
    def queued(self) -> bool:
        return self.started_at is None

    def progress(self, now: float) -> int:
        if self.started_at is None:
            return 0
        if self.duration <= 0:
            return 100
        return max(0, min(100, int((now - self.started_at) * 100 / self.duration)))

    def lifecycle(self, now: float) -> str:
        """§3 state machine, evaluated lazily at ``now``."""
        if self.deleted:
            return "DELETED"
        if self.started_at is None:  # queued: PENDING exists for Lustre user-initiated only (§3)
            return "PENDING" if self.lustre_phases else "CREATING"
        fraction = 1.0 if self.duration <= 0 else (now - self.started_at) / self.duration
        if fraction >= 1.0:
            return "FAILED" if self.fail_message else "AVAILABLE"
        if self.is_copy:
            return "COPYING"
        if self.lustre_phases and fraction >= 1.0 - LUSTRE_TRANSFERRING_FRACTION:
            return "TRANSFERRING"
        return "CREATING"

    def render(self, now: float, lifecycle: str | None = None) -> Json:
        """The API-shaped Backup (§3) as of ``now`` (a deep copy, safe to hand out). ``lifecycle``
        forces the first answer's state (CreateBackup: CREATING, CopyBackup: COPYING)."""
        out = copy.deepcopy(self.base)
        first_answer = lifecycle is not None
        if lifecycle is None:
            lifecycle = self.lifecycle(now)
        out["Lifecycle"] = lifecycle
        if lifecycle in IN_PROGRESS or lifecycle == "AVAILABLE":
            progress = 0 if first_answer else self.progress(now)
            out["ProgressPercent"] = 100 if lifecycle == "AVAILABLE" else progress
        if lifecycle == "AVAILABLE":
            out["SizeInBytes"] = self.size_bytes
        if lifecycle == "FAILED":
            out["FailureDetails"] = {"Message": self.fail_message}
        return out


@dataclass
class _Region:
    """Everything FSx keeps per account and region (§6: the API is regional; copies cross between
    the regions of one account; "Accounts and STS": nothing crosses accounts)."""

    name: str
    account: str = ""
    file_systems: dict[str, Json] = field(default_factory=dict)
    volumes: dict[str, Json] = field(default_factory=dict)
    associations: dict[str, Json] = field(default_factory=dict)
    backups: dict[str, _Backup] = field(default_factory=dict)
    # (operation, ClientRequestToken) -> (request parameters compared on reuse, resulting backup id,
    # clock time of the request that first used the token)
    tokens: dict[tuple[str, str], tuple[Json, str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestRecord:
    """One request as received: ``access_key`` is the access key ID of its SigV4 credential scope
    (None when unsigned or not received over HTTP); ``refused`` names the error of a request refused
    before any operation ran (content type, signature, session token), else None; ``service`` is
    "fsx" or "sts"; ``account`` the account that answered (the caller's, from its access key), None
    when the request was refused before the caller was identified."""

    time: float
    region: str
    operation: str
    params: Json
    access_key: str | None
    refused: str | None = None
    service: str = "fsx"
    account: str | None = None


class _AccountView:
    """The emulator as seen by the records of one account (records.Account)."""

    def __init__(self, emulator: FsxEmulator, account_id: str) -> None:
        self._emulator = emulator
        self.account_id = account_id

    def clock(self) -> float:
        return self._emulator.clock()

    def arn(self, region: str, resource: str) -> str:
        return self._emulator.arn(region, resource, account_id=self.account_id)

    def default_kms_key(self, region: str) -> str:
        return self._emulator.default_kms_key(region, account_id=self.account_id)


# --- the emulator -------------------------------------------------------------------------------


class FsxEmulator:
    """A local Amazon FSx backup API. See docs/emulator.md."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
        backup_seconds: float = 2.0,
        copy_seconds: float = 2.0,
        backup_quota: int = 500,
        account_id: str = "123456789012",
        seed: str | Path | Mapping[str, Any] | None = None,
        page_size: int | None = DEFAULT_PAGE_SIZE,
        order_seed: int | None = 0,
        token_window_seconds: float | None = DEFAULT_TOKEN_WINDOW_SECONDS,
    ) -> None:
        self.host = host
        self.port = port
        self.clock: Callable[[], float] = clock or time.time
        # Items per page of every Describe*/ListTags answer, ID look-ups included (None = the
        # model's cap only). Page = min(MaxResults, page_size, cap).
        self.page_size = page_size
        # Seeds the RNG that picks each listing's order (None = unseeded); see the order_seed property.
        self._order_rng = random.Random(order_seed)
        self._order_seed = order_seed
        # A ClientRequestToken is forgotten this many seconds (emulator clock) after its first use;
        # None = remembered forever.
        self.token_window_seconds = token_window_seconds
        self.backup_seconds = float(backup_seconds)
        self.copy_seconds = float(copy_seconds)
        # §8: 500 user-initiated backups (archived Windows guide); the current real value is
        # UNCONFIRMED, hence configurable.
        self.backup_quota = int(backup_quota)
        self.account_id = account_id
        self.faults = Faults(clock=lambda: self.clock())  # storms are timed on the emulator clock
        self.calls: Counter[str] = Counter()
        self.call_log: list[tuple[float, str, str, Json]] = []
        # Parallel to call_log (same index, same request), with the signing access key.
        self.requests: list[RequestRecord] = []
        self.regions_without_multi_az: set[str] = set()
        self._lock = threading.RLock()
        # (account, region) -> state. Test-side code may walk ``_regions.values()`` (every account).
        self._regions: dict[tuple[str, str], _Region] = {}
        # Accounts, access keys, roles and STS sessions ("Accounts and STS"). A key nobody
        # registered belongs to the default account, ``self.account_id`` (read at request time).
        self.identities = Identities(lambda: self.account_id)
        self._seq = 0
        self._backup_seconds_by_fs: dict[str, float] = {}
        self._pending_failures: list[tuple[str | None, str]] = []
        self._refused_deletes: dict[str, tuple[str, str]] = {}
        self._invalid_kms_keys: set[tuple[str | None, str]] = set()
        self._server: EmulatorServer | None = None
        self.seeded_ids: dict[str, list[str]] = {"file_systems": [], "volumes": [], "associations": []}
        if seed is not None:
            apply_seed(self, seed)

    # --- lifecycle of the server ---------------------------------------------------------------

    @property
    def order_seed(self) -> int | None:
        """The seed of the RNG that picks each listing's (unspecified) order. Setting it re-seeds."""
        return self._order_seed

    @order_seed.setter
    def order_seed(self, value: int | None) -> None:
        with self._lock:
            self._order_seed = value
            self._order_rng.seed(value)

    @property
    def access_keys(self) -> list[str | None]:
        """The signing access key ID of each request, parallel to ``call_log``."""
        with self._lock:
            return [record.access_key for record in self.requests]

    def start(self) -> FsxEmulator:
        if self._server is None:
            self._server = EmulatorServer(
                self.host, self.port, self.dispatch, gate=self._gate, sts=self._sts_dispatch
            )
            self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FsxEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started; call start() or use `with`")
        host, port = self._server.address
        return f"http://{host}:{port}"

    @property
    def requests_in_flight(self) -> int:
        """HTTP requests received and not yet answered (0 when stopped)."""
        return self._server.in_flight if self._server is not None else 0

    # --- helpers --------------------------------------------------------------------------------

    def _region(self, name: str, account_id: str | None = None) -> _Region:
        """The state of one region of one account (default: the default account), made on first use.
        Operations only ever see their caller's account, so another account's resource is simply
        absent: the NotFound errors (UNCONFIRMED: rather than an AccessDenied)."""
        key = (account_id or self.account_id, name)
        if key not in self._regions:
            self._regions[key] = _Region(name, key[0])
        return self._regions[key]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _partition(self, region: str) -> str:
        return partition_of(region) or "aws"

    def arn(self, region: str, resource: str, account_id: str | None = None) -> str:
        return f"arn:{self._partition(region)}:fsx:{region}:{account_id or self.account_id}:{resource}"

    def default_kms_key(self, region: str, account_id: str | None = None) -> str:
        account = account_id or self.account_id
        # The default account keeps the key ID it always had; other accounts get their own.
        name = f"fsx-emulator/{region}/aws-managed-fsx-key"
        if account != self.account_id:
            name += f"/{account}"
        key = uuid.uuid5(uuid.NAMESPACE_URL, name)
        return f"arn:{self._partition(region)}:kms:{region}:{account}:key/{key}"

    def _find_fs(self, fs_id: str) -> tuple[_Region, Json]:
        """(state, file system) of any account and region (IDs are unique across all of them)."""
        for state in self._regions.values():
            if fs_id in state.file_systems:
                return state, state.file_systems[fs_id]
        raise KeyError(f"no file system {fs_id}")

    def _find_backup(self, backup_id: str) -> _Backup:
        for state in self._regions.values():
            if backup_id in state.backups:
                return state.backups[backup_id]
        raise KeyError(f"no backup {backup_id}")

    def _check_new_id(self, table: str, resource_id: str) -> None:
        """A resource exists in one region of one account only: refuse an ID any of them holds."""
        for state in self._regions.values():
            if resource_id in getattr(state, table):
                raise ValueError(
                    f"{resource_id} already exists (in {state.name}, account {state.account}); IDs are unique"
                )

    # --- accounts and STS (Python API) ----------------------------------------------------------

    def add_account(
        self, account_id: str, access_keys: Iterable[str] = (), *, user_name: str = "emulator"
    ) -> None:
        """Register an account and the long-term access keys (AKIA...) of its IAM user ``user_name``.
        Requests signed with one of these keys see that account's file systems and backups."""
        self.identities.add_account(account_id, access_keys, user_name=user_name)

    def add_role(
        self,
        role_arn: str,
        trusted_accounts: Iterable[str] | None = None,
        external_id: str | None = None,
        max_session_seconds: int = 3600,
    ) -> None:
        """A role STS AssumeRole hands out sessions of: callers of ``trusted_accounts`` (None: any
        account) may assume it, with ``external_id`` when set; sessions last up to
        ``max_session_seconds`` (3600..43200). The session's credentials belong to the role's account."""
        self.identities.add_role(role_arn, trusted_accounts, external_id, max_session_seconds)

    @property
    def accounts(self) -> list[str]:
        """Every account the emulator knows: the default one, registered ones, role owners, and the
        owners of file systems."""
        with self._lock:
            known = {self.account_id, *self.identities.accounts, *(s.account for s in self._regions.values())}
        return sorted(known)

    def roles(self) -> list[Role]:
        return self.identities.roles()

    def session(self, access_key: str) -> Session | None:
        """The STS session an issued temporary access key belongs to (test-side look-up)."""
        return self.identities.session(access_key)

    def account_of(self, access_key: str | None) -> str:
        """The account a request signed with ``access_key`` is answered for (no token/expiry check)."""
        return self.identities.account_of_key(access_key)

    # --- seeding (Python API) -------------------------------------------------------------------

    def add_file_system(
        self,
        file_system_type: str,
        deployment_type: str | None = None,
        region: str = DEFAULT_REGION,
        file_system_id: str | None = None,
        import_path: str | None = None,
        export_path: str | None = None,
        lifecycle: str = "AVAILABLE",
        tags: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
        storage_capacity: int = 1200,
        file_system_type_version: str = "2.15",
        account_id: str | None = None,
        **extra: Any,
    ) -> str:
        """Create an API-shaped file system (FileSystem shape, §9). ``deployment_type`` defaults per
        type (Lustre PERSISTENT_2, Windows SINGLE_AZ_2, ONTAP/OpenZFS SINGLE_AZ_1). ``extra`` takes
        copy_tags_to_backups, automatic_backup_retention_days, active_directory_id, domain_name,
        storage_type, kms_key_id, or raw CamelCase FileSystem members (deep-merged). ``account_id``:
        the owning account (default: ``self.account_id``); its volumes, DRAs and backups follow it."""
        fs_type = file_system_type.upper()
        if fs_type not in FILE_SYSTEM_TYPES:
            raise ValueError(f"file system type must be one of {FILE_SYSTEM_TYPES}")
        if account_id is not None:
            check_account_id(account_id)
        fs_id = file_system_id or _hex_id("fs-")
        with self._lock:
            self._check_new_id("file_systems", fs_id)
            state = self._region(region, account_id)
            fs, root_volume = build_file_system(
                _AccountView(self, state.account), fs_type, fs_id, region,
                deployment_type=deployment_type or DEFAULT_DEPLOYMENT_TYPES[fs_type],
                import_path=import_path, export_path=export_path, lifecycle=lifecycle,
                tags=tag_list(tags), storage_capacity=storage_capacity,
                file_system_type_version=file_system_type_version, extra=extra,
            )
            fs["_seq"] = self._next_seq()
            state.file_systems[fs_id] = fs
            if root_volume is not None:
                root_volume["_seq"] = self._next_seq()
                state.volumes[root_volume["VolumeId"]] = root_volume
        return fs_id

    def add_volume(
        self,
        file_system_id: str,
        name: str = "vol1",
        ontap_volume_type: str = "RW",
        flexcache_endpoint_type: str = "NONE",
        volume_style: str = "FLEXVOL",
        lifecycle: str = "CREATED",
        tags: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
        volume_id: str | None = None,
        **extra: Any,
    ) -> str:
        """Add a volume to an ONTAP (or OpenZFS) file system. ``extra``: copy_tags_to_backups,
        storage_virtual_machine_id, storage_virtual_machine_root, size_in_megabytes, or raw
        CamelCase Volume members."""
        with self._lock:
            state, fs = self._find_fs(file_system_id)
            if volume_id is not None:
                self._check_new_id("volumes", volume_id)
            volume = build_volume(
                _AccountView(self, state.account), fs, state.name, volume_id or _hex_id("fsvol-"), name=name,
                ontap_volume_type=ontap_volume_type, flexcache_endpoint_type=flexcache_endpoint_type,
                volume_style=volume_style, lifecycle=lifecycle, tags=tag_list(tags), extra=extra,
            )
            volume["_seq"] = self._next_seq()
            state.volumes[volume["VolumeId"]] = volume
            return str(volume["VolumeId"])

    def add_data_repository_association(
        self,
        file_system_id: str,
        data_repository_path: str = "s3://bucket/prefix",
        file_system_path: str = "/ns1",
        lifecycle: str = "AVAILABLE",
        association_id: str | None = None,
        tags: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None,
    ) -> str:
        """Link a Lustre file system to S3 through a DRA (§7: this makes it ineligible for backups)."""
        with self._lock:
            state, fs = self._find_fs(file_system_id)
            if fs["FileSystemType"] != "LUSTRE":
                raise ValueError("data repository associations exist on Lustre file systems only")
            dra_id = association_id or _hex_id("dra-")
            self._check_new_id("associations", dra_id)
            state.associations[dra_id] = {
                "AssociationId": dra_id,
                "ResourceARN": self.arn(state.name, f"association/{file_system_id}/{dra_id}", state.account),
                "FileSystemId": file_system_id,
                "Lifecycle": lifecycle,
                "FileSystemPath": file_system_path,
                "DataRepositoryPath": data_repository_path,
                "BatchImportMetaDataOnCreate": False,
                "ImportedFileChunkSize": 1024,
                "S3": {
                    "AutoImportPolicy": {"Events": ["NEW", "CHANGED", "DELETED"]},
                    "AutoExportPolicy": {"Events": ["NEW", "CHANGED", "DELETED"]},
                },
                "Tags": tag_list(tags),
                "CreationTime": self.clock(),
                "_seq": self._next_seq(),
            }
            return dra_id

    def update_file_system(self, file_system_id: str, **changes: Any) -> None:
        """Change a file system out of band (lifecycle, file_system_type_version, deployment_type,
        import_path, export_path, tags, storage_capacity, copy_tags_to_backups, or CamelCase)."""
        with self._lock:
            state, fs = self._find_fs(file_system_id)
            apply_file_system_options(fs, changes)
            if fs["Lifecycle"] in BACKUP_ALLOWED_FS_LIFECYCLES:
                self._start_queued_backups(state, file_system_id)

    def _start_queued_backups(self, state: _Region, file_system_id: str) -> None:
        """Backups queued while the file system was UPDATING start once it is AVAILABLE again."""
        now = self.clock()
        for record in state.backups.values():
            if record.queued and record.target_fs_id == file_system_id and not record.deleted:
                record.started_at = now

    def delete_file_system(self, file_system_id: str) -> None:
        """Delete out of band. User-initiated backups survive with their snapshot; automatic backups
        are deleted with the file system (§8)."""
        with self._lock:
            state, _ = self._find_fs(file_system_id)
            del state.file_systems[file_system_id]
            for vol_id in [v for v, vol in state.volumes.items() if vol["FileSystemId"] == file_system_id]:
                del state.volumes[vol_id]
            for dra_id in [d for d, dra in state.associations.items() if dra["FileSystemId"] == file_system_id]:
                del state.associations[dra_id]
            for record in state.backups.values():
                if record.target_fs_id == file_system_id and not record.user_initiated:
                    record.deleted = True
                elif record.target_fs_id == file_system_id and record.queued:
                    # UNCONFIRMED: a backup still queued when its file system goes ends FAILED.
                    record.fail_message = "The file system was deleted before the backup started."
                    record.started_at, record.duration = self.clock(), 0.0

    def delete_backup_out_of_band(self, backup_id: str) -> None:
        with self._lock:
            self._find_backup(backup_id).deleted = True

    def refuse_delete(
        self, backup_id: str, code: str = "AccessDeniedException",
        message: str = "User is not authorized to perform fsx:DeleteBackup (injected by the emulator).",
    ) -> None:
        """DeleteBackup of ``backup_id`` answers ``code`` (HTTP 400, not retryable) until
        ``allow_delete``: an IAM policy or a backup vault lock refusing it, for best-effort pruning."""
        with self._lock:
            self._refused_deletes[backup_id] = (code, message)

    def allow_delete(self, backup_id: str) -> None:
        with self._lock:
            self._refused_deletes.pop(backup_id, None)

    def set_backup_seconds(self, seconds: float, file_system_id: str | None = None) -> None:
        with self._lock:
            if file_system_id is None:
                self.backup_seconds = float(seconds)
            else:
                self._backup_seconds_by_fs[file_system_id] = float(seconds)

    def fail_next_backup(
        self, message: str = "Backup failed (injected by the emulator).", file_system_id: str | None = None
    ) -> None:
        """The next backup created by CreateBackup or CopyBackup (for that file system if given)
        ends FAILED at the end of its duration with FailureDetails.Message = ``message``."""
        with self._lock:
            self._pending_failures.append((file_system_id, message))

    def mark_kms_key_invalid(self, key: str, region: str | None = None) -> None:
        """CopyBackup with this KmsKeyId (in ``region``, or any region) -> InvalidDestinationKmsKey."""
        with self._lock:
            self._invalid_kms_keys.add((region, key))

    def start_automatic_backup(self, file_system_id: str) -> str:
        """Start an AUTOMATIC backup; user CreateBackup on that FS (or its volumes) then gets
        BackupInProgress until it finishes (§8, UNCONFIRMED but likely)."""
        with self._lock:
            state, fs = self._find_fs(file_system_id)
            record = self._new_backup(state, fs, None, backup_type="AUTOMATIC", tags=None)
            return record.backup_id

    def backups(
        self, region: str | None = None, include_deleted: bool = False, account_id: str | None = None
    ) -> list[Json]:
        """API-shaped copies of the backups of every account (or of ``account_id``), of every
        region (or of ``region``)."""
        with self._lock:
            now = self.clock()
            states = [
                s for s in self._regions.values()
                if (region is None or s.name == region) and (account_id is None or s.account == account_id)
            ]
            return [
                b.render(now) for s in states for b in s.backups.values() if include_deleted or not b.deleted
            ]

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.call_log.clear()
            self.requests.clear()

    # --- request dispatch (called by the HTTP server threads) -----------------------------------

    def dispatch(self, operation: str | None, region: str, body: bytes) -> tuple[int, Json]:
        """Handle one request; returns (HTTP status, JSON body)."""
        try:
            return 200, self._dispatch(operation, region, body)
        except FsxError as err:
            return err.status, err.body()
        except Exception as exc:  # a bug in the emulator must still look like an AWS 500
            return 500, {"__type": "InternalServerError", "Message": f"emulator bug: {exc!r}"}

    def _record(
        self,
        region: str,
        name: str,
        params: Any,
        context: RequestContext | None,
        refused: str | None = None,
        *,
        service: str = "fsx",
        account: str | None = None,
    ) -> None:
        logged = copy.deepcopy(params) if isinstance(params, dict) else {}
        access_key = context.access_key if context is not None else None
        with self._lock:
            now = self.clock()
            self.calls[name] += 1
            self.call_log.append((now, region, name, logged))
            self.requests.append(
                RequestRecord(now, region, name, copy.deepcopy(logged), access_key, refused, service, account)
            )

    def _caller_account(self, context: RequestContext | None) -> str:
        """The account of the request's access key. An issued temporary key must come with its
        session token (else UnrecognizedClientException) and not be expired (else
        ExpiredTokenException), both HTTP 400 with a lowercase ``message`` like the front end's other
        refusals ("Accounts and STS"; codes recorded for DynamoDB, for FSx UNCONFIRMED). A direct
        dispatch() call is the default account's."""
        if context is None:
            return self.account_id
        try:
            principal = self.identities.identify(
                context.access_key, context.security_token, self.clock(), context.region
            )
        except AuthError as err:
            if err.kind == "expired":
                raise FsxError("ExpiredTokenException", EXPIRED_TOKEN_MESSAGE, message_key="message") from None
            raise FsxError("UnrecognizedClientException", INVALID_TOKEN_MESSAGE, message_key="message") from None
        return principal.account

    def _gate(self, context: RequestContext, operation: str | None, region: str, body: bytes) -> Refusal | None:
        """What the HTTP front end refuses before dispatch (wrong Content-Type); recorded like any
        other request received."""
        refusal = content_type_refusal(context.content_type, operation, body)
        if refusal is not None:
            self._record(region, operation or "<missing X-Amz-Target>", {}, context, refusal.code)
        return refusal

    def _dispatch(self, operation: str | None, region: str, body: bytes) -> Json:
        params = self._parse_body(body)
        name = operation or "<missing X-Amz-Target>"
        context = current_request()  # None for a direct dispatch() call (no HTTP, no signature)
        model = operation_model(operation) if operation else None
        handler = getattr(self, f"_op_{operation}", None) if operation else None
        # Order of AWS's JSON front end: the operation is resolved before the signature is checked;
        # then the caller is identified from its access key (and session token).
        refusal: FsxError | None = None
        account: str | None = None
        if model is None or handler is None:
            refusal = FsxError("UnknownOperationException", f"Unknown operation {name}")
        elif context is not None:
            refusal = signature_error(context)
        if refusal is None:
            try:
                account = self._caller_account(context)
            except FsxError as err:
                refusal = err
        self._record(region, name, params, context, refusal.code if refusal is not None else None, account=account)
        if refusal is not None:
            raise refusal
        assert model is not None and handler is not None
        if self.faults.latency_seconds > 0 and self.faults.applies_to(operation or ""):
            self.faults.sleep(self.faults.latency_seconds)  # outside the lock: other clients keep going
        injected = self.faults.pick(operation or "")
        if injected is not None:
            raise injected
        if not isinstance(params, dict):
            raise FsxError("SerializationException", "Request body must be a JSON object")
        errors = validate_input(model.input_shape, params)
        if errors:
            raise FsxError("BadRequest", format_validation_errors(errors))
        with self._lock:
            result: Json = handler(self._region(region, account), params, self.clock())
            return result

    def _sts_dispatch(self, context: RequestContext, region: str, body: bytes) -> tuple[int, bytes, str]:
        """One STS (awsQuery) request: (HTTP status, XML body, request ID). Recorded like FSx
        requests (service "sts"); faults do not apply."""
        request_id = new_request_id()
        request = parse_request(body, context.query)
        name = request.action or "<missing Action>"
        logged = {k: v for k, v in request.params.items() if k not in ("Action", "Version")}
        try:
            with self._lock:
                caller, result = handle_sts(
                    self.identities, request, context.access_key, context.security_token, self.clock(), region
                )
        except StsError as err:
            account = err.caller.account if err.caller is not None else None
            refused = err.code if err.caller is None else None
            self._record(region, name, logged, context, refused, service="sts", account=account)
            return err.status, render_error(err, request_id), request_id
        self._record(region, name, logged, context, service="sts", account=caller.account)
        return 200, render_result(name, result, request_id), request_id

    @staticmethod
    def _parse_body(body: bytes) -> Any:
        if not body.strip():
            return {}
        try:
            return json.loads(body)
        except ValueError as exc:
            raise FsxError("SerializationException", f"Malformed JSON body: {exc}") from None

    # --- pagination -------------------------------------------------------------------------------

    def _paginate(
        self, items: list[Json], key_of: Callable[[Json], str], params: Json, op: str, cap: int
    ) -> tuple[list[Json], str | None]:
        """One page of ``items``: min(MaxResults, page_size, cap) of them, plus a NextToken when more
        remain ("Paging applies to look-ups by ID too"). No order is promised (§4): each listing
        (a request without NextToken) draws a salt from the ``order_seed`` RNG and walks the items
        in the order of hash(salt, id); the token carries the salt and the last hash returned
        (keyset), so a listing returns every item that exists throughout exactly once, whatever is
        created or deleted between its pages. The token is opaque base64 (the model's pattern)."""
        token = params.get("NextToken")
        after: str | None = None
        if token:
            salt, after = _decode_token(token, op)
        else:
            with self._lock:
                salt = self._order_rng.getrandbits(32)
        keyed = sorted(((_order_key(salt, key_of(item)), item) for item in items), key=lambda pair: pair[0])
        if after is not None:
            keyed = [pair for pair in keyed if pair[0] > after]
        limit = max(1, min(int(params.get("MaxResults") or cap), cap, self.page_size or cap))
        page = keyed[:limit]
        next_token = _encode_token(op, salt, page[-1][0]) if len(keyed) > limit else None
        return [item for _, item in page], next_token

    # --- operations -----------------------------------------------------------------------------

    def _check_token(self, state: _Region, op: str, params: Json, compared: tuple[str, ...]) -> str | None:
        """§2: same token + same parameters -> the earlier result's id; different -> error. A token
        first used ``token_window_seconds`` ago or longer is forgotten: the request is a new one."""
        token = params.get("ClientRequestToken")
        if not token or (op, token) not in state.tokens:
            return None
        earlier, result_id, first_used = state.tokens[(op, token)]
        window = self.token_window_seconds
        if window is not None and self.clock() - first_used >= window:
            del state.tokens[(op, token)]
            return None
        for name in compared:
            if earlier.get(name) != params.get(name):
                raise FsxError(
                    "IncompatibleParameterError",
                    f"The request parameter '{name}' does not match the value used in a previous "
                    "request with the same ClientRequestToken.",
                    Parameter=name,
                )
        return result_id

    def _remember_token(self, state: _Region, op: str, params: Json, result_id: str) -> None:
        token = params.get("ClientRequestToken")
        if token:
            state.tokens[(op, token)] = (copy.deepcopy(params), result_id, self.clock())

    _CREATE_COMPARED = ("FileSystemId", "VolumeId", "Tags")

    def _op_CreateBackup(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        earlier = self._check_token(state, "CreateBackup", params, self._CREATE_COMPARED)
        if earlier is not None:
            # Returned in its current state, even DELETED or FAILED: the client decides (§2).
            return {"Backup": state.backups[earlier].render(now)}
        fs, volume = self._backup_target(state, params)
        self._check_eligible(state, fs, volume)
        queued = self._check_lifecycle(fs, volume)
        self._check_not_in_progress(state, fs, volume, now)
        self._check_quota(state)
        record = self._new_backup(
            state, fs, volume, backup_type="USER_INITIATED", tags=params.get("Tags"), queued=queued
        )
        self._remember_token(state, "CreateBackup", params, record.backup_id)
        # docs/emulator.md "Why each harsh default": CreateBackup answers CREATING (recorded), whatever comes next.
        return {"Backup": record.render(now, lifecycle="CREATING")}

    @staticmethod
    def _backup_target(state: _Region, params: Json) -> tuple[Json, Json | None]:
        fs_id, vol_id = params.get("FileSystemId"), params.get("VolumeId")
        if bool(fs_id) == bool(vol_id):
            # UNCONFIRMED (§1): neither/both -> BadRequest.
            raise FsxError("BadRequest", "Exactly one of FileSystemId or VolumeId must be specified.")
        if vol_id:
            volume = state.volumes.get(vol_id)
            if volume is None:
                raise FsxError("VolumeNotFound", f"Volume '{vol_id}' does not exist.")
            return state.file_systems[volume["FileSystemId"]], volume
        fs = state.file_systems.get(str(fs_id))
        if fs is None:
            raise FsxError("FileSystemNotFound", f"File system '{fs_id}' does not exist.")
        return fs, None

    @staticmethod
    def _check_eligible(state: _Region, fs: Json, volume: Json | None) -> None:
        """§7 eligibility matrix."""
        fs_type = fs["FileSystemType"]
        if volume is None and fs_type == "ONTAP":
            raise FsxError("UnsupportedOperation", "ONTAP file system backup is unsupported.")  # §1
        if volume is not None and fs_type != "ONTAP":
            # UNCONFIRMED (§1/§7): per-volume backups are documented for ONTAP only.
            raise FsxError("UnsupportedOperation", f"Volume backups are not supported for {fs_type} volumes.")
        if fs_type == "LUSTRE":
            _check_lustre_eligible(state, fs)
        if volume is not None:
            _check_ontap_volume_eligible(volume)

    @staticmethod
    def _check_lifecycle(fs: Json, volume: Json | None) -> bool:
        """True when the backup is to be queued (file system UPDATING); BadRequest when the file
        system or volume cannot be backed up now."""
        lifecycle = fs["Lifecycle"]
        if lifecycle not in BACKUP_ALLOWED_FS_LIFECYCLES | BACKUP_QUEUED_FS_LIFECYCLES:
            raise FsxError(
                "BadRequest", FS_NOT_READY_MESSAGE.format(fs_id=fs["FileSystemId"], lifecycle=lifecycle)
            )
        if volume is not None and volume["Lifecycle"] not in BACKUP_ALLOWED_VOLUME_LIFECYCLES:
            raise FsxError(
                "BadRequest",
                f"Cannot create a backup of volume {volume['VolumeId']} because it is in the "
                f"{volume['Lifecycle']} lifecycle state.",
            )
        return lifecycle in BACKUP_QUEUED_FS_LIFECYCLES

    @staticmethod
    def _check_not_in_progress(state: _Region, fs: Json, volume: Json | None, now: float) -> None:
        """§8: one backup at a time per file system (per volume for ONTAP); an in-progress
        AUTOMATIC backup of the file system blocks too."""
        for record in state.backups.values():
            if record.is_copy or record.target_fs_id != fs["FileSystemId"]:
                continue
            if record.lifecycle(now) not in IN_PROGRESS:
                continue
            same_target = volume is None or record.target_volume_id in (None, volume["VolumeId"])
            if same_target:
                raise FsxError("BackupInProgress", BACKUP_IN_PROGRESS_MESSAGE)

    def _check_quota(self, state: _Region) -> None:
        used = sum(1 for b in state.backups.values() if b.user_initiated and not b.deleted)
        if used >= self.backup_quota:
            raise FsxError(
                "ServiceLimitExceeded",
                f"You have reached the limit of {self.backup_quota} user-initiated backups.",
                Limit="TOTAL_USER_INITIATED_BACKUPS",
            )

    def _take_failure(self, fs_id: str) -> str | None:
        for index, (wanted_fs, message) in enumerate(self._pending_failures):
            if wanted_fs is None or wanted_fs == fs_id:
                del self._pending_failures[index]
                return message
        return None

    def _new_backup(
        self,
        state: _Region,
        fs: Json,
        volume: Json | None,
        backup_type: str,
        tags: list[Json] | None,
        queued: bool = False,
    ) -> _Backup:
        fs_id = fs["FileSystemId"]
        backup_id = _hex_id("backup-")
        base: Json = {
            "BackupId": backup_id,
            "Type": backup_type,
            "CreationTime": self.clock(),
            "KmsKeyId": fs.get("KmsKeyId") or self.default_kms_key(state.name, state.account),
            "ResourceARN": self.arn(state.name, f"backup/{backup_id}", state.account),
            "OwnerId": state.account,
            "FileSystem": _public(fs),  # §3: snapshot, persisted even if the FS is deleted
            "ResourceType": "VOLUME" if volume is not None else "FILE_SYSTEM",
        }
        backup_tags = copy.deepcopy(tags) if tags is not None else _tags_copied_to_backups(fs, volume)
        if backup_tags:
            base["Tags"] = backup_tags
        if volume is not None:
            base["Volume"] = _public(volume)
        directory = _directory_information(fs)
        if directory:
            base["DirectoryInformation"] = directory
        record = _Backup(
            base=base,
            created_at=self.clock(),
            duration=self._backup_seconds_by_fs.get(fs_id, self.backup_seconds),
            lustre_phases=fs["FileSystemType"] == "LUSTRE" and backup_type == "USER_INITIATED",
            is_copy=False,
            size_bytes=_size_of(fs, volume),
            fail_message=self._take_failure(fs_id) if backup_type == "USER_INITIATED" else None,
            target_fs_id=fs_id,
            target_volume_id=volume["VolumeId"] if volume is not None else None,
            seq=self._next_seq(),
            started_at=None if queued else self.clock(),
        )
        state.backups[backup_id] = record
        return record

    def _op_DescribeBackups(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        ids = params.get("BackupIds")
        if ids:
            if len(ids) > 50:
                raise FsxError("BadRequest", "BackupIds can contain at most 50 IDs.")
            records = []
            for backup_id in dict.fromkeys(ids):
                record = state.backups.get(backup_id)
                if record is None or record.deleted:
                    raise FsxError("BackupNotFound", f"Backup '{backup_id}' does not exist.")
                records.append(record)
        else:  # §4: IDs override filters
            filters = params.get("Filters") or []
            predicate = _backup_filter(filters)
            _check_filtered_targets_exist(state, filters)
            records = [b for b in state.backups.values() if not b.deleted and predicate(b)]
        page, token = self._paginate(
            [b.render(now) for b in records], _key("BackupId"), params, "DescribeBackups", PAGE_CAP
        )
        return _page_result("Backups", page, token)

    def _op_DeleteBackup(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        backup_id = params["BackupId"]
        if self._check_token(state, "DeleteBackup", params, ("BackupId",)) is not None:
            return {"BackupId": backup_id, "Lifecycle": "DELETED"}
        record = state.backups.get(backup_id)
        if record is None or record.deleted:
            raise FsxError("BackupNotFound", f"Backup '{backup_id}' does not exist.")
        if backup_id in self._refused_deletes:
            raise FsxError(*self._refused_deletes[backup_id])
        if record.lifecycle(now) in DELETE_BLOCKED_LIFECYCLES:
            raise FsxError("BackupInProgress", BACKUP_IN_PROGRESS_MESSAGE)
        if self._is_being_copied(state, backup_id, now):
            raise FsxError(
                "BackupBeingCopied",
                f"Backup '{backup_id}' is the source of a copy in progress and cannot be deleted.",
                BackupId=backup_id,
            )
        record.deleted = True
        self._remember_token(state, "DeleteBackup", params, backup_id)
        return {"BackupId": backup_id, "Lifecycle": "DELETED"}

    def _is_being_copied(self, state: _Region, backup_id: str, now: float) -> bool:
        return any(
            b.source == (state.name, backup_id) and b.lifecycle(now) == "COPYING"
            for s in self._regions.values()
            if s.account == state.account  # copies stay within one account
            for b in s.backups.values()
        )

    _COPY_COMPARED = ("SourceBackupId", "SourceRegion", "KmsKeyId", "CopyTags", "Tags")

    def _op_CopyBackup(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        earlier = self._check_token(state, "CopyBackup", params, self._COPY_COMPARED)
        if earlier is not None:
            return {"Backup": state.backups[earlier].render(now)}
        source_region = params.get("SourceRegion") or state.name  # §6: default = in-Region copy
        self._check_copy_regions(source_region, state.name)
        source = self._region(source_region, state.account).backups.get(params["SourceBackupId"])
        if source is None or source.deleted:
            raise FsxError("BackupNotFound", f"Backup '{params['SourceBackupId']}' does not exist.")
        if source.lifecycle(now) != "AVAILABLE":
            raise FsxError(
                "SourceBackupUnavailable",
                f"Source backup '{source.backup_id}' is not AVAILABLE.",
                BackupId=source.backup_id,
            )
        kms_key = self._destination_kms_key(params.get("KmsKeyId"), state.name, state.account)
        self._check_multi_az(source, state.name)
        self._check_copy_limit(state, now)
        self._check_quota(state)
        tags = _merge_copy_tags(source, params)
        record = self._new_copy(state, source, source_region, kms_key, tags)
        self._remember_token(state, "CopyBackup", params, record.backup_id)
        return {"Backup": record.render(now, lifecycle="COPYING")}  # §6: the example answers COPYING

    @staticmethod
    def _check_copy_regions(source_region: str, destination: str) -> None:
        source_partition = partition_of(source_region)
        if source_partition is None:
            raise FsxError("InvalidRegion", f"Region '{source_region}' is not a valid region.")
        if source_partition != (partition_of(destination) or "aws"):
            raise FsxError(
                "InvalidRegion",
                f"Backups cannot be copied from {source_region} to {destination}: different partitions.",
            )
        if source_region != destination and {source_region, destination} & OPT_IN_REGIONS:
            raise FsxError(
                "UnsupportedOperation", "Cross-Region backup copies are not supported in opt-in Regions."
            )

    def _destination_kms_key(self, key: str | None, region: str, account_id: str | None = None) -> str:
        """Accepted shapes: a key ID (UUID or ``mrk-`` + 32 hex), ``alias/NAME``, or a key/alias ARN
        in the destination region. Anything else, or a key marked invalid -> InvalidDestinationKmsKey."""
        account = account_id or self.account_id
        if key is None:
            return self.default_kms_key(region, account)
        partition = self._partition(region)
        arn_prefix = f"arn:{partition}:kms:{region}:\\d{{12}}:"
        if re.fullmatch(_KMS_KEY_ID, key):
            resolved = f"arn:{partition}:kms:{region}:{account}:key/{key}"
        elif re.fullmatch(_KMS_ALIAS, key):
            resolved = f"arn:{partition}:kms:{region}:{account}:{key}"
        elif re.fullmatch(f"{arn_prefix}(?:key/{_KMS_KEY_ID}|{_KMS_ALIAS})", key):
            resolved = key
        else:
            raise FsxError("InvalidDestinationKmsKey", f"KMS key '{key}' is not valid in {region}.")
        if {(None, key), (region, key), (None, resolved), (region, resolved)} & self._invalid_kms_keys:
            raise FsxError("InvalidDestinationKmsKey", f"KMS key '{key}' is not valid or not enabled.")
        return resolved

    def _check_multi_az(self, source: _Backup, destination: str) -> None:
        windows = source.base["FileSystem"].get("WindowsConfiguration") or {}
        if windows.get("DeploymentType") == "MULTI_AZ_1" and destination in self.regions_without_multi_az:
            raise FsxError(
                "IncompatibleRegionForMultiAZ",
                f"Region {destination} does not support Multi-AZ file systems.",
            )

    @staticmethod
    def _check_copy_limit(state: _Region, now: float) -> None:
        copying = sum(1 for b in state.backups.values() if b.is_copy and b.lifecycle(now) == "COPYING")
        if copying >= MAX_IN_PROGRESS_COPIES:
            raise FsxError(
                "ServiceLimitExceeded",
                f"You have reached the limit of {MAX_IN_PROGRESS_COPIES} backup copies in progress.",
                Limit="TOTAL_IN_PROGRESS_COPY_BACKUPS",
            )

    def _new_copy(
        self, state: _Region, source: _Backup, source_region: str, kms_key: str, tags: list[Json]
    ) -> _Backup:
        backup_id = _hex_id("backup-")
        base = {
            key: copy.deepcopy(value)
            for key, value in source.base.items()
            if key in ("FileSystem", "ResourceType", "Volume", "DirectoryInformation")
        }
        base.update(
            BackupId=backup_id,
            Type="USER_INITIATED",  # §3: a copy is USER_INITIATED
            CreationTime=self.clock(),
            KmsKeyId=kms_key,
            ResourceARN=self.arn(state.name, f"backup/{backup_id}", state.account),
            OwnerId=state.account,
            SourceBackupId=source.backup_id,
            SourceBackupRegion=source_region,
        )
        if tags:
            base["Tags"] = tags
        record = _Backup(
            base=base,
            created_at=self.clock(),
            duration=self.copy_seconds,
            lustre_phases=False,
            is_copy=True,
            size_bytes=source.size_bytes,
            fail_message=self._take_failure(source.target_fs_id),
            source=(source_region, source.backup_id),
            target_fs_id=source.target_fs_id,
            target_volume_id=source.target_volume_id,
            seq=self._next_seq(),
            started_at=self.clock(),
        )
        state.backups[backup_id] = record
        return record

    def _op_DescribeFileSystems(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        items = _select(state.file_systems, params.get("FileSystemIds"), "FileSystemNotFound", "File system")
        page, token = self._paginate(items, _key("FileSystemId"), params, "DescribeFileSystems", PAGE_CAP)
        return _page_result("FileSystems", page, token)

    def _op_DescribeVolumes(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        items = _select(state.volumes, params.get("VolumeIds"), "VolumeNotFound", "Volume")
        for flt in params.get("Filters") or []:
            values = set(flt.get("Values") or [])
            if flt.get("Name") == "file-system-id":
                items = [v for v in items if v["FileSystemId"] in values]
            elif flt.get("Name") == "storage-virtual-machine-id":
                items = [
                    v for v in items
                    if (v.get("OntapConfiguration") or {}).get("StorageVirtualMachineId") in values
                ]
        page, token = self._paginate(items, _key("VolumeId"), params, "DescribeVolumes", PAGE_CAP)
        return _page_result("Volumes", page, token)

    def _op_DescribeDataRepositoryAssociations(  # noqa: N802
        self, state: _Region, params: Json, now: float
    ) -> Json:
        items = _select(
            state.associations, params.get("AssociationIds"), "DataRepositoryAssociationNotFound", "Association"
        )
        for flt in params.get("Filters") or []:
            values = set(flt.get("Values") or [])
            if flt.get("Name") == "file-system-id":
                # The model lists FileSystemNotFound here too: same (UNCONFIRMED) rule as DescribeBackups.
                _check_filtered_targets_exist(state, [flt])
                items = [a for a in items if a["FileSystemId"] in values]
            elif flt.get("Name") == "data-repository-type":
                items = [a for a in items if "S3" in values]  # every emulated DRA is an S3 one
            else:
                items = []  # file-cache-id / file-cache-type: the emulator has no file caches
        page, token = self._paginate(
            items, _key("AssociationId"), params, "DescribeDataRepositoryAssociations", DRA_PAGE_CAP
        )
        return _page_result("Associations", page, token)

    # --- tagging ----------------------------------------------------------------------------------

    def _tagged_resource(self, state: _Region, arn: str) -> Json:
        """The dict whose "Tags" list a tagging call changes (for a backup: its fixed base)."""
        match = re.fullmatch(r"arn:[^:]+:fsx:([^:]+):(\d{12}):([a-z-]+)/(.+)", arn)
        if match is None or match.group(3) not in (
            "backup", "file-system", "volume", "association", "storage-virtual-machine",
            "snapshot", "task", "file-cache",
        ):
            raise FsxError(
                "NotServiceResourceError",
                f"Resource '{arn}' is not an Amazon FSx resource.",
                ResourceARN=arn,
            )
        region, account, kind, rest = match.groups()
        resource: Json | None = None
        if region == state.name and account == state.account:  # another account's ARN: not found
            resource_id = rest.split("/")[-1]
            if kind == "backup":
                record = state.backups.get(resource_id)
                resource = record.base if record is not None and not record.deleted else None
            elif kind == "file-system":
                resource = state.file_systems.get(resource_id)
            elif kind == "volume":
                resource = state.volumes.get(resource_id)
            elif kind == "association":
                resource = state.associations.get(resource_id)
        if resource is None:  # also: resource kinds the emulator does not model
            raise FsxError("ResourceNotFound", f"Resource '{arn}' does not exist.", ResourceARN=arn)
        return resource

    def _op_TagResource(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        resource = self._tagged_resource(state, params["ResourceARN"])
        merged = {t["Key"]: t["Value"] for t in resource.get("Tags") or []}
        merged.update({t["Key"]: t["Value"] for t in params["Tags"]})
        if len(merged) > MAX_TAGS:
            # UNCONFIRMED: TagResource does not model ServiceLimitExceeded, so BadRequest.
            raise FsxError("BadRequest", f"A resource can have at most {MAX_TAGS} tags.")
        resource["Tags"] = tag_list(merged)
        return {}

    def _op_UntagResource(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        resource = self._tagged_resource(state, params["ResourceARN"])
        remove = set(params["TagKeys"])
        kept = [t for t in resource.get("Tags") or [] if t["Key"] not in remove]
        if kept or "BackupId" not in resource:
            resource["Tags"] = kept
        else:
            resource.pop("Tags", None)  # backups omit an empty Tags list (see _new_backup)
        return {}

    def _op_ListTagsForResource(self, state: _Region, params: Json, now: float) -> Json:  # noqa: N802
        resource = self._tagged_resource(state, params["ResourceARN"])
        tags = list(resource.get("Tags") or [])
        page, token = self._paginate(tags, _key("Key"), params, "ListTagsForResource", PAGE_CAP)
        return _page_result("Tags", page, token)


# --- module helpers -----------------------------------------------------------------------------


def _public(record: Json) -> Json:
    """A deep copy without the emulator's private ``_``-prefixed bookkeeping keys."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def _select(table: dict[str, Json], ids: Any, not_found: str, noun: str) -> list[Json]:
    """The records named by ``ids`` (each once, in request order), or all of them without IDs; any
    unknown ID fails the whole request, as FSx does."""
    if not ids:
        return list(table.values())
    missing = [i for i in ids if i not in table]
    if missing:
        raise FsxError(not_found, f"{noun} '{missing[0]}' does not exist.")
    return [table[i] for i in dict.fromkeys(ids)]


def _key(name: str) -> Callable[[Json], str]:
    return lambda item: str(item[name])


def _check_filtered_targets_exist(state: _Region, filters: list[Json]) -> None:
    """A DescribeBackups filter naming a file system or volume that does not exist (in this region,
    now) answers what the model lists for DescribeBackups: FileSystemNotFound / VolumeNotFound.
    UNCONFIRMED (docs/emulator.md "Why each harsh default": whether it fails or returns nothing is not public);
    this is the harsher choice, and it holds for the file system of a retained backup too."""
    for flt in filters:
        values = flt.get("Values") or []
        if flt.get("Name") == "file-system-id":
            for value in values:
                if value not in state.file_systems:
                    raise FsxError("FileSystemNotFound", f"File system '{value}' does not exist.")
        elif flt.get("Name") == "volume-id":
            for value in values:
                if value not in state.volumes:
                    raise FsxError("VolumeNotFound", f"Volume '{value}' does not exist.")


def _page_result(key: str, page: list[Json], token: str | None) -> Json:
    result: Json = {key: [_public(item) for item in page]}
    if token:
        result["NextToken"] = token
    return result


def _order_key(salt: int, identifier: str) -> str:
    """A listing's position of an item: 96 bits of sha256(salt, id) (collisions: negligible)."""
    return hashlib.sha256(f"{salt}/{identifier}".encode()).hexdigest()[:24]


def _encode_token(op: str, salt: int, after: str) -> str:
    return base64.b64encode(json.dumps({"o": op, "s": salt, "k": after}).encode()).decode()


def _decode_token(token: str, op: str) -> tuple[int, str]:
    """(salt, last key) of a NextToken made by _encode_token for ``op``; BadRequest otherwise
    (UNCONFIRMED: FSx's code for a bad token)."""
    try:
        data = json.loads(base64.b64decode(token, validate=True))
        if data.get("o") == op and isinstance(data.get("s"), int) and isinstance(data.get("k"), str):
            return int(data["s"]), str(data["k"])
    except (binascii.Error, ValueError, AttributeError):
        pass
    raise FsxError("BadRequest", "The NextToken value is not valid.")


def _check_lustre_eligible(state: _Region, fs: Json) -> None:
    lustre = fs.get("LustreConfiguration") or {}
    deployment = lustre.get("DeploymentType")
    if deployment in ("SCRATCH_1", "SCRATCH_2"):
        # UNCONFIRMED (§1): code/text for an ineligible Lustre FS; §7 says scratch has no backups.
        raise FsxError(
            "UnsupportedOperation", f"Backups are not supported on {deployment} file systems."
        )
    repository = lustre.get("DataRepositoryConfiguration") or {}
    linked = bool(repository.get("ImportPath") or repository.get("ExportPath")) or any(
        dra["FileSystemId"] == fs["FileSystemId"] and dra["Lifecycle"] in DRA_LIFECYCLES_BLOCKING_BACKUP
        for dra in state.associations.values()
    )
    if linked:  # §7, both ways of linking to S3
        raise FsxError(
            "UnsupportedOperation",
            "File system backups are not supported on file systems linked to an Amazon S3 data "
            "repository.",
        )


def _check_ontap_volume_eligible(volume: Json) -> None:
    ontap = volume.get("OntapConfiguration") or {}
    # UNCONFIRMED (§1): the error for an ineligible ONTAP volume type; §7 lists which are.
    if ontap.get("OntapVolumeType") in ("DP", "LS"):
        raise FsxError(
            "UnsupportedOperation",
            f"Backups are not supported on {ontap['OntapVolumeType']} volumes; only RW volumes can be backed up.",
        )
    if ontap.get("FlexCacheEndpointType") == "CACHE":
        raise FsxError("UnsupportedOperation", "Backups are not supported on FlexCache volumes.")


def _tags_copied_to_backups(fs: Json, volume: Json | None) -> list[Json]:
    """§1: without Tags, the FS (ONTAP: the volume) tags are copied when CopyTagsToBackups is on."""
    if volume is not None:
        source = volume
        flag = (volume.get("OntapConfiguration") or {}).get("CopyTagsToBackups")
    else:
        source = fs
        config: Json = next(
            (fs[k] for k in ("LustreConfiguration", "WindowsConfiguration", "OpenZFSConfiguration") if k in fs),
            {},
        )
        flag = config.get("CopyTagsToBackups")
    return copy.deepcopy(source.get("Tags") or []) if flag else []


def _merge_copy_tags(source: _Backup, params: Json) -> list[Json]:
    """§6: with CopyTags, source tags merged with Tags (Tags win on a key conflict), <= 50."""
    merged: dict[str, str] = {}
    if params.get("CopyTags"):
        merged.update({t["Key"]: t["Value"] for t in source.base.get("Tags") or []})
    merged.update({t["Key"]: t["Value"] for t in params.get("Tags") or []})
    if len(merged) > MAX_TAGS:
        raise FsxError("BadRequest", f"A backup can have at most {MAX_TAGS} tags.")
    return tag_list(merged)


def _directory_information(fs: Json) -> Json | None:
    windows = fs.get("WindowsConfiguration")
    if not windows:
        return None
    info: Json = {}
    if windows.get("ActiveDirectoryId"):
        info["ActiveDirectoryId"] = windows["ActiveDirectoryId"]
    domain = fs.get("_DomainName") or (windows.get("SelfManagedActiveDirectoryConfiguration") or {}).get(
        "DomainName"
    )
    if domain:
        info["DomainName"] = domain
    # No ResourceARN: the model's ResourceARN pattern only admits fsx ARNs, not a ds directory ARN.
    return info or None


def _size_of(fs: Json, volume: Json | None) -> int:
    """A plausible, deterministic backup size: 10% of the provisioned capacity."""
    if volume is not None:
        megabytes = (volume.get("OntapConfiguration") or {}).get("SizeInMegabytes") or 1024
        return int(megabytes) * 2**20 // 10
    return int(fs.get("StorageCapacity") or 0) * 2**30 // 10


def _backup_filter(filters: list[Json]) -> Callable[[_Backup], bool]:
    """§4: AND across filters, OR within one filter's values (the OR is UNCONFIRMED).
    Values compare exactly (wildcards the pattern admits are not interpreted: UNCONFIRMED)."""
    for flt in filters:
        if flt.get("Name") not in SUPPORTED_BACKUP_FILTERS:
            raise FsxError(
                "BadRequest",
                f"Filter name '{flt.get('Name')}' is not supported by DescribeBackups; use one of "
                f"{sorted(SUPPORTED_BACKUP_FILTERS)}.",
            )

    def field_of(record: _Backup, name: str) -> str | None:
        base = record.base
        if name == "file-system-id":
            return base["FileSystem"].get("FileSystemId")
        if name == "backup-type":
            return base["Type"]
        if name == "file-system-type":
            return base["FileSystem"].get("FileSystemType")
        return (base.get("Volume") or {}).get("VolumeId")  # volume-id

    def predicate(record: _Backup) -> bool:
        return all(field_of(record, f["Name"]) in set(f.get("Values") or []) for f in filters)

    return predicate
