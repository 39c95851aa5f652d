"""One backup's lifecycle: take (adopt or create) and wait until AVAILABLE, retag, mark as superseded,
remove. The rules that make a backup crash-safe live here.

A deterministic token per generation (token.py) kept in a tag on every backup; moving on past tokens
that name a DELETED/FAILED/stale backup; waiting out BackupInProgress; cleaning up FAILED backups. The
AWS calls are fsx.py's, the waits the shared watcher's (runtime.py); time is injected, so the tests
never sleep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence, TypeVar

from . import fsx
from .errors import BackupFailedError, BackupInProgressTimeoutError, FsxBackupError
from .fsx import Backup
from .runtime import Runtime
from .token import MAX_TOKEN_ATTEMPTS, delete_token, request_tokens
from .watcher import Listener

BUSY_FIRST_WAIT = 5.0
BUSY_MAX_WAIT = 30.0

# Tag put on a backup kept when its resource moved to a new target (provider's retargeting).
SUPERSEDED_TAG_KEY = "fsx-backup-component:superseded-by"

T = TypeVar("T")


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
    on_progress: Optional[Listener] = None,
    is_stale: Optional[StaleRule] = None,
    marker_tags: Optional[Mapping[str, str]] = None,
) -> TakenBackup:
    """Create (or adopt) the backup of this generation and wait until it is AVAILABLE.

    Adoption is what makes a retried `pulumi up` safe, so it is decided in this order:
    1. the durable marker: a live backup of the target whose request-token tag holds one of this
       generation's tokens (FSx may have forgotten the token itself; its window is undocumented);
    2. CreateBackup with the token, which FSx answers with the backup it already made, if it still
       remembers the token.
    A backup that is DELETED or FAILED, or that ``is_stale`` calls stale, belongs to an earlier life:
    the next derived token is used instead. ``marker_tags`` (the rotation of ``keep_last``) are sent
    on top of the tags, copied tags included, and are not the user's to reconcile.
    """
    target = volume_id or file_system_id or "?"
    started = runtime.clock()
    tokens = request_tokens(resource_urn, generation)
    # One listing shared with the other creates of this moment (lookups.py): a stack of 256 backups
    # makes about 13 listings, not 256.
    live = runtime.lookups(client).user_backups(file_system_id=file_system_id, volume_id=volume_id)
    marked = fsx.marked_by_token(live, tokens)

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
                sent_tags = dict(tags) if tags else runtime.lookups(client).tags_copied_to_backups(
                    file_system_id=file_system_id, volume_id=volume_id
                )
                if marker_tags:
                    # Room for the markers and the token tag within FSx's 50 (copied tags may fill 49).
                    room = fsx.MAX_BACKUP_TAGS - 1 - len(marker_tags)
                    sent_tags = {**dict(sorted(sent_tags.items())[:room]), **marker_tags}
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
                delete_quietly(client, backup["BackupId"])
            continue
        backup = wait_until_available(client, backup, deadline=deadline, runtime=runtime, on_progress=on_progress)
        if adopted_by_tag and tags:
            # Tags may have changed between the interrupted run and this one.
            backup = reconcile_tags(client, backup, desired=tags, previously_managed=tags)
        return TakenBackup(backup=backup, token=token, attempt=attempt)
    raise FsxBackupError(
        f"Backup of {target}: the first {MAX_TOKEN_ATTEMPTS} request tokens of this resource all name "
        "deleted, failed or superseded backups. Change `triggers` to start a new generation of tokens."
    )


def wait_until_available(
    client: Any, backup: Backup, *, deadline: float, runtime: Runtime, on_progress: Optional[Listener] = None
) -> Backup:
    """Wait (with the region's shared watcher) until ``backup`` is AVAILABLE and return it. A backup
    that ends FAILED is deleted and reported with AWS's reason (BackupFailedError)."""
    if on_progress is not None:
        on_progress(backup)
    if backup["Lifecycle"] != fsx.BACKUP_DONE_STATE:
        backup = runtime.watcher(client).wait(
            backup["BackupId"], deadline=deadline, on_progress=on_progress, initial=backup
        )
    if backup["Lifecycle"] == fsx.BACKUP_FAILED_STATE:
        deleted = delete_quietly(client, backup["BackupId"])
        raise BackupFailedError(backup["BackupId"], fsx.failure_reason(backup), deleted=deleted)
    return backup


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


def delete_quietly(client: Any, backup_id: str) -> bool:
    """One DeleteBackup, never raising (cleanup of a FAILED backup). True when it was deleted."""
    try:
        fsx.delete_backup(client, backup_id, delete_token(backup_id))
        return True
    except (FsxBackupError, fsx.BusyError):
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


def remove_quietly(client: Any, backup_id: str, *, deadline: float, runtime: Runtime) -> bool:
    """``remove_backup`` that reports a failure as False instead of raising."""
    try:
        return remove_backup(client, backup_id, deadline=deadline, runtime=runtime)
    except FsxBackupError:
        return False


def find_existing(client: Any, backup_id: str, consequence: str) -> Backup:
    """The backup the state names; gone (deleted outside Pulumi) is an error saying ``consequence``."""
    backup = fsx.find_backup(client, backup_id)
    if backup is None:
        raise FsxBackupError(
            f"FSx backup {backup_id} no longer exists, so {consequence}. Run `pulumi refresh` and then "
            "`pulumi up` to take a new backup."
        )
    return backup


def reconcile_tags(
    client: Any,
    backup: Backup,
    *,
    desired: Mapping[str, str],
    previously_managed: Mapping[str, str],
) -> Backup:
    """Make the backup's tags match ``desired``: add/overwrite, and remove keys the component set
    before (or that drifted in) but the user no longer wants. The token tag is left alone."""
    current = fsx.user_tags(backup)
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


def mark_superseded(client: Any, backup_arn: Optional[str], *, by: str) -> None:
    """Tag a kept backup (or copy) with the backup that superseded it."""
    if backup_arn:
        fsx.tag_backup(client, str(backup_arn), {SUPERSEDED_TAG_KEY: by})


@dataclass(frozen=True)
class Pruned:
    """What a prune did: the backups it kept (newest first, the one just taken first), the ones it
    deleted, and the ones FSx refused to delete, with why (they stay)."""

    kept: list[str]
    deleted: list[str]
    refused: list[tuple[str, str]]


def refused_text(refused: Sequence[tuple[str, str]]) -> str:
    """``"backup-… (why); …"``: the deletes FSx refused, for a warning or an error."""
    return "; ".join(f"{backup_id} ({reason})" for backup_id, reason in refused)


def remove_each(
    client: Any, backup_ids: Sequence[str], *, deadline: float, runtime: Runtime
) -> tuple[list[str], list[tuple[str, str]]]:
    """``remove_backup`` for each, best effort: (the ones deleted, (ID, why) of the ones refused)."""
    deleted: list[str] = []
    refused: list[tuple[str, str]] = []
    for backup_id in backup_ids:
        try:
            remove_backup(client, backup_id, deadline=deadline, runtime=runtime)
            deleted.append(backup_id)
        except FsxBackupError as exc:
            refused.append((backup_id, str(exc)))
    return deleted, refused


def prune_marked(
    client: Any,
    *,
    file_system_id: Optional[str],
    volume_id: Optional[str],
    marker: tuple[str, str],
    keep_last: int,
    keep_id: str,
    deadline: float,
    runtime: Runtime,
) -> Pruned:
    """Delete the AVAILABLE backups of the target that carry ``marker`` (a tag key and value), beyond
    the newest ``keep_last``; ``keep_id`` (the backup just taken) always counts as the newest. Newest
    by CreationTime, never by FSx's listing order (not promised). Best effort: a refused delete keeps
    that backup and is reported in ``refused``; listing errors raise (nothing was deleted then)."""
    key, value = marker
    mine = [
        b
        for b in fsx.list_user_backups(client, file_system_id=file_system_id, volume_id=volume_id)
        if fsx.tag_value(b, key) == value and b["Lifecycle"] == fsx.BACKUP_DONE_STATE
    ]
    mine.sort(key=lambda b: (b["BackupId"] == keep_id, creation_epoch(b)), reverse=True)
    beyond = [b["BackupId"] for b in mine[keep_last:]]
    deleted, refused = remove_each(client, beyond, deadline=deadline, runtime=runtime)
    return Pruned(kept=[b["BackupId"] for b in mine[:keep_last]], deleted=deleted, refused=refused)


def marked_backups(
    client: Any, *, file_system_id: Optional[str], volume_id: Optional[str], marker: tuple[str, str]
) -> list[Backup]:
    """The live backups of the target carrying ``marker``, newest first."""
    key, value = marker
    found = [
        b
        for b in fsx.list_user_backups(client, file_system_id=file_system_id, volume_id=volume_id)
        if fsx.tag_value(b, key) == value
    ]
    return sorted(found, key=creation_epoch, reverse=True)


def creation_epoch(backup: Backup) -> float:
    value = backup.get("CreationTime")
    if value is None:
        return 0.0
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)
