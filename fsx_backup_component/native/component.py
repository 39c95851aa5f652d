"""``fsx-backup:index:FsxBackup`` for programs in any language: the component the plugin constructs
(Construct), built from the schema's camelCase inputs. Like component.py it only builds the graph:
a Life child and a Backup child, both custom resources of this same plugin (a dynamic resource cannot
live inside a multi-language component, pulumi/pulumi#5455).

What a rehydrated provider reference cannot tell (its region, profile, roles) is taken from the
explicit inputs (`region`, `assumeRoles`, `sharedConfigFiles`, `sharedCredentialsFiles`), then from
the stack's `aws:region` / `aws:profile` config (README, "Use from TypeScript, Go, C#, YAML").
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi
import pulumi.provider

from ..component import _generation_digest
from ..eligibility import DEFAULT_TIMEOUT_SECONDS
from ..errors import InvalidInputError
from .resources import BACKUP_TYPE, LIFE_TYPE

COMPONENT_TYPE = "fsx-backup:index:FsxBackup"

# The component's inputs (schema.json, held in step with FsxBackupArgs by tests/native/test_schema.py).
COMPONENT_INPUTS = (
    "fileSystemId", "volumeId", "tags", "triggers", "timeoutSeconds", "region", "assumeRoles",
    "sharedConfigFiles", "sharedCredentialsFiles", "retainOnDelete", "copyToRegions", "copyTags",
    "deleteSuperseded", "keepLast",
)
COMPONENT_OUTPUTS = (
    "backupId", "backupArn", "lifecycle", "fileSystemId", "volumeId", "fileSystemType", "resourceType",
    "creationTime", "kmsKeyId", "tags", "clientRequestToken", "copies", "keptBackups",
)
_ROLE_KEYS = {"roleArn": "role_arn", "externalId": "external_id", "sessionName": "session_name", "duration": "duration"}


class NativeFsxBackup(pulumi.ComponentResource):
    """The component as a multi-language program sees it."""

    def __init__(self, name: str, inputs: Mapping[str, Any], opts: Optional[pulumi.ResourceOptions]) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        unknown = sorted(set(inputs) - set(COMPONENT_INPUTS))
        if unknown:
            raise InvalidInputError(
                unknown[0], f"is not an input of {COMPONENT_TYPE}; valid inputs: {', '.join(COMPONENT_INPUTS)}"
            )
        fs_id, vol_id = inputs.get("fileSystemId"), inputs.get("volumeId")
        life = pulumi.CustomResource(
            LIFE_TYPE, f"{name}-life",
            {"generation": _generation_digest(fs_id, vol_id, inputs.get("region"), inputs.get("triggers")), "nonce": None},
            pulumi.ResourceOptions(parent=self),
        )
        # One nonce for every life of a rotation (its generation never changes): the rotation tag.
        rotation = None
        if inputs.get("keepLast") is not None:
            rotation = pulumi.CustomResource(
                LIFE_TYPE, f"{name}-rotation", {"generation": "rotation", "nonce": None},
                pulumi.ResourceOptions(parent=self),
            ).nonce  # type: ignore[attr-defined]
        retain = bool(inputs.get("retainOnDelete")) or bool(opts is not None and opts.retain_on_delete)
        props: dict[str, Any] = {
            "fileSystemId": fs_id,
            "volumeId": vol_id,
            "tags": inputs.get("tags"),
            "triggers": inputs.get("triggers"),
            "timeoutSeconds": inputs.get("timeoutSeconds", DEFAULT_TIMEOUT_SECONDS),
            "region": inputs.get("region"),
            "copyToRegions": inputs.get("copyToRegions"),
            "copyTags": inputs.get("copyTags", True),
            "life": life.nonce,  # type: ignore[attr-defined]
            "deleteSuperseded": inputs.get("deleteSuperseded", False),
            "aws": _aws_settings(inputs),
            "keepLast": inputs.get("keepLast"),
            "rotation": rotation,
        }
        # Declared so that the plugin's outputs of these names become attributes of the child.
        outputs = {n: None for n in (*COMPONENT_OUTPUTS, "managedTags", "resolvedRegion") if n not in props}
        backup = pulumi.CustomResource(
            BACKUP_TYPE, name, {**outputs, **props}, pulumi.ResourceOptions(parent=self, retain_on_delete=retain or None)
        )
        self.outputs = {n: getattr(backup, n) for n in COMPONENT_OUTPUTS}
        self.outputs["copies"] = self.outputs["copies"].apply(lambda copies: copies or [])
        self.outputs["keptBackups"] = self.outputs["keptBackups"].apply(lambda kept: kept or [])
        self.register_outputs(self.outputs)


def _aws_settings(inputs: Mapping[str, Any]) -> Optional[dict[str, Any]]:
    settings: dict[str, Any] = {}
    aws = pulumi.Config("aws")
    if aws.get("region"):
        settings["region"] = aws.get("region")
    if aws.get("profile"):
        settings["profile"] = aws.get("profile")
    for name in ("sharedConfigFiles", "sharedCredentialsFiles"):
        if inputs.get(name) is not None:
            settings[_snake(name)] = inputs[name]
    roles = inputs.get("assumeRoles")
    if roles is not None:
        settings["assume_roles"] = pulumi.Output.from_input(roles).apply(_snake_roles)
    return settings or None


def _snake(name: str) -> str:
    return {"sharedConfigFiles": "shared_config_files", "sharedCredentialsFiles": "shared_credentials_files"}[name]


def _snake_roles(roles: Any) -> Any:
    if not isinstance(roles, list):
        return roles
    return [{_ROLE_KEYS.get(k, k): v for k, v in r.items()} if isinstance(r, Mapping) else r for r in roles]


class ComponentProvider(pulumi.provider.Provider):
    """What the SDK's Construct server calls: builds the component and hands back its outputs."""

    def construct(
        self, name: str, resource_type: str, inputs: pulumi.Inputs, options: Optional[pulumi.ResourceOptions] = None
    ) -> pulumi.provider.ConstructResult:
        if resource_type != COMPONENT_TYPE:
            raise InvalidInputError("type", f"unknown component {resource_type}; this plugin serves {COMPONENT_TYPE}")
        component = NativeFsxBackup(name, dict(inputs), options)
        return pulumi.provider.ConstructResult(urn=component.urn, state=component.outputs)


__all__ = ["COMPONENT_TYPE", "ComponentProvider", "NativeFsxBackup"]
