"""The dynamic provider: translates the engine's calls into ``operations`` and back. No boto3 here.

The class is pickled *by reference* into every stack's state (``__provider``), so its import path
``fsx_backup_component.provider.BackupProvider`` must never change, and the instance carries no state
(no client, no credentials, no config): everything it needs is built inside the host process.

What the Python host passes (pulumi-dynamic-host.md): create() never sees the URN, so the component
passes ``resource_urn`` as an input; diff/update/delete see OLD OUTPUTS, so every input is echoed
among the outputs under the same name.
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Optional, TypedDict

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime import rpc

from . import _host, eligibility, fsx, operations
from .eligibility import Failure, FileSystemFacts, VolumeFacts
from .errors import FsxBackupError, InvalidInputError
from .token import generation_key

# Inputs the component sends (and that are echoed among the outputs).
RESOURCE_URN = "resource_urn"
TARGET_FILE_SYSTEM_ID = "target_file_system_id"
TARGET_VOLUME_ID = "target_volume_id"
TARGET_FACTS = "target_facts"
TAGS = "tags"
TRIGGERS = "triggers"
TIMEOUT_SECONDS = "timeout_seconds"
REGION = "region"
COPY_TO_REGIONS = "copy_to_regions"
COPY_TAGS = "copy_tags"
COPIES = "copies"
LIFE = "life"
DELETE_SUPERSEDED = "delete_superseded"

INPUT_KEYS = (
    RESOURCE_URN, TARGET_FILE_SYSTEM_ID, TARGET_VOLUME_ID, TARGET_FACTS, TAGS, TRIGGERS, TIMEOUT_SECONDS, REGION,
    COPY_TO_REGIONS, COPY_TAGS, LIFE, DELETE_SUPERSEDED,
)
# A new target (another file system or volume, or another region) is an update that takes a backup of
# the new target and keeps the old backup, the only copy of the old target's data (tagged
# SUPERSEDED_TAG_KEY), unless `delete_superseded` is set.
TARGET_KEYS = (TARGET_FILE_SYSTEM_ID, TARGET_VOLUME_ID, REGION)
# New triggers are a rotation the user asked for: a new backup replaces the old one.
REPLACE_KEYS = (TRIGGERS,)
GENERATION_KEYS = TARGET_KEYS + REPLACE_KEYS
SUPERSEDED_TAG_KEY = "fsx-backup-component:superseded-by"
# The tags the user asked for last time; `tags` among outputs is what AWS reports (drift shows).
MANAGED_TAGS = "managed_tags"


class BackupInputs(TypedDict, total=False):
    """Inputs of the dynamic resource, as the component builds them."""

    resource_urn: str
    target_file_system_id: Optional[str]
    target_volume_id: Optional[str]
    target_facts: Optional[dict[str, Any]]
    tags: Optional[dict[str, str]]
    triggers: Any
    timeout_seconds: float
    region: Optional[str]
    copy_to_regions: list[dict[str, Optional[str]]]
    copy_tags: bool


class BackupState(BackupInputs, total=False):
    """Outputs stored in state: the inputs plus what FSx reported (kept small: no FS snapshot)."""

    backup_id: str
    backup_arn: str
    lifecycle: str
    file_system_id: Optional[str]
    volume_id: Optional[str]
    file_system_type: Optional[str]
    resource_type: Optional[str]
    creation_time: Optional[str]
    kms_key_id: Optional[str]
    client_request_token: str
    token_attempt: int
    managed_tags: dict[str, str]
    resolved_region: str
    copies: list[dict[str, Any]]


_RUNTIME = operations.Runtime()
_ENGINE_LOG = _host.EngineLog.from_argv()
if _host.running_in_dynamic_host():
    _host.widen_host_thread_pool(warn=lambda message: _ENGINE_LOG.warn("", message))


def _unwrap(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


def _unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or value == rpc.UNKNOWN


class BackupProvider(ResourceProvider):
    """Engine-facing provider of ``fsx-backup:index:FsxBackup``'s child resource."""

    def __init__(self) -> None:
        self._config_region: Optional[str] = None

    def __getstate__(self) -> dict[str, Any]:
        # Nothing configured in a host process may ever reach `__provider` in state.
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self._config_region = None

    def configure(self, req: ConfigureRequest) -> None:
        region = req.config.get("aws:region")
        self._config_region = _unwrap(region) if isinstance(_unwrap(region), str) else None

    # -- helpers -----------------------------------------------------------------------------

    def _region(self, props: Mapping[str, Any]) -> Optional[str]:
        explicit = _unwrap(props.get(REGION))
        if isinstance(explicit, str) and explicit:
            return explicit
        return self._config_region or fsx.default_region()

    def _deadline(self, props: Mapping[str, Any]) -> float:
        timeout = _unwrap(props.get(TIMEOUT_SECONDS)) or eligibility.DEFAULT_TIMEOUT_SECONDS
        return _RUNTIME.clock() + float(timeout)

    # -- check (runs at preview: read-only) --------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {k: _unwrap(v) for k, v in news.items()}
        inputs.setdefault(TIMEOUT_SECONDS, eligibility.DEFAULT_TIMEOUT_SECONDS)
        # An existing backup that stays the same generation makes no new backup, so its target is
        # not looked up again: a backup outlives its file system, and must not block `up` then.
        same_generation = bool(olds) and not any(_changed(olds.get(k), inputs.get(k)) for k in GENERATION_KEYS)
        failures = self._check_failures(inputs, look_up_target=not same_generation)
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    def _check_failures(self, inputs: Mapping[str, Any], *, look_up_target: bool = True) -> list[Failure]:
        fs_id, vol_id = inputs.get(TARGET_FILE_SYSTEM_ID), inputs.get(TARGET_VOLUME_ID)
        failures = eligibility.check_target_choice(
            file_system_id=fs_id,
            volume_id=vol_id,
            file_system_known=not _unknown(fs_id),
            volume_known=not _unknown(vol_id),
        )
        if fs_id is not None and not _unknown(fs_id):
            failures += eligibility.check_file_system_id(fs_id)
        if vol_id is not None and not _unknown(vol_id):
            failures += eligibility.check_volume_id(vol_id)
        tags = inputs.get(TAGS)
        if not _unknown(tags) and not (isinstance(tags, Mapping) and any(_unknown(v) for v in tags.values())):
            failures += eligibility.check_tags(tags)
        timeout = inputs.get(TIMEOUT_SECONDS)
        if not _unknown(timeout):
            failures += eligibility.check_timeout(timeout)
        region_input = inputs.get(REGION)
        if _unknown(region_input):
            return failures
        failures += eligibility.check_region_syntax(region_input)
        if failures:
            return failures
        region = self._region(inputs)
        if region is None:
            return [
                Failure(
                    "region",
                    "no AWS region is set: set the `region` input, `pulumi config set aws:region <region>`, "
                    "or AWS_REGION",
                )
            ]
        failures += eligibility.check_region_syntax(region)
        if failures:
            return failures
        copies = inputs.get(COPY_TO_REGIONS)
        if not _unknown(copies):
            failures += eligibility.check_copy_destinations(
                copies, source_region=region, known_regions=fsx.known_regions(), partition_of=fsx.partition_of
            )
        destinations = [] if _unknown(copies) else [d["region"] for d in _destinations(copies)]
        self._warn_unknown_regions(inputs, [region, *destinations])
        if not look_up_target:
            return failures
        return failures + self._eligibility_failures(inputs, region)

    def _warn_unknown_regions(self, inputs: Mapping[str, Any], regions: list[Any]) -> None:
        """A well-formed region botocore does not know may be newer than the installed botocore, or
        one of a new partition: say so, and let FSx answer for it."""
        known = fsx.known_regions()
        urn = inputs.get(RESOURCE_URN)
        for region in dict.fromkeys(r for r in regions if isinstance(r, str) and r not in known):
            _ENGINE_LOG.warn(
                urn if isinstance(urn, str) else "",
                f"region {region!r} is not in the installed botocore's list of FSx regions; going on "
                "(upgrade boto3/botocore if FSx cannot be reached there)",
            )

    def _eligibility_failures(self, inputs: Mapping[str, Any], region: str) -> list[Failure]:
        fs_id, vol_id = inputs.get(TARGET_FILE_SYSTEM_ID), inputs.get(TARGET_VOLUME_ID)
        facts = inputs.get(TARGET_FACTS)
        facts = facts if isinstance(facts, Mapping) else {}
        known_facts = {k: v for k, v in facts.items() if not _unknown(v)}
        if _unknown(fs_id) or _unknown(vol_id):
            # Target still being created: judge from its known inputs (deployment type, S3 paths...).
            if vol_id is not None:
                return eligibility.check_volume(VolumeFacts(**_pick(known_facts, VolumeFacts)))
            return eligibility.check_file_system(FileSystemFacts(**_pick(known_facts, FileSystemFacts)))
        lookups = _RUNTIME.lookups(fsx.client_for(region))
        try:
            if vol_id is not None:
                volume = lookups.volume(vol_id)
                if volume is None:
                    return [Failure("volume_id", f"{vol_id} was not found in region {region}")]
                return eligibility.check_volume(volume)
            file_system = lookups.file_system(str(fs_id))
            if file_system is None:
                return [Failure("file_system_id", f"{fs_id} was not found in region {region}")]
            return eligibility.check_file_system(file_system)
        except Exception as exc:  # noqa: BLE001 - a look-up problem is reported, not a crash
            prop = "volume_id" if vol_id is not None else "file_system_id"
            target = str(vol_id or fs_id)
            problem = fsx.as_package_error(exc, target, "Describe")
            return [Failure(prop, f"could not look up {target} in {region}: {problem}")]

    # -- diff / update ------------------------------------------------------------------------

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        retargeted = [k for k in TARGET_KEYS if _changed(olds.get(k), news.get(k))]
        replaces = [] if retargeted else [k for k in REPLACE_KEYS if _changed(olds.get(k), news.get(k))]
        if olds.get("lifecycle") == fsx.BACKUP_DELETED_STATE:
            replaces.append("lifecycle")  # source deleted outside Pulumi, copies kept: a new generation
        changed = list(replaces) + retargeted
        if _changed(olds.get(LIFE), news.get(LIFE)):
            changed.append(LIFE)
        if _changed(olds.get(DELETE_SUPERSEDED), news.get(DELETE_SUPERSEDED)):
            changed.append(DELETE_SUPERSEDED)
        new_tags = _unwrap(news.get(TAGS))
        if _unknown(new_tags) or _tags_differ(olds, new_tags):
            changed.append(TAGS)
        if _changed(olds.get(TIMEOUT_SECONDS), news.get(TIMEOUT_SECONDS)):
            changed.append(TIMEOUT_SECONDS)
        if _changed(olds.get(TARGET_FACTS), news.get(TARGET_FACTS)):
            changed.append(TARGET_FACTS)
        if _copies_differ(olds, news):
            changed.append(COPY_TO_REGIONS)
        if _changed(olds.get(COPY_TAGS), news.get(COPY_TAGS)):
            changed.append(COPY_TAGS)  # applies to copies made from now on
        # resource_urn and __provider never cause a diff: same resource, same provider class.
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[RESOURCE_URN] if retargeted else [RESOURCE_URN, "backup_id", "backup_arn"],
            delete_before_replace=False,
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("lifecycle") != fsx.BACKUP_DELETED_STATE and any(
            _changed(olds.get(k), news.get(k)) for k in TARGET_KEYS
        ):
            return UpdateResult(outs=self._retarget(olds, news))
        state: dict[str, Any] = {k: _unwrap(v) for k, v in olds.items() if k != "__provider"}
        for key in INPUT_KEYS:
            if key != TAGS:  # `tags` among outputs is what AWS reports; set below when it changes
                state[key] = _unwrap(news.get(key))
        desired = _unwrap(news.get(TAGS)) or {}
        previously = olds.get(MANAGED_TAGS) or {}
        if _tags_differ(olds, desired):
            client = fsx.client_for(olds.get("resolved_region") or self._region(news))
            backup = _existing_backup(client, _backup_id(olds, id_), "its tags cannot be updated")
            backup = operations.reconcile_tags(client, backup, desired=desired, previously_managed=previously)
            state[TAGS] = operations.user_tags(backup)
        state[MANAGED_TAGS] = dict(desired)
        if _copies_differ(olds, news):
            state[COPIES] = self._reconcile_copies(id_, state, olds)
        return UpdateResult(outs=state)

    def _reconcile_copies(self, id_: str, state: Mapping[str, Any], olds: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Make copies match `copy_to_regions`: copy to new (or out-of-band deleted) destinations,
        delete copies of destinations no longer wanted."""
        wanted = _destinations(state.get(COPY_TO_REGIONS))
        existing = list(olds.get(COPIES) or [])
        wanted_keys = {operations.copy_key(d) for d in wanted}
        keep = [c for c in existing if _copy_key_of(c) in wanted_keys]
        drop = [c for c in existing if _copy_key_of(c) not in wanted_keys]
        missing = [d for d in wanted if operations.copy_key(d) not in {_copy_key_of(c) for c in keep}]
        deadline = self._deadline(state)
        operations.remove_copies(drop, client_for=fsx.client_for, deadline=deadline, runtime=_RUNTIME)
        if missing:
            source_client = fsx.client_for(state.get("resolved_region") or self._region(state))
            source = _existing_backup(source_client, _backup_id(olds, id_), "it cannot be copied")
            keep += operations.make_copies(
                source_client, source, missing, resource_urn=str(state[RESOURCE_URN]),
                generation=_generation(state), copy_tags=_copy_tags(state), deadline=deadline,
                runtime=_RUNTIME, client_for=fsx.client_for,
            )
        order = {operations.copy_key(d): i for i, d in enumerate(wanted)}
        return sorted(keep, key=lambda c: order.get(_copy_key_of(c), len(order)))

    # -- create / read / delete ---------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._take({k: _unwrap(props.get(k)) for k in INPUT_KEYS})
        return CreateResult(id_=outs["backup_id"], outs=outs)

    def _take(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Take (or adopt) this generation's backup and its copies; return the state to store."""
        failures = self._syntax_failures(inputs)
        if failures:
            raise InvalidInputError(failures[0].property, failures[0].reason)
        region = self._region(inputs)
        client = fsx.client_for(region)
        urn = str(inputs[RESOURCE_URN])
        fs_id, vol_id = inputs.get(TARGET_FILE_SYSTEM_ID), inputs.get(TARGET_VOLUME_ID)
        generation = _generation(inputs)
        reporter = operations.ProgressReporter(lambda message: _ENGINE_LOG.info(urn, message))
        deadline = self._deadline(inputs)
        taken = operations.take_backup(
            client,
            resource_urn=urn,
            generation=generation,
            file_system_id=fs_id,
            volume_id=vol_id,
            tags=inputs.get(TAGS) or None,
            deadline=deadline,
            runtime=_RUNTIME,
            on_progress=reporter,
        )
        # Deliver the last status lines before the engine hears the resource is created.
        _ENGINE_LOG.flush(timeout=2.0)
        outs = backup_state(inputs, taken.backup, region=fsx.client_region(client))
        outs["client_request_token"] = taken.token
        outs["token_attempt"] = taken.attempt
        destinations = _destinations(inputs.get(COPY_TO_REGIONS))
        if destinations:
            try:
                outs[COPIES] = operations.make_copies(
                    client, taken.backup, destinations, resource_urn=urn, generation=generation,
                    copy_tags=_copy_tags(inputs), deadline=deadline, runtime=_RUNTIME,
                    client_for=fsx.client_for, on_progress=reporter,
                )
            except operations.PERMANENT_COPY_ERRORS:
                # create() fails, so the engine will not record the source: delete it rather than
                # leave it in no stack. The next `up` moves past its token to a fresh backup.
                operations.remove_backup(client, taken.backup["BackupId"], deadline=deadline, runtime=_RUNTIME)
                raise
        return outs

    def _retarget(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """The target changed: back up the new target, then keep the old backup and its copies
        (tagged as superseded) or, when the user opted in with `delete_superseded`, delete them."""
        old_state = {k: _unwrap(v) for k, v in olds.items() if k != "__provider"}
        inputs = {k: _unwrap(news.get(k)) for k in INPUT_KEYS}
        outs = self._take(inputs)
        old_id = str(old_state.get("backup_id"))
        old_client = fsx.client_for(old_state.get("resolved_region") or self._region(old_state))
        old_copies = list(old_state.get(COPIES) or [])
        urn = str(inputs[RESOURCE_URN])
        if inputs.get(DELETE_SUPERSEDED):
            deadline = self._deadline(inputs)
            operations.remove_copies(old_copies, client_for=fsx.client_for, deadline=deadline, runtime=_RUNTIME)
            operations.remove_backup(old_client, old_id, deadline=deadline, runtime=_RUNTIME)
            return outs
        marker = {SUPERSEDED_TAG_KEY: str(outs["backup_id"])}
        kept = [(old_client, old_id, old_state.get("backup_arn"))] + [
            (fsx.client_for(c["region"]), c["backup_id"], c.get("backup_arn")) for c in old_copies
        ]
        for client, backup_id, arn in kept:
            try:
                if arn:
                    fsx.tag_backup(client, str(arn), marker)
            except FsxBackupError as exc:
                _ENGINE_LOG.warn(urn, f"kept superseded backup {backup_id} but could not tag it: {exc}")
        _ENGINE_LOG.warn(
            urn,
            f"the target changed: backup {old_id} of the old target is kept (tagged {SUPERSEDED_TAG_KEY}); "
            "delete it in AWS when you no longer need it, or set `delete_superseded=True`",
        )
        return outs

    def _syntax_failures(self, inputs: Mapping[str, Any]) -> list[Failure]:
        fs_id, vol_id = inputs.get(TARGET_FILE_SYSTEM_ID), inputs.get(TARGET_VOLUME_ID)
        failures = eligibility.check_target_choice(
            file_system_id=fs_id, volume_id=vol_id, file_system_known=True, volume_known=True
        )
        if fs_id is not None:
            failures += eligibility.check_file_system_id(fs_id)
        if vol_id is not None:
            failures += eligibility.check_volume_id(vol_id)
        failures += eligibility.check_tags(inputs.get(TAGS))
        if not isinstance(inputs.get(RESOURCE_URN), str):
            failures.append(Failure(RESOURCE_URN, "missing; create FsxBackup through the component"))
        return failures

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        state = {k: _unwrap(v) for k, v in props.items() if k != "__provider"}
        region = state.get("resolved_region") or self._region(state)
        backup = fsx.find_backup(fsx.client_for(region), _backup_id(state, id_))
        copies = operations.refresh_copies(list(state.get(COPIES) or []), fsx.client_for)
        if backup is None and not copies:
            # Deleted outside Pulumi: an empty ID tells the engine the resource is gone.
            return ReadResult("", {})
        if backup is None:
            # The source is gone but copies live on: keep the resource so that the next `up`
            # replaces it (diff sees lifecycle DELETED) and `destroy` still deletes the copies.
            return ReadResult(id_=id_, outs={**state, "lifecycle": fsx.BACKUP_DELETED_STATE, COPIES: copies})
        inputs = {k: state.get(k) for k in INPUT_KEYS}
        outs = backup_state(inputs, backup, region=str(region))
        for key in ("client_request_token", "token_attempt", MANAGED_TAGS):
            if key in state:
                outs[key] = state[key]
        outs[COPIES] = copies
        return ReadResult(id_=id_, outs=outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        state = {k: _unwrap(v) for k, v in props.items()}
        region = state.get("resolved_region") or self._region(state)
        deadline = self._deadline(state)
        # Copies first: FSx refuses to delete a source while a copy of it is in progress.
        operations.remove_copies(
            list(state.get(COPIES) or []), client_for=fsx.client_for, deadline=deadline, runtime=_RUNTIME
        )
        operations.remove_backup(fsx.client_for(region), _backup_id(state, id_), deadline=deadline, runtime=_RUNTIME)


def _existing_backup(client: Any, backup_id: str, consequence: str) -> fsx.Backup:
    backup = fsx.find_backup(client, backup_id)
    if backup is None:
        raise FsxBackupError(
            f"FSx backup {backup_id} no longer exists, so {consequence}. Run `pulumi refresh` and then "
            "`pulumi up` to take a new backup."
        )
    return backup


def _backup_id(state: Mapping[str, Any], resource_id: str) -> str:
    """The backup the state holds. The resource ID is the first backup's: an update to a new target
    cannot change a resource ID, so `backup_id` is what names the current backup."""
    return str(state.get("backup_id") or resource_id)


def _generation(inputs: Mapping[str, Any]) -> str:
    return generation_key(
        file_system_id=inputs.get(TARGET_FILE_SYSTEM_ID),
        volume_id=inputs.get(TARGET_VOLUME_ID),
        triggers=inputs.get(TRIGGERS),
        life=inputs.get(LIFE) if isinstance(inputs.get(LIFE), str) else None,
    )


def _copy_tags(inputs: Mapping[str, Any]) -> bool:
    value = inputs.get(COPY_TAGS)
    return True if value is None else bool(value)


def _destinations(value: Any) -> list[dict[str, Any]]:
    """`copy_to_regions` as a list of {"region", "kms_key_id"}; plain strings are regions."""
    destinations = []
    for item in _unwrap(value) or []:
        item = _unwrap(item)
        if isinstance(item, str):
            destinations.append({"region": item, "kms_key_id": None})
        elif isinstance(item, Mapping):
            destinations.append({"region": item.get("region"), "kms_key_id": item.get("kms_key_id")})
    return destinations


def _copy_key_of(copy: Mapping[str, Any]) -> str:
    return operations.copy_key({"region": copy.get("region"), "kms_key_id": copy.get("requested_kms_key_id")})


def _copies_differ(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """Wanted destinations differ from the copies in state (a change of input, or a copy deleted
    outside Pulumi and dropped by refresh)."""
    new_value = news.get(COPY_TO_REGIONS)
    if _unknown(new_value):
        return True
    wanted = sorted(operations.copy_key(d) for d in _destinations(new_value))
    have = sorted(_copy_key_of(c) for c in olds.get(COPIES) or [])
    return wanted != have


def _pick(values: Mapping[str, Any], cls: type) -> dict[str, Any]:
    names = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    return {k: v for k, v in values.items() if k in names}


def _changed(old: Any, new: Any) -> bool:
    if _unknown(new):
        return True
    return _normalize(_unwrap(old)) != _normalize(_unwrap(new))


def _normalize(value: Any) -> Any:
    # Empty and absent mean the same to the user (an empty map of triggers is no triggers).
    if value in (None, {}, [], ""):
        return None
    return value


def _tags_differ(olds: Mapping[str, Any], new_tags: Any) -> bool:
    """Tags need an update when the user's tags changed, or when managed tags drifted in AWS
    (refresh writes what AWS reports into `tags`)."""
    new_tags = _normalize(_unwrap(new_tags))
    managed = _normalize(olds.get(MANAGED_TAGS))
    if new_tags != managed:
        return True
    if new_tags is None:
        return False
    return _normalize(_unwrap(olds.get(TAGS))) != new_tags


def backup_state(inputs: Mapping[str, Any], backup: fsx.Backup, *, region: str) -> dict[str, Any]:
    """Outputs for a backup: the inputs echoed, plus a small projection of the FSx description."""
    file_system = backup.get("FileSystem") or {}
    volume = backup.get("Volume") or {}
    created = backup.get("CreationTime")
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
            "creation_time": _iso(created),
            "kms_key_id": backup.get("KmsKeyId"),
            TAGS: operations.user_tags(backup),
            MANAGED_TAGS: dict(inputs.get(TAGS) or {}),
            "resolved_region": region,
        }
    )
    return state


def _iso(value: Any) -> Optional[str]:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(value)))
