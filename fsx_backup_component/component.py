"""The ``FsxBackup`` component: builds the Pulumi graph only (never calls AWS).

It turns a target (an ID or a ``pulumi_aws.fsx`` resource), tags, triggers and a deadline into the
inputs of one child dynamic resource whose provider (provider.py) does the work. pulumi_aws is never
imported here: a target resource can only come from a program that imported it already, and the
provider host must start fast (it imports this package to unpickle the provider).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from dataclasses import dataclass, fields
from typing import Any, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic

from . import connection
from .eligibility import DEFAULT_TIMEOUT_SECONDS
from .errors import InvalidInputError
from .life import LifeProvider
from .provider import BackupProvider
from .sdk_tracking import awaited_by_registrations

COMPONENT_TYPE = "fsx-backup:index:FsxBackup"

# pulumi_aws.fsx class name -> file system type, for targets given as resources.
_FILE_SYSTEM_CLASSES = {
    "LustreFileSystem": "LUSTRE",
    "WindowsFileSystem": "WINDOWS",
    "OpenZfsFileSystem": "OPENZFS",
    "OntapFileSystem": "ONTAP",
}
_VOLUME_CLASSES = {"OntapVolume": "ONTAP", "OpenZfsVolume": "OPENZFS"}


@dataclass
class FsxBackupArgs:
    """Arguments of :class:`FsxBackup`. Give exactly one target."""

    file_system_id: Optional[pulumi.Input[str]] = None
    """ID of a Lustre, Windows File Server or OpenZFS file system (``fs-...``)."""
    file_system: Optional[pulumi.Resource] = None
    """A ``pulumi_aws.fsx`` LustreFileSystem, WindowsFileSystem or OpenZfsFileSystem resource."""
    volume_id: Optional[pulumi.Input[str]] = None
    """ID of an FSx for NetApp ONTAP volume (``fsvol-...``)."""
    volume: Optional[pulumi.Resource] = None
    """A ``pulumi_aws.fsx.OntapVolume`` resource."""
    tags: Optional[pulumi.Input[Mapping[str, pulumi.Input[str]]]] = None
    """Tags of the backup (at most 49). Without tags, FSx copies the file system's tags when its
    CopyTagsToBackups is on."""
    triggers: Optional[pulumi.Input[Any]] = None
    """Any values; when they change, a new backup replaces the old one (e.g. an app version)."""
    timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS
    """How long create/delete may wait on FSx. Past it, `pulumi up` fails and the next run resumes."""
    region: Optional[pulumi.Input[str]] = None
    """AWS region. Default: the target resource's region, else the component's AWS provider's
    (``providers=[...]``), else the `aws:region` stack config, else AWS_REGION / the profile's."""
    assume_roles: Optional[pulumi.Input[Sequence[pulumi.Input[Any]]]] = None
    """Roles to assume, in order, as pulumi-aws's ``assume_roles``: maps (or
    ``aws.ProviderAssumeRoleArgs``) with ``role_arn`` and optional ``external_id``, ``session_name``,
    ``duration`` ("1h"). pulumi-aws does not expose a provider's ``assume_roles`` to the program:
    pass them when the target's (or the component's) AWS provider assumes a role."""
    shared_config_files: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]] = None
    """The AWS config file to read profiles from (one path; pulumi-aws's ``shared_config_files``),
    when the provider sets it: pulumi-aws does not expose it to the program."""
    shared_credentials_files: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]] = None
    """The AWS credentials file (one path; pulumi-aws's ``shared_credentials_files``), likewise."""
    retain_on_delete: bool = False
    """Keep the backup (and its copies) in AWS when the resource is deleted (destroy, replacement)."""
    copy_to_regions: Optional[pulumi.Input[Sequence[pulumi.Input[Union[str, Mapping[str, Any]]]]]] = None
    """Regions to copy the backup to once it is AVAILABLE, for disaster recovery: region names, or
    ``{"region": "us-west-2", "kms_key_id": "arn:aws:kms:us-west-2:...:key/..."}`` maps."""
    copy_tags: bool = True
    """Copy the backup's tags to its copies."""
    delete_superseded: bool = False
    """When the target changes (another file system or volume, a replaced file system, another
    region), a backup of the new target is taken and the old backup, the only copy of the old target's
    data, is kept in AWS and tagged ``fsx-backup-component:superseded-by``. True deletes it (and its
    copies) once the new backup is AVAILABLE."""
    keep_last: Optional[int] = None
    """Keep the newest N backups of a rotation (``triggers={"day": today}``): on a trigger change the
    new backup is taken first, then the older ones beyond the newest N are deleted, best effort (a
    refused delete is a warning). They are tagged ``fsx-backup-component:rotation`` and listed in
    ``kept_backups``; destroy deletes them all (``retain_on_delete`` keeps them). None (the default):
    a trigger change deletes the old backup, as ``keep_last=1`` does."""


