"""The backup lifecycle as plain functions: take, wait, read, retag, remove, and target look-ups.

These orchestrate the AWS calls of ``fsx.py`` (the only module that talks to boto3) and hold the
rules that make a backup crash-safe: a deterministic token per generation, moving on past tokens that
FSx answers with a DELETED/FAILED backup, waiting out BackupInProgress, cleaning up FAILED backups.
Time is injected (``Runtime``) so the tests never sleep.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, TypeVar

from . import fsx
from .eligibility import FileSystemFacts, VolumeFacts
from .errors import (
    BackupFailedError,
    BackupInProgressTimeoutError,
    CopyRefusedError,
    FsxBackupError,
    QuotaExceededError,
)
from .fsx import Backup, ProgressCallback
from .token import MAX_TOKEN_ATTEMPTS, delete_token, derive_token
from .watcher import BackupWatcher, Coalescer, WaitFn, condition_wait

BUSY_FIRST_WAIT = 5.0
BUSY_MAX_WAIT = 30.0


@dataclass
class Runtime:
    """Clock, sleep and per-client shared pollers. Tests pass fakes; production uses the defaults."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wait: Optional[WaitFn] = None
    """How the shared watcher and look-ups wait on their condition; default: the condition's own
    wait with the real sleep, else ``sleep`` (a fake sleep that advances a fake clock)."""
    _watchers: dict[int, BackupWatcher] = field(default_factory=dict)
    _lookups: dict[int, "TargetLookups"] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_fn(self) -> WaitFn:
        if self.wait is not None:
            return self.wait
        if self.sleep is time.sleep:
            return condition_wait
        sleep = self.sleep
        return lambda _condition, seconds: sleep(seconds)

    def watcher(self, client: Any) -> BackupWatcher:
        with self._lock:
            watcher = self._watchers.get(id(client))
            if watcher is None:
                poller = fsx.polling_client(client)
                watcher = BackupWatcher(
                    lambda ids: fsx.describe_backups(poller, ids, retry=False), clock=self.clock, wait=self.wait_fn()
                )
                self._watchers[id(client)] = watcher
            return watcher

    def lookups(self, client: Any) -> "TargetLookups":
        with self._lock:
            lookups = self._lookups.get(id(client))
            if lookups is None:
                lookups = TargetLookups(client, clock=self.clock, wait=self.wait_fn())
                self._lookups[id(client)] = lookups
            return lookups


@dataclass
class TakenBackup:
    backup: Backup
    token: str
    attempt: int


StaleRule = Callable[[Backup, Sequence[Backup]], bool]
"""(a backup found through one of this resource's tokens, every live backup of the target) ->
True when that backup belongs to an earlier life and must not be adopted."""


def take_backup(
    client: Any,
    *,
    resource_urn: str,
    generation: str,
    file_system_id: Optional[str],
    volume_id: Optional[str],
    tags: Optional[Mapping[str, str]],
    deadline: float,
    runtime: Runtime,
    on_progress: Optional[ProgressCallback] = None,
    is_stale: Optional[StaleRule] = None,
) -> TakenBackup:
    """Create (or adopt) the backup of this generation and wait until it is AVAILABLE.

    Adoption is what makes a retried `pulumi up` safe, so it is decided in this order:
    1. the durable marker: a live backup of the target whose request-token tag holds one of this
       generation's tokens (FSx may have forgotten the token itself; its window is undocumented);
    2. CreateBackup with the token, which FSx answers with the backup it already made, if it still
       remembers the token.
    A backup that is DELETED or FAILED, or that ``is_stale`` calls stale, belongs to an earlier life:
    the next derived token is used instead.
    """
    target = volume_id or file_system_id or "?"
    started = runtime.clock()
    tokens = [derive_token(resource_urn, generation, attempt) for attempt in range(MAX_TOKEN_ATTEMPTS)]
    marked, live = fsx.find_backups_by_token_tag(
        client, file_system_id=file_system_id, volume_id=volume_id, tokens=tokens
    )

    def usable(backup: Backup) -> bool:
        if backup["Lifecycle"] in (fsx.BACKUP_DELETED_STATE, fsx.BACKUP_FAILED_STATE):
            return False
        return is_stale is None or not is_stale(backup, live)

    # The newest usable marked backup wins: an interrupted run may have moved past earlier tokens.
    first = max((a for a, t in enumerate(tokens) if t in marked and usable(marked[t])), default=0)
    sent_tags: Optional[dict[str, str]] = None
    for attempt in range(first, MAX_TOKEN_ATTEMPTS):
        token = tokens[attempt]
        backup = marked.get(token)
        adopted_by_tag = backup is not None
        if backup is None:
            if sent_tags is None:
                sent_tags = dict(tags) if tags else fsx.tags_copied_to_backups(
                    client, file_system_id=file_system_id, volume_id=volume_id
                )
            try:
                outcome = _create_when_not_busy(
                    client, file_system_id=file_system_id, volume_id=volume_id, token=token,
                    tags=sent_tags, deadline=deadline, started=started, runtime=runtime,
                )
            except fsx.TokenSpentError:
                continue
            backup, adopted_by_tag = outcome.backup, outcome.adopted_by_tag
        if not usable(backup):
            if backup["Lifecycle"] == fsx.BACKUP_FAILED_STATE:
                # Left over by an earlier attempt whose cleanup did not finish: finish it now.
                _delete_quietly(client, backup["BackupId"])
            continue
        if on_progress is not None:
            on_progress(backup)
        if backup["Lifecycle"] != fsx.BACKUP_DONE_STATE:
            backup = runtime.watcher(client).wait(
                backup["BackupId"], deadline=deadline, on_progress=on_progress, initial=backup
            )
        if backup["Lifecycle"] == fsx.BACKUP_FAILED_STATE:
            deleted = _delete_quietly(client, backup["BackupId"])
            raise BackupFailedError(backup["BackupId"], fsx.failure_reason(backup), deleted=deleted)
        if adopted_by_tag and tags:
            # Tags may have changed between the interrupted run and this one.
            backup = reconcile_tags(client, backup, desired=tags, previously_managed=tags)
        return TakenBackup(backup=backup, token=token, attempt=attempt)
    raise FsxBackupError(
        f"Backup of {target}: the first {MAX_TOKEN_ATTEMPTS} request tokens of this resource all name "
        "deleted, failed or superseded backups. Change `triggers` to start a new generation of tokens."
    )


