"""The native plugin's custom resources, ``fsx-backup:index:Backup`` and ``fsx-backup:index:Life``:
the engine's camelCase properties translated to the core's typed request and stored state, one core
call each (checks.py, changes.py, resource.py), and the answer translated back. No AWS call and no
business rule here; the gRPC plumbing is server.py.

What differs from the dynamic adapter (provider.py) is only what the engine gives a native provider:
the URN comes with every request (no ``resource_urn`` input), secrets arrive as secrets and are kept
per property, and Read gets an ID alone on `pulumi import`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from .. import changes, checks, connection, fsx, resource
from ..eligibility import DEFAULT_TIMEOUT_SECONDS, Failure
from ..runtime import Env
from ..state import (
    COPIES,
    INPUT_KEYS,
    RESOURCE_URN,
    BackupState,
    Request,
    backup_state,
)
from .wire import Props

BACKUP_TYPE = "fsx-backup:index:Backup"
LIFE_TYPE = "fsx-backup:index:Life"

# Backup inputs: engine name -> the core's input key. The URN is not an input: the engine sends it.
INPUT_NAMES: dict[str, str] = {
    "fileSystemId": "target_file_system_id",
    "volumeId": "target_volume_id",
    "targetFacts": "target_facts",
    "tags": "tags",
    "triggers": "triggers",
    "timeoutSeconds": "timeout_seconds",
    "region": "region",
    "copyToRegions": "copy_to_regions",
    "copyTags": "copy_tags",
    "life": "life",
    "deleteSuperseded": "delete_superseded",
    "aws": "aws",
    "keepLast": "keep_last",
    "rotation": "rotation",
}
CORE_INPUT_NAMES = {core: name for name, core in INPUT_NAMES.items()}

# Outputs derived from inputs of other names: secret exactly when one of their sources is.
DERIVED_SOURCES: dict[str, tuple[str, ...]] = {
    "managed_tags": ("tags",),
    "copies": ("copy_to_regions",),
    "file_system_id": ("target_file_system_id",),
    "volume_id": ("target_volume_id",),
    "resolved_region": ("region", "aws"),
    "backup_arn": ("region", "aws"),
}

# Only the items of `copies` and `copyToRegions` are renamed inside; every other map (tags, triggers,
# the target facts and AWS settings the component builds for the core) is user data or the core's own
# and crosses the wire as it is.


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _copy_items(items: Any, convert: Any) -> Any:
    if not isinstance(items, list):
        return items
    return [{convert(k): v for k, v in item.items()} if isinstance(item, Mapping) else item for item in items]


def core_inputs(props: Props, urn: str) -> tuple[dict[str, Any], set[str]]:
    """The Backup's engine inputs as the core's inputs (URN from the request), and which core keys
    were secret."""
    inputs: dict[str, Any] = {RESOURCE_URN: urn}
    secret: set[str] = set()
    for name, value in props.values.items():
        key = INPUT_NAMES.get(name)
        if key is None:
            continue  # not an input of this resource: check() names what is wrong with known ones
        inputs[key] = _copy_items(value, snake) if key == "copy_to_regions" else value
        if name in props.secret:
            secret.add(key)
    return inputs, secret


def engine_inputs(inputs: Mapping[str, Any], secret: set[str]) -> tuple[dict[str, Any], set[str]]:
    values: dict[str, Any] = {}
    names: set[str] = set()
    for key, name in CORE_INPUT_NAMES.items():
        if key in inputs:
            value = inputs[key]
            values[name] = _copy_items(value, camel) if key == "copy_to_regions" else value
            if key in secret:
                names.add(name)
    return values, names


def core_state(props: Props) -> tuple[BackupState, set[str]]:
    """Stored outputs (camelCase) as the core's state, and the core keys that were secret."""
    state: dict[str, Any] = {}
    secret: set[str] = set()
    for name, value in props.values.items():
        key = snake(name)
        state[key] = _copy_items(value, snake) if key in (COPIES, "copy_to_regions") else value
        if name in props.secret:
            secret.add(key)
    return BackupState(**state), secret  # type: ignore[typeddict-item]


def engine_outputs(state: Mapping[str, Any], input_secret: set[str]) -> tuple[dict[str, Any], set[str]]:
    """The core's state as the engine's outputs, each secret when its input (or a source) was."""
    secret = set(input_secret)
    for key, sources in DERIVED_SOURCES.items():
        if any(s in input_secret for s in sources):
            secret.add(key)
    values: dict[str, Any] = {}
    names: set[str] = set()
    for key, value in state.items():
        name = camel(key)
        if key in (COPIES, "copy_to_regions"):
            value = _copy_items(value, camel)
        values[name] = value
        if key in secret:
            names.add(name)
    return values, names