BACKUP_RESOURCE_TYPE = "pulumi-python:dynamic/fsx-backup:Backup"
LIFE_RESOURCE_TYPE = "pulumi-python:dynamic/fsx-backup:Life"
# The component's outputs: the same names on the child dynamic resource.
OUTPUT_NAMES = (
    "backup_id", "backup_arn", "lifecycle", "file_system_id", "volume_id", "file_system_type",
    "resource_type", "creation_time", "kms_key_id", "tags", "client_request_token", "copies", "kept_backups",
)


class _Backup(pulumi.dynamic.Resource, module="fsx-backup", name="Backup"):
    """The child resource the provider manages; one FSx backup. Its outputs (OUTPUT_NAMES) are the
    component's, typed on FsxBackup."""

    def __init__(self, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        # Declared as None so that the provider's outputs of these names become attributes.
        outputs = dict.fromkeys(name for name in OUTPUT_NAMES if name != "tags")
        super().__init__(BackupProvider(), name, {**outputs, **props}, opts)


# The engine marks an output secret only when the input of the same name held a secret (the Python
# host does not accept secrets). These child outputs are derived from inputs of other names, so they
# are always stored encrypted; the component shows each one secret exactly when its sources are.
DERIVED_OUTPUT_SOURCES = {
    "managed_tags": ("tags",),
    "copies": ("copy_to_regions",),
    "file_system_id": ("target_file_system_id",),
    "volume_id": ("target_volume_id",),
    "resolved_region": ("region", "aws"),
    "backup_arn": ("region", "aws"),
}


class _Life(pulumi.dynamic.Resource, module="fsx-backup", name="Life"):
    """The nonce of one life of the backup (life.py): created before the backup, replaced with it."""

    nonce: pulumi.Output[str]

    def __init__(self, name: str, generation: pulumi.Input[str], opts: pulumi.ResourceOptions) -> None:
        super().__init__(LifeProvider(), name, {"generation": generation, "nonce": None}, opts)


class FsxBackup(pulumi.ComponentResource):
    """An Amazon FSx backup that is AVAILABLE by the time `pulumi up` reports its outputs.

    Example::

        FsxBackup("before-upgrade", file_system_id="fs-0123456789abcdef0", tags={"reason": "pre-upgrade"})
        FsxBackup("app-volume", volume=ontap_volume)
        FsxBackup("scratch", file_system=lustre_fs)
    """

    backup_id: pulumi.Output[str]
    backup_arn: pulumi.Output[str]
    lifecycle: pulumi.Output[str]
    file_system_id: pulumi.Output[Optional[str]]
    volume_id: pulumi.Output[Optional[str]]
    file_system_type: pulumi.Output[Optional[str]]
    resource_type: pulumi.Output[Optional[str]]
    creation_time: pulumi.Output[Optional[str]]
    kms_key_id: pulumi.Output[Optional[str]]
    tags: pulumi.Output[Mapping[str, str]]
    client_request_token: pulumi.Output[str]
    copies: pulumi.Output[list[Mapping[str, Any]]]
    """One entry per `copy_to_regions` destination: region, backup_id, backup_arn, lifecycle, kms_key_id."""
    kept_backups: pulumi.Output[list[str]]
    """With ``keep_last``: the older backups of the rotation still kept, newest first."""

    def __init__(
        self,
        resource_name: str,
        args: Optional[FsxBackupArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        **kwargs: Any,
    ) -> None:
        # The Outputs made here are left to the registrations that await them (sdk_tracking.py):
        # otherwise the SDK's end-of-program wait is quadratic in the stack's backups.
        with awaited_by_registrations():
            self._build(resource_name, args, opts, kwargs)

    def _build(
        self,
        resource_name: str,
        args: Optional[FsxBackupArgs],
        opts: Optional[pulumi.ResourceOptions],
        kwargs: Mapping[str, Any],
    ) -> None:
        super().__init__(COMPONENT_TYPE, resource_name, None, opts)
        args = _merge_args(args, kwargs)
        target_facts, fs_id, vol_id = _target(args)
        aws_settings = _aws_settings(args, args.file_system or args.volume, self)

        retain = bool(args.retain_on_delete or (opts is not None and opts.retain_on_delete))
        child_opts = pulumi.ResourceOptions(
            parent=self, retain_on_delete=retain or None, additional_secret_outputs=list(DERIVED_OUTPUT_SOURCES)
        )
        life = _Life(
            f"{resource_name}-life",
            _generation_digest(fs_id, vol_id, args.region, args.triggers),
            pulumi.ResourceOptions(parent=self),
        )
        # One nonce for every life of a rotation (its generation never changes): the rotation tag.
        rotation = None
        if args.keep_last is not None:
            _check_keep_last(args.keep_last)
            rotation = _Life(f"{resource_name}-rotation", "rotation", pulumi.ResourceOptions(parent=self)).nonce
        # The child's URN is an input (create() is never told its URN). Derived from the component's
        # URN without a dependency on it: a child depending on its parent would be a cycle.
        child_urn = _child_urn(self, resource_name, opts)
        inputs: dict[str, Any] = {
                "resource_urn": child_urn,
                "target_file_system_id": fs_id,
                "target_volume_id": vol_id,
                "target_facts": target_facts,
                "tags": args.tags,
                "triggers": args.triggers,
                "timeout_seconds": args.timeout_seconds,
                "region": args.region,
                "copy_to_regions": args.copy_to_regions,
                "copy_tags": args.copy_tags,
                "life": life.nonce,
                "delete_superseded": args.delete_superseded,
                "aws": aws_settings,
                "keep_last": args.keep_last,
                "rotation": rotation,
        }
        self._backup = _Backup(resource_name, inputs, child_opts)
        for output in OUTPUT_NAMES:
            value = getattr(self._backup, output)
            sources = DERIVED_OUTPUT_SOURCES.get(output)
            if sources is not None:
                value = _secret_when_any(value, [inputs[name] for name in sources])
            setattr(self, output, value)
        self.copies = self.copies.apply(lambda copies: copies or [])
        self.kept_backups = self.kept_backups.apply(lambda kept: kept or [])
        self.register_outputs({output: getattr(self, output) for output in OUTPUT_NAMES})


def _child_urn(component: pulumi.Resource, name: str, opts: Optional[pulumi.ResourceOptions]) -> Any:
    """The Backup child's URN. A component at the top of the stack has a URN known now (the stack
    resource is not part of its children's type chain): a plain string, no Output to wait for."""
    if opts is None or opts.parent is None:
        stack, project = pulumi.get_stack(), pulumi.get_project()
        return f"urn:pulumi:{stack}::{project}::{COMPONENT_TYPE}${BACKUP_RESOURCE_TYPE}::{name}"
    urn = component.urn
    parent_urn: pulumi.Output[str] = pulumi.Output(
        set(), urn.future(), urn.is_known(), urn.is_secret()  # type: ignore[arg-type]
    )
    return pulumi.resource.create_urn(name, BACKUP_RESOURCE_TYPE, parent=parent_urn)


_AWS_TYPE = "aws:fsx/backup:Backup"  # any aws: type: get_provider() looks the package up


def _aws_settings(args: FsxBackupArgs, target: Optional[pulumi.Resource], component: pulumi.Resource) -> Any:
    """The ``aws`` input (connection.py): each field from the first source that sets it, in the
    order the README gives: the component's arguments, the target resource (its region, then its
    AWS provider's), the component's AWS provider (``provider=`` / ``providers=``). Fields are
    separate Outputs, so a region unknown in preview (a target being created) leaves the rest known.
    None when there is no source at all, as in states written before this input existed."""
    target_provider = _provider_of(target)
    own_provider = component.get_provider(_AWS_TYPE)
    providers = [p for p in (target_provider, own_provider) if p is not None]
    settings: dict[str, Any] = {}
    regions = []
    if target is not None:
        regions += [getattr(target, "region", None), _provider_output(target_provider, "region"),
                    pulumi.Output.from_input(getattr(target, "arn", None)).apply(connection.arn_region)]
    regions.append(_provider_output(own_provider, "region"))
    if any(r is not None for r in regions):
        settings[connection.REGION] = _first_set(regions)
    if providers:
        settings[connection.PROFILE] = _first_set([_provider_output(p, "profile") for p in providers])
        settings[connection.STATIC_KEYS] = _first_set([o for p in providers for o in _static_keys_in(p)])
    for name in (connection.SHARED_CONFIG_FILES, connection.SHARED_CREDENTIALS_FILES):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if args.assume_roles is not None:
        settings[connection.ASSUME_ROLES] = pulumi.Output.from_input(args.assume_roles).apply(connection.role_maps)
    return settings or None


def _provider_of(resource: Optional[pulumi.Resource]) -> Optional[pulumi.ProviderResource]:
    if resource is None:
        return None
    return resource.get_provider(_AWS_TYPE)


def _provider_output(provider: Optional[pulumi.ProviderResource], name: str) -> Any:
    return getattr(provider, name, None) if provider is not None else None


def _static_keys_in(provider: pulumi.ProviderResource) -> list[pulumi.Output[Optional[str]]]:
    """Per static key setting: the provider's name when it is set, else None; never the key."""
    keys = [getattr(provider, k, None) for k in ("access_key", "secret_key", "token")]
    return [
        pulumi.Output.unsecret(
            pulumi.Output.all(provider.urn, key).apply(lambda v: v[0].split("::")[-1] if v[1] else None)
        )
        for key in keys
        if key is not None
    ]


def _first_set(values: Sequence[Any]) -> pulumi.Output[Any]:
    """The first value that is set, in precedence order. An unknown value counts as not set: in a
    preview, an AWS provider's setting that was not given is unknown (the engine echoes only the
    inputs given, and the SDK resolves a missing output as unknown in a preview), so waiting for all
    of them would leave the whole setting unknown and the preview unable to check the target."""
    outputs = [pulumi.Output.from_input(v) for v in values if v is not None]

    async def choose() -> tuple[Any, bool]:
        for output in outputs:
            if await output.is_known():
                value = await output.future()
                if value not in (None, ""):
                    return value, await output.is_secret()
        return None, False

    chosen = asyncio.ensure_future(choose())

    async def value() -> Any:
        return (await chosen)[0]

    async def is_secret() -> bool:
        return (await chosen)[1]

    async def is_known() -> bool:
        await chosen
        return True

    async def resources() -> set[pulumi.Resource]:
        found: set[pulumi.Resource] = set()
        for output in outputs:
            found |= await output.resources()
        return found

    return pulumi.Output(resources(), value(), is_known(), is_secret())


# Every Output is a task (and, when sdk_tracking cannot untrack it, one more task in the SDK's
# quadratic end-of-program wait), so a stack of hundreds of backups pays for each Output an
# instance makes (BENCHMARKS.md). Plain values take no Output here.


def _generation_digest(*values: Any) -> Any:
    """A digest of what makes a new life (target, region, triggers); secret when any of them is."""
    import hashlib

    from .token import canonical_json

    def digest(resolved: Sequence[Any]) -> str:
        return hashlib.sha256(canonical_json(list(resolved)).encode()).hexdigest()

    if all(_is_plain(v) for v in values):
        return digest(values)
    return pulumi.Output.all(*values).apply(digest)


def _secret_when_any(value: pulumi.Output[Any], sources: Sequence[Any]) -> pulumi.Output[Any]:
    """``value`` without the child's always-on secret mark, secret again when any source is
    (``Output.all`` is secret when any of its parts is). Plain sources are never secret."""
    plain = pulumi.Output.unsecret(value)
    dynamic = [source for source in sources if not _is_plain(source)]
    if not dynamic:
        return plain
    return pulumi.Output.all(plain, *dynamic).apply(lambda values: values[0])


def _is_plain(value: Any) -> bool:
    """No Output (nor awaitable) anywhere inside: a value known, and not secret, right now."""
    if isinstance(value, Mapping):
        return all(_is_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return not isinstance(value, pulumi.Output) and not hasattr(value, "__await__")


def _check_keep_last(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError("keep_last", f"must be a whole number >= 1 or None (only the current backup), got {value!r}")


def _merge_args(args: Optional[FsxBackupArgs], kwargs: Mapping[str, Any]) -> FsxBackupArgs:
    names = {f.name for f in fields(FsxBackupArgs)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise InvalidInputError(
            unknown[0], f"is not an FsxBackup argument; valid arguments: {', '.join(sorted(names))}"
        )
    # A copy: one args object may be shared by several backups with different keywords.
    return dataclasses.replace(FsxBackupArgs() if args is None else args, **kwargs)


def _target(args: FsxBackupArgs) -> tuple[dict[str, Any], Any, Any]:
    """(facts known from a resource target, file system ID input, volume ID input)."""
    if args.file_system is not None and args.file_system_id is not None:
        raise InvalidInputError("file_system", "give `file_system` or `file_system_id`, not both")
    if args.volume is not None and args.volume_id is not None:
        raise InvalidInputError("volume", "give `volume` or `volume_id`, not both")
    facts: dict[str, Any] = {}
    fs_id: Any = args.file_system_id
    vol_id: Any = args.volume_id
    if args.file_system is not None:
        facts = _file_system_facts(args.file_system)
        fs_id = args.file_system.id  # type: ignore[attr-defined]
    if args.volume is not None:
        facts = _volume_facts(args.volume)
        vol_id = args.volume.id  # type: ignore[attr-defined]
    return facts, fs_id, vol_id


def _aws_class_name(resource: Any, known: Mapping[str, str], prop: str) -> str:
    cls = type(resource)
    if "pulumi_aws" in sys.modules and cls.__module__.startswith("pulumi_aws.fsx") and cls.__name__ in known:
        return cls.__name__
    raise InvalidInputError(
        prop,
        f"expected one of pulumi_aws.fsx.{', pulumi_aws.fsx.'.join(known)}, got {cls.__module__}.{cls.__name__}",
    )


def _file_system_facts(resource: Any) -> dict[str, Any]:
    name = _aws_class_name(resource, _FILE_SYSTEM_CLASSES, "file_system")
    facts: dict[str, Any] = {"file_system_type": _FILE_SYSTEM_CLASSES[name]}
    if name != "OntapFileSystem":
        facts["deployment_type"] = resource.deployment_type
    if name == "LustreFileSystem":
        facts["import_path"] = resource.import_path
        facts["export_path"] = resource.export_path
    return facts


def _volume_facts(resource: Any) -> dict[str, Any]:
    name = _aws_class_name(resource, _VOLUME_CLASSES, "volume")
    facts: dict[str, Any] = {"volume_type": _VOLUME_CLASSES[name]}
    if name == "OntapVolume":
        facts["ontap_volume_type"] = resource.ontap_volume_type
        facts["flexcache_endpoint_type"] = resource.flexcache_endpoint_type
    return facts
