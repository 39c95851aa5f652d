"""Pre-change backups: a backup of the *current* file system, AVAILABLE before the engine changes it.

Design: Pulumi resource hooks. ``PreChangeBackup`` hands out a ``ResourceHookBinding`` that the user
attaches to a file system (or ONTAP volume) resource of the same program::

    guard = PreChangeBackup("lustre-guard", keep_last=3)
    fs = aws.fsx.LustreFileSystem("data", ..., opts=pulumi.ResourceOptions(hooks=guard.hooks))

The engine runs a ``before_update`` hook after it has decided to update the resource and before it
calls the AWS provider; it passes the resource's ID and old outputs. The hook takes the backup and
returns only once it is AVAILABLE, and a failing hook fails the update: the ordering holds by
construction. ``before_delete`` does the same before the old file system of a replacement (or a
removed one) is deleted. Nothing runs on the first creation (no hook for create) or when nothing
changes (no update step), and one hook call makes at most one backup: its request token is derived
from the guard, the resource and the change, so a retried `pulumi up` adopts the same backup.

A dependency-based guard (the file system ``depends_on`` a backup resource) cannot work for a file
system of the same program: the backup needs the file system's ID, which would be a cycle.

Which backup belongs to *this* change: the request token is derived from the change, so the same
change repeated later (125 -> 250, back to 125, then 125 -> 250 again) derives the same token as the
first time. A backup found through a token (its tag, or FSx's answer) is therefore adopted only when
no backup of the same guard and target is newer than it: the third change above finds the first
change's backup, sees the second change's backup is newer, and takes a fresh one. A retried `up` of
an interrupted change finds its own backup, which is the newest, and adopts it.

FSx backs up ONTAP volumes, not ONTAP file systems: a guard on an ``aws.fsx.OntapFileSystem`` lists
its volumes (DescribeVolumes, every page) and backs up each one FSx can back up, at once, each with
tokens of its own (the volume is part of the change's material); the others (DP, LS, FlexCache caches,
SVM root volumes, volumes not CREATED/AVAILABLE) are named in the log, and a file system with none
fails the preview. ``keep_last`` then counts per volume.

On a dry run (`pulumi preview`, and the preview pass of `pulumi up`) the hooks only check, read-only,
that the target can be backed up at all (not a scratch or S3-linked Lustre file system, not a DP/LS
volume), so a guard that can never succeed fails the preview, not the update.

Backups are kept (they are the rollback point). ``keep_last=N`` deletes older *pre-change* backups of
the same target made by the same guard (matched by its guard tag) once a new one is AVAILABLE; backups
without that exact tag are never touched. Pruning is best effort: a refused delete is a warning that
names what was kept, never a failed change (the new backup is already AVAILABLE).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping, Optional, Sequence

import pulumi

from . import backups, connection, eligibility, fsx, runtime
from .connection import AwsSettings
from .eligibility import DEFAULT_TIMEOUT_SECONDS, check_tags, check_timeout
from .errors import IneligibleTargetError, InvalidInputError, TargetNotFoundError
from .lookups import volume_facts
from .token import canonical_json

GUARD_TAG_KEY = "fsx-backup-component:guard"
REASON_TAG_KEY = "fsx-backup-component:reason"

FILE_SYSTEM_TYPES = {
    "aws:fsx/lustreFileSystem:LustreFileSystem",
    "aws:fsx/windowsFileSystem:WindowsFileSystem",
    "aws:fsx/openZfsFileSystem:OpenZfsFileSystem",
}
VOLUME_TYPES = {"aws:fsx/ontapVolume:OntapVolume"}
# FSx backs up ONTAP volumes only: a guard on the file system backs up each of its volumes.
ONTAP_FILE_SYSTEM_TYPE = "aws:fsx/ontapFileSystem:OntapFileSystem"
# Volume backups of one ONTAP file system taken at once (each waits on FSx, not on this process).
MAX_PARALLEL_VOLUMES = 32

# Guard tag and reason tag come on top of the token tag the component always reserves.
MAX_GUARD_USER_TAGS = 47


class PreChangeBackup:
    """Takes a backup of a file system or ONTAP volume before Pulumi updates or deletes it."""

    def __init__(
        self,
        name: str,
        *,
        keep_last: Optional[int] = None,
        tags: Optional[Mapping[str, str]] = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        region: Optional[str] = None,
        before_delete: bool = True,
        provider: Optional[pulumi.ProviderResource] = None,
        assume_roles: Optional[Sequence[Any]] = None,
        shared_config_files: Optional[Sequence[str]] = None,
        shared_credentials_files: Optional[Sequence[str]] = None,
    ) -> None:
        if keep_last is not None and (isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1):
            raise InvalidInputError("keep_last", f"must be a whole number >= 1 or None (keep all), got {keep_last!r}")
        for failure in check_tags(tags) + check_timeout(timeout_seconds):
            raise InvalidInputError(failure.property, failure.reason)
        if tags and len(tags) > MAX_GUARD_USER_TAGS:
            raise InvalidInputError(
                "tags", f"{len(tags)} tags given; at most {MAX_GUARD_USER_TAGS} (the guard adds its own two)"
            )
        self.name = name
        self.keep_last = keep_last
        self.tags = dict(tags or {})
        self.timeout_seconds = float(timeout_seconds)
        # Where and as whom: the `region` argument, else the guarded resource's region (its outputs),
        # else `provider`'s, else the stack config's; credentials from `provider` and the arguments
        # below, else the stack config's (connection.py). Checked now: a bad setting fails the program.
        given, failures = connection.settings_from_input({
            connection.ASSUME_ROLES: connection.role_maps(assume_roles),
            connection.SHARED_CONFIG_FILES: shared_config_files,
            connection.SHARED_CREDENTIALS_FILES: shared_credentials_files,
        })
        config, config_failures = connection.settings_from_config(_StackConfig())
        for failure in failures + config_failures:
            raise InvalidInputError(failure.property, failure.reason)
        self.region = region
        self.provider = provider
        self._given = given
        self._config = config
        # Identifies this guard's backups for pruning: one stack's guard never prunes another's.
        self.guard_tag = f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"
        self.backups_taken: list[str] = []
        # on_dry_run: the hooks also run in previews, where they only check the target (see above).
        dry_run = pulumi.ResourceHookOptions(on_dry_run=True)
        self._update_hook = pulumi.ResourceHook(f"{name}-before-update", self._before_update, dry_run)
        self._delete_hook = pulumi.ResourceHook(f"{name}-before-delete", self._before_delete, dry_run)
        self._before_delete_enabled = before_delete

    @property
    def hooks(self) -> pulumi.ResourceHookBinding:
        """Pass as ``ResourceOptions(hooks=guard.hooks)`` on the file system or volume."""
        return pulumi.ResourceHookBinding(
            before_update=[self._update_hook],
            before_delete=[self._delete_hook] if self._before_delete_enabled else None,
        )

    async def _before_update(self, args: pulumi.ResourceHookArgs) -> None:
        await self._backup(args, "before-update")

    async def _before_delete(self, args: pulumi.ResourceHookArgs) -> None:
        await self._backup(args, "before-delete")

    async def _backup(self, args: pulumi.ResourceHookArgs, reason: str) -> None:
        loop = asyncio.get_running_loop()
        settings = await self._settings_for(args)
        try:
            if pulumi.runtime.is_dry_run():
                await loop.run_in_executor(None, self.check, args, settings)
                return
            if args.type == ONTAP_FILE_SYSTEM_TYPE:
                taken = await loop.run_in_executor(None, self.take_volumes_of, args, reason, settings)
                pulumi.log.info(
                    f"pre-change backups of the {len(taken)} volumes of {args.id} are AVAILABLE ({reason}): "
                    + ", ".join(f"{volume} {backup}" for volume, backup in taken.items())
                )
                return
            backup_id = await loop.run_in_executor(None, self.take, args, reason, settings)
        except TargetNotFoundError:
            if reason != "before-delete":
                raise
            # Already gone (deleted outside Pulumi, or by an earlier, failed destroy): nothing is
            # left to back up, and failing here would leave the destroy unable to finish.
            pulumi.log.warn(f"PreChangeBackup {self.name!r}: {args.id} no longer exists; no backup taken")
            return
        pulumi.log.info(f"pre-change backup {backup_id} of {args.id} is AVAILABLE ({reason})")

    async def _settings_for(self, args: pulumi.ResourceHookArgs) -> AwsSettings:
        """The settings for the resource the hook fired for (see __init__ for the precedence)."""
        profile = region = None
        if self.provider is not None:
            profile = await _resolved(getattr(self.provider, "profile", None))
            region = await _resolved(getattr(self.provider, "region", None))
        old = dict(args.old_outputs or {})
        region = self.region or old.get("region") or connection.arn_region(old.get("arn")) or region
        from_provider = AwsSettings(region=region, profile=profile)
        return self._given.over(from_provider).over(self._config)

    def _own_settings(self) -> AwsSettings:
        """The settings known without the hook's arguments: the guard's own, then the stack's."""
        return self._given.over(AwsSettings(region=self.region)).over(self._config)

    def check(self, args: pulumi.ResourceHookArgs, settings: Optional[AwsSettings] = None) -> None:
        """Read-only: raise when FSx could never back up the resource the hook fired for."""
        settings = settings or self._own_settings()
        file_system_id, volume_id = _target_of(args)
        if not args.id:
            return  # not created yet: nothing to back up
        region = settings.region or fsx.default_region(settings)
        client = fsx.client_for(region, settings)
        lookups = runtime.SHARED.lookups(client)
        if args.type == ONTAP_FILE_SYSTEM_TYPE:
            self._volume_plan(client, str(file_system_id), args, str(region), settings)
            return
        failures: list[eligibility.Failure]
        if volume_id is not None:
            volume = lookups.volume(volume_id)
            if volume is None:
                raise TargetNotFoundError("hooks", volume_id, str(region), acting_as=settings.describe() or None)
            failures = eligibility.check_volume(volume)
        else:
            file_system = lookups.file_system(str(file_system_id))
            if file_system is None:
                raise TargetNotFoundError("hooks", str(file_system_id), str(region), acting_as=settings.describe() or None)
            failures = eligibility.check_file_system(file_system)
        if failures:
            raise IneligibleTargetError(
                "hooks",
                f"PreChangeBackup {self.name!r} guards {args.name}, which FSx cannot back up: "
                f"{failures[0].reason}. Remove the guard from it (a change would otherwise fail).",
            )

    def take(self, args: pulumi.ResourceHookArgs, reason: str, settings: Optional[AwsSettings] = None) -> str:
        """Blocking: back up the resource the hook fired for, prune, return the backup ID."""
        settings = settings or self._own_settings()
        file_system_id, volume_id = _target_of(args)
        client = fsx.client_for(settings.region or fsx.default_region(settings), settings)
        return self._take_one(args, reason, client, file_system_id=file_system_id, volume_id=volume_id)

    def take_volumes_of(
        self, args: pulumi.ResourceHookArgs, reason: str, settings: Optional[AwsSettings] = None
    ) -> dict[str, str]:
        """Blocking: back up every volume FSx can back up of the ONTAP file system the hook fired for,
        at once; prune each volume's own pre-change backups. Returns {volume ID: backup ID}."""
        settings = settings or self._own_settings()
        region = settings.region or fsx.default_region(settings)
        client = fsx.client_for(region, settings)
        plan = self._volume_plan(client, str(args.id), args, str(region), settings)
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_VOLUMES, len(plan.volumes))) as pool:
            futures = {
                str(v.volume_id): pool.submit(self._take_one, args, reason, client, file_system_id=None,
                                              volume_id=str(v.volume_id))
                for v in plan.volumes
            }
            return {volume_id: future.result() for volume_id, future in futures.items()}

    def _volume_plan(
        self, client: Any, file_system_id: str, args: pulumi.ResourceHookArgs, region: str, settings: AwsSettings
    ) -> eligibility.VolumePlan:
        """The volumes of the guarded ONTAP file system to back up; none is an error naming why."""
        if runtime.SHARED.lookups(client).file_system(file_system_id) is None:
            raise TargetNotFoundError("hooks", file_system_id, region, acting_as=settings.describe() or None)
        plan = eligibility.plan_volume_backups([volume_facts(v) for v in fsx.list_volumes_of(client, file_system_id)])
        if not plan.volumes:
            raise IneligibleTargetError(
                "hooks",
                f"PreChangeBackup {self.name!r} guards {args.name}: {plan.why_none(file_system_id)}. Remove the "
                "guard from it (a change would otherwise fail).",
            )
        return plan

    def _take_one(
        self, args: pulumi.ResourceHookArgs, reason: str, client: Any, *,
        file_system_id: Optional[str], volume_id: Optional[str],
    ) -> str:
        generation_material: dict[str, Any] = {
            "id": args.id,
            "reason": reason,
            "old": canonical_json(_plain(args.old_inputs)),
            "new": canonical_json(_plain(args.new_inputs)),
        }
        if args.type == ONTAP_FILE_SYSTEM_TYPE:
            generation_material["volume"] = volume_id  # each volume of the file system its own tokens
        generation = canonical_json(generation_material)
        tags = {**self.tags, GUARD_TAG_KEY: self.guard_tag, REASON_TAG_KEY: reason}
        taken = backups.take_backup(
            client,
            resource_urn=f"{self.guard_tag}|{args.urn}",
            generation=generation,
            file_system_id=file_system_id,
            volume_id=volume_id,
            tags=tags,
            deadline=runtime.SHARED.deadline(self.timeout_seconds),
            runtime=runtime.SHARED,
            is_stale=self._older_than_newest,
        )
        backup_id = str(taken.backup["BackupId"])
        self.backups_taken.append(backup_id)
        if self.keep_last is not None:
            try:
                self.prune(client, file_system_id=file_system_id, volume_id=volume_id, keep_id=backup_id)
            except Exception as exc:  # noqa: BLE001 - pruning never fails a change whose backup is AVAILABLE
                pulumi.log.warn(
                    f"PreChangeBackup {self.name!r}: backup {backup_id} is AVAILABLE, but older pre-change "
                    f"backups could not be listed for keep_last={self.keep_last}; all were kept: {exc}"
                )
        return backup_id

    def _older_than_newest(self, backup: fsx.Backup, live: Sequence[fsx.Backup]) -> bool:
        """A backup of an earlier, equal change: this guard has a newer backup of the same target."""
        created = backups.creation_epoch(backup)
        return any(
            other["BackupId"] != backup["BackupId"]
            and fsx.user_tags(other).get(GUARD_TAG_KEY) == self.guard_tag
            and backups.creation_epoch(other) > created
            for other in live
        )

    def prune(
        self, client: Any, *, file_system_id: Optional[str], volume_id: Optional[str], keep_id: str
    ) -> list[str]:
        """Delete this guard's older AVAILABLE backups of the target beyond ``keep_last``. Best effort:
        a refused delete keeps that backup and warns (the change goes ahead)."""
        assert self.keep_last is not None
        pruned = backups.prune_marked(
            client,
            file_system_id=file_system_id,
            volume_id=volume_id,
            marker=(GUARD_TAG_KEY, self.guard_tag),
            keep_last=self.keep_last,
            keep_id=keep_id,
            deadline=runtime.SHARED.deadline(self.timeout_seconds),
            runtime=runtime.SHARED,
        )
        if pruned.refused:
            pulumi.log.warn(
                f"PreChangeBackup {self.name!r}: keep_last={self.keep_last} could not delete older "
                f"pre-change backups, kept: {backups.refused_text(pruned.refused)}. Delete them later, or they are pruned "
                "at the next change."
            )
        return pruned.deleted


def _target_of(args: pulumi.ResourceHookArgs) -> tuple[Optional[str], Optional[str]]:
    if args.type in FILE_SYSTEM_TYPES:
        return args.id, None
    if args.type in VOLUME_TYPES:
        return None, args.id
    if args.type == ONTAP_FILE_SYSTEM_TYPE:
        return args.id, None  # backed up volume by volume (take_volumes_of)
    raise InvalidInputError(
        "hooks",
        f"PreChangeBackup is attached to {args.name} of type {args.type}; attach it to a "
        "pulumi_aws.fsx LustreFileSystem, WindowsFileSystem, OpenZfsFileSystem, OntapFileSystem or OntapVolume",
    )


class _StackConfig:
    """The program's stack config with the dynamic host's ``get("ns:key")`` shape."""

    def get(self, key: str) -> Any:
        namespace, _, name = key.partition(":")
        return pulumi.Config(namespace).get(name)


async def _resolved(value: Any) -> Any:
    if isinstance(value, pulumi.Output):
        return await value.future()
    return value


def _plain(value: Any) -> Any:
    if value is None:
        return None
    return {k: v for k, v in dict(value).items() if not k.startswith("__")}