def _create_when_not_busy(
    client: Any,
    *,
    file_system_id: Optional[str],
    volume_id: Optional[str],
    token: str,
    tags: Optional[Mapping[str, str]],
    deadline: float,
    started: float,
    runtime: Runtime,
) -> fsx.CreateOutcome:
    """CreateBackup, waiting while another backup of the same file system runs (BackupInProgress)."""
    target = volume_id or file_system_id or "?"
    return wait_while_busy(
        lambda: fsx.create_backup(client, file_system_id=file_system_id, volume_id=volume_id, token=token, tags=tags),
        deadline=deadline,
        runtime=runtime,
        on_deadline=lambda _busy, _waited: BackupInProgressTimeoutError(
            target, runtime.clock() - started, "CreateBackup"
        ),
    )


T = TypeVar("T")


def wait_while_busy(
    action: Callable[[], T],
    *,
    deadline: float,
    runtime: Runtime,
    on_deadline: Callable[[fsx.BusyError, float], Exception],
) -> T:
    """Run ``action`` until FSx stops answering "busy" (BusyError), pausing 5 s growing x1.5 up to
    30 s; past the deadline raise ``on_deadline(last busy answer, seconds waited)``."""
    started = runtime.clock()
    pause = BUSY_FIRST_WAIT
    while True:
        try:
            return action()
        except fsx.BusyError as busy:
            now = runtime.clock()
            if now >= deadline:
                raise on_deadline(busy, now - started) from None
            runtime.sleep(min(pause, max(0.0, deadline - now)))
            pause = min(BUSY_MAX_WAIT, pause * 1.5)


def _delete_quietly(client: Any, backup_id: str) -> bool:
    try:
        fsx.delete_backup(client, backup_id, delete_token(backup_id))
        return True
    except FsxBackupError:
        return False


def remove_backup(client: Any, backup_id: str, *, deadline: float, runtime: Runtime) -> bool:
    """Delete the backup; already gone is success. Busy (in progress, being copied) waits until the
    deadline. Returns True when this call deleted it."""
    return wait_while_busy(
        lambda: fsx.delete_backup(client, backup_id, delete_token(backup_id)),
        deadline=deadline,
        runtime=runtime,
        on_deadline=lambda busy, waited: FsxBackupError(
            f"DeleteBackup of {backup_id}: FSx kept answering {busy.code} for {waited:.0f}s (the "
            "`timeout_seconds` deadline). The backup is still in the stack; run `pulumi destroy` (or "
            "`pulumi up`) again once it is idle."
        ),
    )


def user_tags(backup: Backup) -> dict[str, str]:
    """The backup's tags as AWS reports them, without the component's own token tag."""
    return {t["Key"]: t["Value"] for t in backup.get("Tags") or [] if t["Key"] != fsx.TOKEN_TAG_KEY}


