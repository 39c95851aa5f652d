"""The steps of one ``FsxBackup`` resource (create, read, update, delete), composed from backups.py,
copies.py and state.py: each takes a typed request or state and returns the state to store."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any, Optional

from . import fsx
from .backups import (
    SUPERSEDED_TAG_KEY,
    creation_epoch,
    find_existing,
    mark_superseded,
    marked_backups,
    prune_marked,
    reconcile_tags,
    refused_text,
    remove_backup,
    remove_each,
    take_backup,
)
from .changes import copies_differ, retargets, tags_differ
from .connection import AwsSettings, settings_from_input
from .copies import (
    PERMANENT_COPY_ERRORS,
    make_copies,
    reconcile_copies,
    refresh_copies,
    remove_copies,
)
from .eligibility import check_create_inputs
from .errors import FsxBackupError, InvalidInputError
from .progress import ProgressReporter
from .runtime import Env
from .state import (
    AWS,
    COPIES,
    INPUT_KEYS,
    KEEP_LAST,
    KEPT_BACKUPS,
    KEPT_BY_READ,
    LIFECYCLE,
    MANAGED_TAGS,
    REGION,
    RESOLVED_REGION,
    TAGS,
    BackupState,
    Request,
    backup_id_of,
    backup_state,
    explicit_region,
)


def create(request: Request, env: Env) -> BackupState:
    """Take (or adopt) this generation's backup and its copies; return the state to store."""
    failures = check_create_inputs(
        resource_urn=request.resource_urn,
        file_system_id=request.file_system_id,
        volume_id=request.volume_id,
        tags=request.inputs.get(TAGS),
    )
    if failures:
        raise InvalidInputError(failures[0].property, failures[0].reason)
    settings = env.settings(request.settings)
    client = fsx.client_for(env.region(request.region, settings), settings)
    urn = str(request.resource_urn)
    generation = request.generation
    reporter = ProgressReporter(functools.partial(env.log.info, urn))
    deadline = env.runtime.deadline(request.timeout_seconds)
    taken = take_backup(
        client,
        resource_urn=urn,
        generation=generation,
        file_system_id=request.file_system_id,
        volume_id=request.volume_id,
        tags=request.tags,
        deadline=deadline,
        runtime=env.runtime,
        on_progress=reporter,
        marker_tags=dict([request.rotation_marker]) if request.rotation_marker else None,
    )
    # Deliver the last status lines before the engine hears the resource is created.
    env.log.flush(timeout=2.0)
    state = backup_state(request.inputs, taken.backup, region=fsx.client_region(client))
    state["client_request_token"] = taken.token
    state["token_attempt"] = taken.attempt
    if request.destinations:
        try:
            state[COPIES] = make_copies(
                client, taken.backup, request.destinations, resource_urn=urn, generation=generation,
                copy_tags=request.copy_tags, deadline=deadline, runtime=env.runtime,
                client_for=fsx.clients(settings), on_progress=reporter,
            )
        except PERMANENT_COPY_ERRORS:
            # create() fails, so the engine will not record the source: delete it rather than
            # leave it in no stack. The next `up` moves past its token to a fresh backup.
            remove_backup(client, taken.backup["BackupId"], deadline=deadline, runtime=env.runtime)
            raise
    if request.rotation_marker:
        state[KEPT_BACKUPS] = prune_rotation(client, request, str(taken.backup["BackupId"]), env)
    return state


def prune_rotation(client: Any, request: Request, keep_id: str, env: Env) -> list[str]:
    """keep_last: delete the rotation's AVAILABLE backups beyond the newest ``keep_last``, best effort
    (a refused delete is a warning, never a failed `up`). Returns the older backups kept, newest first."""
    assert request.rotation_marker is not None and request.keep_last is not None
    urn = str(request.resource_urn)
    try:
        pruned = prune_marked(
            client, file_system_id=request.file_system_id, volume_id=request.volume_id,
            marker=request.rotation_marker, keep_last=request.keep_last, keep_id=keep_id,
            deadline=env.runtime.deadline(request.timeout_seconds), runtime=env.runtime,
        )
    except FsxBackupError as exc:
        env.log.warn(urn, f"backup {keep_id} is AVAILABLE, but the older backups of its rotation could not "
                          f"be listed for keep_last={request.keep_last}; all were kept: {exc}")
        return []
    if pruned.refused:
        env.log.warn(urn, f"keep_last={request.keep_last} could not delete older backups, kept: "
                          f"{refused_text(pruned.refused)}. They are pruned at the next new backup, or delete them in AWS.")
    return [b for b in pruned.kept if b != keep_id] + [backup_id for backup_id, _ in pruned.refused]