@dataclass
class CheckAnswer:
    inputs: dict[str, Any]
    secret: set[str]
    failures: list[Failure] = field(default_factory=list)


def check_backup(urn: str, olds: Props, news: Props, env: Env) -> CheckAnswer:
    unknown_names = sorted(set(news.values) - set(INPUT_NAMES))
    old_state, _ = core_state(olds) if olds.values else ({}, set())
    new_inputs, secret = core_inputs(news, urn)
    inputs, failures = checks.check(_old_inputs(old_state), new_inputs, env)
    inputs.pop(RESOURCE_URN, None)
    values, names = engine_inputs(inputs, secret)
    answer = CheckAnswer(values, names, [Failure(engine_property(f.property), engine_text(f.reason)) for f in failures])
    for name in unknown_names:
        answer.failures.append(Failure(name, f"is not an input of {BACKUP_TYPE}; valid inputs: {', '.join(sorted(INPUT_NAMES))}"))
    return answer


def _old_inputs(state: Mapping[str, Any]) -> dict[str, Any]:
    # check() compares the generation of the stored backup with the new inputs: the echoed inputs
    # are in the state, under the core's names.
    return {k: state[k] for k in INPUT_KEYS if k in state}


def engine_property(core_property: str) -> str:
    """A failure's property in the engine's names: ``target_file_system_id`` -> ``fileSystemId``,
    ``copy_to_regions[1].kms_key_id`` -> ``copyToRegions[1].kmsKeyId``."""
    head, sep, rest = core_property.partition("[")
    name = CORE_INPUT_NAMES.get(head, camel(head))
    if not sep:
        return name
    return name + sep + re.sub(r"\.([a-z_]+)", lambda m: "." + camel(m.group(1)), rest)


_QUOTED_SNAKE = re.compile(r"`([a-z]+(?:_[a-z]+)+)(=?)")


def engine_text(message: str) -> str:
    """A core message in the engine's names: `` `file_system_id` `` -> `` `fileSystemId` `` (the
    core speaks to Python programs; a TypeScript or YAML user wrote the camelCase name)."""
    return _QUOTED_SNAKE.sub(lambda m: "`" + CORE_INPUT_NAMES.get(m.group(1), camel(m.group(1))) + m.group(2), message)


@dataclass
class DiffAnswer:
    changes: bool
    replaces: list[str]
    stables: list[str]
    changed: list[str]