def reconcile_tags(
    client: Any,
    backup: Backup,
    *,
    desired: Mapping[str, str],
    previously_managed: Mapping[str, str],
) -> Backup:
    """Make the backup's tags match ``desired``: add/overwrite, and remove keys the component set
    before (or that drifted in) but the user no longer wants. The token tag is left alone."""
    current = user_tags(backup)
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    stale = (set(previously_managed) | set(current)) - set(desired) if desired else set(previously_managed)
    to_remove = {k for k in stale if k in current}
    arn = backup["ResourceARN"]
    fsx.untag_backup(client, arn, to_remove)
    fsx.tag_backup(client, arn, to_set)
    updated = dict(backup)
    kept = [t for t in backup.get("Tags") or [] if t["Key"] not in to_remove and t["Key"] not in to_set]
    updated["Tags"] = kept + [{"Key": k, "Value": v} for k, v in sorted(to_set.items())]
    return updated


# ---------------------------------------------------------------------------------------------
# Target look-ups for check(): coalesced and cached per client (see watcher.Coalescer).


class TargetLookups:
    """Facts about file systems and volumes, shared by all concurrent check() calls of a region."""

    def __init__(
        self, client: Any, *, clock: Callable[[], float] = time.monotonic, wait: WaitFn = condition_wait
    ) -> None:
        self._file_systems: Coalescer[Optional[fsx.FileSystem]] = Coalescer(
            lambda ids: fsx.describe_file_systems(client, ids), clock=clock, wait=wait
        )
        self._volumes: Coalescer[Optional[fsx.Volume]] = Coalescer(
            lambda ids: fsx.describe_volumes(client, ids), clock=clock, wait=wait
        )
        self._associations: Coalescer[int] = Coalescer(
            lambda ids: fsx.count_data_repository_associations(client, ids), clock=clock, wait=wait
        )

    def file_system(self, file_system_id: str) -> Optional[FileSystemFacts]:
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
        volume = self._volumes.get(volume_id)
        if volume is None:
            return None
        ontap = volume.get("OntapConfiguration") or {}
        return VolumeFacts(
            volume_id=volume_id,
            volume_type=volume.get("VolumeType"),
            ontap_volume_type=ontap.get("OntapVolumeType"),
            flexcache_endpoint_type=ontap.get("FlexCacheEndpointType"),
            lifecycle=volume.get("Lifecycle"),
        )


class ProgressReporter:
    """Turns backup descriptions into user-visible progress at a sensible rate: every lifecycle
    change, and otherwise at most one message per ``min_interval`` seconds."""

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 10.0,
    ) -> None:
        self._emit = emit
        self._clock = clock
        self._min_interval = min_interval
        self._last: Optional[tuple[str, Optional[int]]] = None
        self._last_at = float("-inf")

    def __call__(self, backup: Backup) -> None:
        lifecycle = backup.get("Lifecycle", "?")
        percent = backup.get("ProgressPercent")
        now = self._clock()
        state = (lifecycle, percent)
        if state == self._last:
            return
        if self._last is not None and lifecycle == self._last[0] and now - self._last_at < self._min_interval:
            return
        self._last, self._last_at = state, now
        shown = f" {percent}%" if percent is not None else ""
        self._emit(f"FSx backup {backup.get('BackupId', '?')}: {lifecycle}{shown}")


# ---------------------------------------------------------------------------------------------
# Cross-region copies (disaster recovery). Every copy is made with a client of its destination
# region, with its own deterministic token, and waited on by that region's shared watcher.

ClientFor = Callable[[str], Any]

# Copy errors that another attempt would meet again (as opposed to a deadline).
PERMANENT_COPY_ERRORS = (CopyRefusedError, QuotaExceededError, BackupFailedError)


def copy_key(destination: Mapping[str, Any]) -> str:
    """A destination as the token sees it: a new KMS key for a region means a new copy."""
    return f"{destination['region']}|{destination.get('kms_key_id') or ''}"


def make_copies(
    source_client: Any,
    source: Backup,
    destinations: Sequence[Mapping[str, Any]],
    *,
    resource_urn: str,
    generation: str,
    copy_tags: bool,
    deadline: float,
    runtime: Runtime,
    client_for: ClientFor,
    on_progress: Optional[ProgressCallback] = None,
) -> list[dict[str, Any]]:
    """Copy an AVAILABLE backup to each destination region; return once every copy is AVAILABLE.

    All copies are started before any is waited on, so they run side by side.
    """
    source_region = fsx.client_region(source_client)
    started: list[tuple[Mapping[str, Any], Any, Backup]] = []
    try:
        for destination in destinations:
            client = client_for(destination["region"])
            copy = _start_copy(
                client, source, destination, source_region=source_region, resource_urn=resource_urn,
                generation=generation, copy_tags=copy_tags, deadline=deadline, runtime=runtime,
            )
            started.append((destination, client, copy))
        copies = []
        for destination, client, copy in started:
            if copy["Lifecycle"] != fsx.BACKUP_DONE_STATE:
                copy = runtime.watcher(client).wait(
                    copy["BackupId"], deadline=deadline, on_progress=on_progress, initial=copy
                )
            if copy["Lifecycle"] == fsx.BACKUP_FAILED_STATE:
                deleted = _delete_quietly(client, copy["BackupId"])
                started = [entry for entry in started if entry[2]["BackupId"] != copy["BackupId"]]
                raise BackupFailedError(copy["BackupId"], fsx.failure_reason(copy), deleted=deleted)
            copies.append(copy_state(destination, copy))
        return copies
    except PERMANENT_COPY_ERRORS:
        # A refusal will not go away by itself: the copies this call started belong to no stack,
        # so they go. (A deadline keeps them: the next `up` adopts them through their tokens.)
        for _destination, client, copy in started:
            _remove_quietly(client, copy["BackupId"], deadline=deadline, runtime=runtime)
        raise