def update(resource_id: str, old: BackupState, request: Request, env: Env) -> BackupState:
    """Apply new inputs: a new target is backed up (``retarget``); otherwise tags and copies are
    brought in line in place and every other input is recorded."""
    if retargets(old, request.inputs):
        return retarget(old, request, env)
    state: dict[str, Any] = dict(old)
    for key in INPUT_KEYS:
        if key != TAGS:  # `tags` among outputs is what AWS reports; set below when it changes
            state[key] = request.inputs.get(key)
    desired = request.inputs.get(TAGS) or {}
    previously = old.get(MANAGED_TAGS) or {}
    # The backup stays where it is; the new settings say as whom to reach it (a renamed profile).
    settings = env.settings(request.settings)
    if tags_differ(old, desired):
        client = fsx.client_for(old.get(RESOLVED_REGION) or env.region(request.region, settings), settings)
        backup = find_existing(client, backup_id_of(old, resource_id), "its tags cannot be updated")
        backup = reconcile_tags(client, backup, desired=desired, previously_managed=previously)
        state[TAGS] = fsx.user_tags(backup)
    state[MANAGED_TAGS] = dict(desired)
    marker = request.rotation_marker
    if marker is not None and (old.get("rotation") != request.rotation or old.get(KEEP_LAST) != request.keep_last):
        # keep_last was set (or changed) without a new backup: the current one joins the rotation now.
        client = fsx.client_for(old.get(RESOLVED_REGION) or env.region(request.region, settings), settings)
        backup_id = backup_id_of(old, resource_id)
        if old.get("backup_arn"):
            fsx.tag_backup(client, str(old.get("backup_arn")), dict([marker]))
        state[KEPT_BACKUPS] = prune_rotation(client, request, backup_id, env)
    elif marker is None:
        state[KEPT_BACKUPS] = []
    if copies_differ(old, request.inputs):
        # Every input but `tags` in `state` is the request's now.
        state[COPIES] = reconcile_copies(
            list(old.get(COPIES) or []),
            request.destinations,
            source_region=state.get(RESOLVED_REGION) or env.region(request.region, settings),
            source_id=backup_id_of(old, resource_id),
            resource_urn=str(request.resource_urn),
            generation=request.generation,
            copy_tags=request.copy_tags,
            deadline=env.runtime.deadline(request.timeout_seconds),
            runtime=env.runtime,
            client_for=fsx.clients(settings),
        )
    return BackupState(**state)  # type: ignore[typeddict-item]


def retarget(old: BackupState, request: Request, env: Env) -> BackupState:
    """The target changed: back up the new target, then keep the old backup and its copies
    (tagged as superseded) or, when the user opted in with `delete_superseded`, delete them."""
    state = create(request, env)
    old_id = str(old.get("backup_id"))
    old_settings = stored_settings(old, env)
    old_clients = fsx.clients(old_settings)
    old_client = old_clients(old.get(RESOLVED_REGION) or env.region(explicit_region(old.get(REGION)), old_settings))
    old_copies = list(old.get(COPIES) or [])
    urn = str(request.resource_urn)
    if request.delete_superseded:
        deadline = env.runtime.deadline(request.timeout_seconds)
        remove_copies(old_copies, client_for=old_clients, deadline=deadline, runtime=env.runtime)
        remove_backup(old_client, old_id, deadline=deadline, runtime=env.runtime)
        return state
    kept = [(old_client, old_id, old.get("backup_arn"))] + [
        (old_clients(c["region"]), c["backup_id"], c.get("backup_arn")) for c in old_copies
    ]
    for client, backup_id, arn in kept:
        try:
            mark_superseded(client, arn, by=str(state["backup_id"]))
        except FsxBackupError as exc:
            env.log.warn(urn, f"kept superseded backup {backup_id} but could not tag it: {exc}")
    env.log.warn(
        urn,
        f"the target changed: backup {old_id} of the old target is kept (tagged {SUPERSEDED_TAG_KEY}); "
        "delete it in AWS when you no longer need it, or set `delete_superseded=True`",
    )
    return state


