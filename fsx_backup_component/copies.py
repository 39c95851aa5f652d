"""Cross-region copies of a backup (disaster recovery): make, refresh, remove, and reconcile them
with `copy_to_regions`.

Every copy is made with a client of its destination region, with its own deterministic token, found
again through its SourceBackupId, and waited on by that region's shared watcher (runtime.py).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

from . import fsx
from .backups import delete_quietly, find_existing, remove_backup, remove_quietly, wait_while_busy
from .errors import BackupFailedError, CopyRefusedError, FsxBackupError, QuotaExceededError
from .fsx import Backup
from .runtime import Runtime
from .state import CopyState, Destination, copy_key, copy_key_of, copy_state, refreshed_copy
from .token import MAX_TOKEN_ATTEMPTS, derive_token
from .watcher import Listener

ClientFor = Callable[[Optional[str]], Any]

# Copy errors that another attempt would meet again (as opposed to a deadline).
PERMANENT_COPY_ERRORS = (CopyRefusedError, QuotaExceededError, BackupFailedError)


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
    on_progress: Optional[Listener] = None,
) -> list[CopyState]:
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
                deleted = delete_quietly(client, copy["BackupId"])
                started = [entry for entry in started if entry[2]["BackupId"] != copy["BackupId"]]
                raise BackupFailedError(copy["BackupId"], fsx.failure_reason(copy), deleted=deleted)
            copies.append(copy_state(destination, copy))
        return copies
    except PERMANENT_COPY_ERRORS:
        # A refusal will not go away by itself: the copies this call started belong to no stack,
        # so they go. (A deadline keeps them: the next `up` adopts them through their tokens.)
        for _destination, client, copy in started:
            remove_quietly(client, copy["BackupId"], deadline=deadline, runtime=runtime)
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
        delete_quietly(client, existing["BackupId"])
    attempt = 0
    while attempt < MAX_TOKEN_ATTEMPTS:
        token = derive_token(resource_urn, material, attempt)
        try:
            # At most 5 copies in progress per destination region (API_CopyBackup.html of the FSx
            # API reference): wait, do not fail.
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
                delete_quietly(client, copy["BackupId"])
            attempt += 1
            continue
        return copy
    raise FsxBackupError(
        f"copy_to_regions: the first {MAX_TOKEN_ATTEMPTS} copy tokens for {destination['region']} all "
        "name deleted or failed copies. Change `triggers` to start a new generation."
    )


def refresh_copies(copies: Sequence[CopyState], client_for: ClientFor) -> list[CopyState]:
    """The copies that still exist, as AWS reports them now (a copy deleted out of band drops out)."""
    alive = []
    for copy in copies:
        live = fsx.find_backup(client_for(copy["region"]), copy["backup_id"])
        if live is not None:
            alive.append(refreshed_copy(copy, live))
    return alive


def remove_copies(
    copies: Sequence[Mapping[str, Any]], *, client_for: ClientFor, deadline: float, runtime: Runtime
) -> None:
    for copy in copies:
        remove_backup(client_for(copy["region"]), copy["backup_id"], deadline=deadline, runtime=runtime)


def reconcile_copies(
    existing: Sequence[CopyState],
    wanted: Sequence[Destination],
    *,
    source_region: Optional[str],
    source_id: str,
    resource_urn: str,
    generation: str,
    copy_tags: bool,
    deadline: float,
    runtime: Runtime,
    client_for: ClientFor,
) -> list[CopyState]:
    """Make copies match `copy_to_regions`: copy to new (or out-of-band deleted) destinations,
    delete copies of destinations no longer wanted. Returns the copies in the order wanted."""
    wanted_keys = {copy_key(d) for d in wanted}
    keep = [c for c in existing if copy_key_of(c) in wanted_keys]
    drop = [c for c in existing if copy_key_of(c) not in wanted_keys]
    have = {copy_key_of(c) for c in keep}
    missing = [d for d in wanted if copy_key(d) not in have]
    remove_copies(drop, client_for=client_for, deadline=deadline, runtime=runtime)
    if missing:
        source_client = client_for(source_region)
        source = find_existing(source_client, source_id, "it cannot be copied")
        keep += make_copies(
            source_client, source, missing, resource_urn=resource_urn, generation=generation,
            copy_tags=copy_tags, deadline=deadline, runtime=runtime, client_for=client_for,
        )
    order = {copy_key(d): i for i, d in enumerate(wanted)}
    return sorted(keep, key=lambda c: order.get(copy_key_of(c), len(order)))