def _start_copy(
    client: Any,
    source: Backup,
    destination: Mapping[str, Any],
    *,
    source_region: str,
    resource_urn: str,
    generation: str,
    copy_tags: bool,
    deadline: float,
    runtime: Runtime,
) -> Backup:
    material = f"{generation}|copy|{copy_key(destination)}|{source['BackupId']}"
    # The durable marker of a copy is its SourceBackupId: a copy started by an interrupted run is
    # found even after FSx has forgotten the copy's request token.
    existing = fsx.find_copy_of(client, source)
    if existing is not None and existing["Lifecycle"] != fsx.BACKUP_FAILED_STATE:
        return existing
    if existing is not None:
        _delete_quietly(client, existing["BackupId"])
    attempt = 0
    while attempt < MAX_TOKEN_ATTEMPTS:
        token = derive_token(resource_urn, material, attempt)
        try:
            # At most 5 copies in progress per destination region (section 6): wait, do not fail.
            copy = wait_while_busy(
                lambda token=token: fsx.copy_backup(  # type: ignore[misc]
                    client,
                    source_backup_id=source["BackupId"],
                    source_region=source_region,
                    token=token,
                    kms_key_id=destination.get("kms_key_id"),
                    copy_tags=copy_tags,
                    tags=None,
                ),
                deadline=deadline,
                runtime=runtime,
                on_deadline=lambda busy, waited: FsxBackupError(
                    f"copy_to_regions: copying {source['BackupId']} to {destination['region']}: FSx kept "
                    f"answering {busy.code} for {waited:.0f}s (the `timeout_seconds` deadline). "
                    "Run `pulumi up` again later."
                ),
            )
        except fsx.TokenSpentError:
            # The token made a copy with other parameters (copy_tags changed since an interrupted
            # run): adopt that copy if it is still there, else use the next token.
            existing = fsx.find_copy_of(client, source)
            if existing is not None:
                return existing
            attempt += 1
            continue
        if copy["Lifecycle"] in (fsx.BACKUP_DELETED_STATE, fsx.BACKUP_FAILED_STATE):
            if copy["Lifecycle"] == fsx.BACKUP_FAILED_STATE:
                _delete_quietly(client, copy["BackupId"])
            attempt += 1
            continue
        return copy
    raise FsxBackupError(
        f"copy_to_regions: the first {MAX_TOKEN_ATTEMPTS} copy tokens for {destination['region']} all "
        "name deleted or failed copies. Change `triggers` to start a new generation."
    )


def _remove_quietly(client: Any, backup_id: str, *, deadline: float, runtime: Runtime) -> bool:
    try:
        return remove_backup(client, backup_id, deadline=deadline, runtime=runtime)
    except FsxBackupError:
        return False


def copy_state(destination: Mapping[str, Any], copy: Backup) -> dict[str, Any]:
    return {
        "region": destination["region"],
        "requested_kms_key_id": destination.get("kms_key_id"),
        "backup_id": copy["BackupId"],
        "backup_arn": copy.get("ResourceARN"),
        "lifecycle": copy["Lifecycle"],
        "kms_key_id": copy.get("KmsKeyId"),
    }


def refresh_copies(copies: list[Mapping[str, Any]], client_for: ClientFor) -> list[dict[str, Any]]:
    """The copies that still exist, as AWS reports them now (a copy deleted out of band drops out)."""
    alive = []
    for copy in copies:
        live = fsx.find_backup(client_for(copy["region"]), copy["backup_id"])
        if live is not None:
            alive.append({**copy, "lifecycle": live["Lifecycle"], "kms_key_id": live.get("KmsKeyId")})
    return alive


def remove_copies(
    copies: list[Mapping[str, Any]], *, client_for: ClientFor, deadline: float, runtime: Runtime
) -> None:
    for copy in copies:
        remove_backup(client_for(copy["region"]), copy["backup_id"], deadline=deadline, runtime=runtime)