def read(resource_id: str, state: BackupState, env: Env) -> Optional[BackupState]:
    """The state as AWS reports it now; None when the backup and its copies are gone."""
    settings = stored_settings(state, env)
    clients = fsx.clients(settings)
    region = state.get(RESOLVED_REGION) or env.region(explicit_region(state.get(REGION)), settings)
    backup = fsx.find_backup(clients(region), backup_id_of(state, resource_id))
    copies = refresh_copies(list(state.get(COPIES) or []), clients)
    if backup is None and not copies:
        return None  # deleted outside Pulumi
    if backup is None:
        # The source is gone but copies live on: keep the resource so that the next `up`
        # replaces it (diff sees lifecycle DELETED) and `destroy` still deletes the copies.
        return BackupState(**{**state, LIFECYCLE: fsx.BACKUP_DELETED_STATE, COPIES: copies})
    refreshed = backup_state(state, backup, region=str(region))
    for key in KEPT_BY_READ:
        if key in state:
            refreshed[key] = state[key]  # type: ignore[literal-required]
    refreshed[COPIES] = copies
    return refreshed


def delete(resource_id: str, state: BackupState, env: Env) -> None:
    """Delete the copies, then the backup; already gone is success."""
    stored = Request.read(state)
    settings = env.settings(stored.settings)
    clients = fsx.clients(settings)
    region = state.get(RESOLVED_REGION) or env.region(stored.region, settings)
    deadline = env.runtime.deadline(stored.timeout_seconds)
    rotation = _rotation_of(state, resource_id, stored, clients(region)) if stored.rotation_marker else None
    if rotation is not None and rotation.replaced:
        return  # a newer backup of the rotation replaced this one: keeping or pruning it is keep_last's
    # Copies first: FSx refuses to delete a source while a copy of it is in progress.
    remove_copies(list(state.get(COPIES) or []), client_for=clients, deadline=deadline, runtime=env.runtime)
    remove_backup(clients(region), backup_id_of(state, resource_id), deadline=deadline, runtime=env.runtime)
    if rotation is not None:
        # Destroy: the older backups the rotation kept go with the resource.
        _, refused = remove_each(clients(region), rotation.others, deadline=deadline, runtime=env.runtime)
        if refused:
            raise FsxBackupError(
                f"Backup {backup_id_of(state, resource_id)} was deleted, but older backups it kept "
                f"(keep_last) were not: {refused_text(refused)}. Run `pulumi destroy` again."
            )


@dataclass(frozen=True)
class _Rotation:
    replaced: bool  # a newer live backup of the rotation exists: this delete is part of a replacement
    others: list[str]  # the rotation's other live backups


def _rotation_of(state: BackupState, resource_id: str, stored: Request, client: Any) -> Optional[_Rotation]:
    marker = stored.rotation_marker
    if marker is None:
        return None
    this = backup_id_of(state, resource_id)
    created = _iso_epoch(state.get("creation_time"))
    live = marked_backups(client, file_system_id=stored.file_system_id, volume_id=stored.volume_id, marker=marker)
    others = [b for b in live if b["BackupId"] != this]
    return _Rotation(
        replaced=any(creation_epoch(b) > created for b in others),
        others=[b["BackupId"] for b in others],
    )


def _iso_epoch(value: Any) -> float:
    if not value:
        return 0.0
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def stored_settings(state: BackupState, env: Env) -> AwsSettings:
    """As whom to reach a stored backup: the settings recorded with it, over the stack config's."""
    return env.settings(settings_from_input(state.get(AWS))[0])
