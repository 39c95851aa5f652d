"""Mocks for the component tests: a fake cloud, a monitor that records every registration, run()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks

BACKUP_ID = "backup-0123456789abcdef0"
READ_REGION = "ca-central-1"  # the region in the ARN of a resource read by ID


@dataclass
class Registration:
    typ: str
    name: str
    urn: str
    parent: str
    custom: bool
    retain_on_delete: bool
    inputs: dict[str, Any]
    additional_secret_outputs: list[str]


class FakeCloud(Mocks):
    """Answers like a successful `pulumi up`: FSx resources get IDs; the backup gets its outputs."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = {k: rpc.unwrap_rpc_secret(v) if rpc.is_rpc_secret(v) else v for k, v in args.inputs.items()}
        if args.typ == "pulumi-python:dynamic/fsx-backup:Backup":
            state = dict(inputs)
            state.update({
                "backup_id": BACKUP_ID,
                "backup_arn": f"arn:aws:fsx:us-east-1:123456789012:backup/{BACKUP_ID}",
                "lifecycle": "AVAILABLE",
                "file_system_id": inputs.get("target_file_system_id") or "fs-0123456789abcdef0",
                "volume_id": inputs.get("target_volume_id"),
                "file_system_type": "LUSTRE",
                "resource_type": "VOLUME" if inputs.get("target_volume_id") else "FILE_SYSTEM",
                "creation_time": "2024-01-02T03:04:05Z",
                "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k",
                "tags": inputs.get("tags") or {},
                "client_request_token": "fsxb-" + "0" * 40,
                "copies": [],
            })
            return BACKUP_ID, state
        if args.typ == "pulumi-python:dynamic/fsx-backup:Life":
            nonce = f"nonce-of-{args.name}"
            return nonce, {**inputs, "nonce": nonce}
        if args.typ.startswith("aws:fsx/") and args.resource_id:
            # A read (`X.get(name, id)`): what AWS reports, an ARN naming the resource's region.
            return args.resource_id, {**inputs, "arn": f"arn:aws:fsx:{READ_REGION}:123456789012:volume/{args.resource_id}"}
        if args.typ.startswith("aws:fsx/ontapVolume"):
            return "fsvol-0123456789abcdef0", dict(inputs)
        if args.typ.startswith("aws:fsx/"):
            return "fs-0123456789abcdef0", dict(inputs)
        return (f"{args.name}-id" if args.custom else None), dict(inputs)

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        inputs = {k: rpc.unwrap_rpc_secret(v) if rpc.is_rpc_secret(v) else v
                  for k, v in rpc.deserialize_properties(request.object).items()}
        self.registrations.append(Registration(
            typ=request.type, name=request.name, urn=response.urn, parent=request.parent,
            custom=request.custom, retain_on_delete=request.retainOnDelete, inputs=inputs,
            additional_secret_outputs=list(request.additionalSecretOutputs)))
        return response

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.typ == typ]


Program = Callable[[], Any]


def run(program: Program) -> Any:
    """Run `program` as a Pulumi program under the mocks; return what its Output resolved to."""
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def body() -> Any:
        return pulumi.Output.from_input(program()).apply(lambda value: captured.setdefault("value", value))

    body()
    return captured.get("value")