def diff_backup(urn: str, olds: Props, news: Props) -> DiffAnswer:
    old_state, _ = core_state(olds)
    new_inputs, _ = core_inputs(news, urn)
    new_inputs.setdefault("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    found = changes.diff(old_state, new_inputs)
    if _pending(old_state):
        # A backup recorded before it was AVAILABLE (a deadline, a cancel): the update resumes it.
        found = changes.Diff(changed=found.changed + ["lifecycle"], replaces=found.replaces, retargeted=found.retargeted)
    return DiffAnswer(
        changes=bool(found.changed),
        replaces=[engine_property(k) for k in found.replaces],
        stables=[camel(k) for k in found.stables if k != RESOURCE_URN],
        changed=[engine_property(k) for k in found.changed],
    )


# Set on the state of a backup recorded before it was AVAILABLE (partial_outcome): only such a state
# is resumed. An imported backup that is still CREATING is not ours to re-create: it is refreshed.
INTERRUPTED = "interrupted"


def _pending(state: Mapping[str, Any]) -> bool:
    return bool(state.get(INTERRUPTED))


@dataclass
class Outcome:
    id: str
    outputs: dict[str, Any]
    secret: set[str]


def create_backup(urn: str, news: Props, env: Env) -> Outcome:
    inputs, secret = core_inputs(news, urn)
    state = resource.create(Request.read(inputs), env)
    return _outcome(state, secret)


def update_backup(resource_id: str, urn: str, olds: Props, news: Props, env: Env) -> Outcome:
    old_state, old_secret = core_state(olds)
    inputs, secret = core_inputs(news, urn)
    request = Request.read(inputs)
    if _pending(old_state) and not changes.retargets(old_state, inputs):
        # Resume the backup an earlier `up` recorded before it was AVAILABLE: the same URN, life and
        # generation derive the same tokens, so create() adopts it (token tag) and waits on.
        state = resource.create(request, env)
    else:
        state = resource.update(resource_id, old_state, request, env)
    return _outcome(state, secret)


def read_backup(resource_id: str, urn: str, olds: Props, old_inputs: Props, env: Env) -> Optional[tuple[Outcome, dict[str, Any], set[str]]]:
    """Refresh (stored state given) or import (an ID alone): the outputs and the inputs to record."""
    if olds.values:
        old_state, old_secret = core_state(olds)
        state = resource.read(resource_id, old_state, env)
        if state is None:
            return None
        input_secret = {k for k in old_secret if k in INPUT_KEYS}
        outcome = _outcome(state, input_secret, resource_id)
        inputs = {k: state.get(k) for k in INPUT_KEYS if k != RESOURCE_URN}  # type: ignore[misc]
        values, names = engine_inputs(inputs, input_secret)
        return outcome, values, names
    state = import_state(resource_id, urn, env)
    if state is None:
        return None
    inputs = {k: state.get(k) for k in INPUT_KEYS if k != RESOURCE_URN}  # type: ignore[misc]
    values, names = engine_inputs({k: v for k, v in inputs.items() if v is not None}, set())
    return _outcome(state, set(), resource_id), values, names


def import_state(backup_id: str, urn: str, env: Env) -> Optional[BackupState]:
    """The state of an existing backup, from its description alone (`pulumi import`): its target,
    its user tags, the region it is in. Its token is the one FSx recorded, if any."""
    settings = env.settings(connection.DEFAULT)
    region = env.region(None, settings)
    client = fsx.client_for(region, settings)
    backup = fsx.find_backup(client, backup_id)
    if backup is None:
        return None
    file_system = backup.get("FileSystem") or {}
    volume = backup.get("Volume") or {}
    tags = fsx.user_tags(backup) or None
    inputs: dict[str, Any] = {
        RESOURCE_URN: urn,
        "target_file_system_id": None if volume else file_system.get("FileSystemId"),
        "target_volume_id": volume.get("VolumeId") or None,
        "tags": tags,
        "timeout_seconds": DEFAULT_TIMEOUT_SECONDS,
        "region": fsx.client_region(client),
    }
    state = backup_state(inputs, backup, region=fsx.client_region(client))
    state["client_request_token"] = backup.get("ClientRequestToken") or ""
    state["token_attempt"] = 0
    state[COPIES] = []
    return state


def delete_backup(resource_id: str, olds: Props, env: Env) -> None:
    old_state, _ = core_state(olds)
    resource.delete(resource_id, old_state, env)


def partial_outcome(urn: str, news: Props, backup_id: str, lifecycle: str, env: Env) -> Outcome:
    """What to record of a backup created but not yet AVAILABLE (deadline, cancel): the next `up`
    resumes it through update_backup."""
    inputs, secret = core_inputs(news, urn)
    request = Request.read(inputs)
    settings = env.settings(request.settings)
    region = env.region(request.region, settings) or ""
    state: dict[str, Any] = dict(backup_state(request.inputs, {"BackupId": backup_id, "Lifecycle": lifecycle}, region=region))
    state[INTERRUPTED] = True
    return _outcome(state, secret)


def _outcome(state: Mapping[str, Any], input_secret: set[str], resource_id: Optional[str] = None) -> Outcome:
    stored = {k: v for k, v in state.items() if k != RESOURCE_URN}
    outputs, names = engine_outputs(stored, input_secret)
    return Outcome(resource_id or str(state["backup_id"]), outputs, names)


# --- Life: the nonce of one life of a backup (life.py explains why it is a resource of its own) ---

def check_life(news: Props) -> CheckAnswer:
    return CheckAnswer({"generation": news.get("generation")}, set(news.secret & {"generation"}))


def diff_life(olds: Props, news: Props) -> DiffAnswer:
    changed = olds.get("generation") != news.get("generation")
    return DiffAnswer(changed, ["generation"] if changed else [], ["nonce"], ["generation"] if changed else [])


def create_life(news: Props) -> Outcome:
    nonce = secrets.token_hex(16)
    return Outcome(nonce, {"generation": news.get("generation"), "nonce": nonce}, set(news.secret & {"generation"}))


def read_life(resource_id: str, olds: Props) -> Outcome:
    return Outcome(
        resource_id,
        {"generation": olds.get("generation"), "nonce": olds.get("nonce") or resource_id},
        set(olds.secret & {"generation"}),
    )


def update_life(resource_id: str, olds: Props, news: Props) -> Outcome:
    return Outcome(
        resource_id,
        {"generation": news.get("generation"), "nonce": olds.get("nonce") or resource_id},
        set(news.secret & {"generation"}),
    )
