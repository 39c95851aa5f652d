"""The mock monitor: the SDK side of the harness.

``pulumi.runtime.set_mocks(mocks, monitor=HarnessMonitor(...))`` makes the program talk to this
monitor instead of the engine. Unlike the SDK's MockMonitor, RegisterResource does not answer from
``Mocks.new_resource``: it hands the request to the harness engine, which runs the real step (and
blocks until it is done, as the engine does), so dependent resources see real outputs.
It also records resource hook registrations (name -> callback) and answers
SignalAndWaitForShutdown only after the end-of-run deletes, while the program (and so its callback
server, which serves delete hooks) is still alive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from google.protobuf import empty_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop

from .engine import HOOK_TYPES, STACK_TYPE, _Registration
from .properties import decode, encode, top_level_secret_keys

if TYPE_CHECKING:
    from .engine import Harness, _Run


class HarnessMocks(pulumi_mocks.Mocks):
    """Invokes (data sources) and reads (``Resource.get``) of the program."""

    def __init__(self, harness: "Harness", run: "_Run") -> None:
        self.harness = harness
        self.run = run

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], Optional[list[tuple[str, str]]]]:
        if self.harness.invoke is not None:
            return self.harness.invoke(args.token, dict(args.args)), None
        region = self.harness.region or "us-east-1"
        defaults: dict[str, dict[str, Any]] = {
            "aws:index/getRegion:getRegion": {"name": region, "id": region, "region": region},
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/harness",
                "userId": "HARNESS", "id": "123456789012",
            },
            "aws:index/getPartition:getPartition": {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"},
        }
        return defaults.get(args.token, {}), None

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[Optional[str], dict[str, Any]]:
        # Never reached: HarnessMonitor serves RegisterResource and ReadResource itself.
        raise AssertionError(f"unexpected mock registration of {args.typ} {args.name}")


class HarnessMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: HarnessMocks, harness: "Harness", run: "_Run") -> None:
        super().__init__(mocks)
        self.harness = harness
        self.run = run

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine builds URNs (not as the SDK's MockMonitor does): a child's qualified type is
        # its parent's whole qualified type + "$" + its type, and the root stack is not part of it.
        # The component derives its child's URN with pulumi.resource.create_urn, which only agrees
        # with the engine's rule; a test comparing the two catches a drift.
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        from pulumi.runtime.settings import get_project, get_stack

        return f"urn:pulumi:{get_stack()}::{get_project()}::{qualified}::{name}"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.run.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        inputs = decode(request.object)  # wire form: secrets stay where the program put them
        secret_keys = top_level_secret_keys(inputs)
        dependencies = set(request.dependencies)
        for deps in request.propertyDependencies.values():
            dependencies.update(deps.urns)
        hooks = {t: list(getattr(request.hooks, t)) for t in HOOK_TYPES if list(getattr(request.hooks, t))}
        registration = _Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=inputs,
            secret_keys=secret_keys,
            parent=request.parent,
            dependencies=sorted(dependencies),
            hooks=hooks,
            delete_before_replace=bool(request.deleteBeforeReplace),
            retain_on_delete=bool(request.retainOnDelete),
            replace_on_changes=list(request.replaceOnChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            provider=request.provider,
            custom_timeout_strings={
                k: getattr(request.customTimeouts, k)
                for k in ("create", "update", "delete", "read")
                if request.HasField("customTimeouts") and getattr(request.customTimeouts, k)
            },
        )
        id_, outputs = self.harness.register(self.run, registration)
        # The outputs with the secretness the engine gave them (wire form), as the engine answers an
        # SDK that accepts secrets.
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, outputs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=encode(outputs))

    def ReadResource(self, request: Any) -> Any:  # noqa: N802
        """``X.get(name, id)``: a read step, done at preview too (step.go ReadStep.Apply)."""
        _ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        registration = _Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=True,
            inputs=decode(request.properties),
            secret_keys=set(),
            parent=request.parent,
            dependencies=sorted(set(request.dependencies)),
            hooks={},
            delete_before_replace=False,
            retain_on_delete=False,
            replace_on_changes=[],
            additional_secret_outputs=list(request.additionalSecretOutputs),
            provider=request.provider,
        )
        registration.secret_keys = top_level_secret_keys(registration.inputs)
        id_, outputs = self.harness.read_resource(self.run, registration, request.id)
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, outputs)
        # SDK >= 3.27x reads the ID from the answer (empty at preview = unknown): a read at preview
        # knows it; an unknown ID (read skipped) is answered `unknown`.
        known = bool(id_) and id_ != rpc.UNKNOWN
        return resource_pb2.ReadResourceResponse(
            urn=urn, properties=encode(outputs), **({"id": id_} if known else {"unknown": True})
        )

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        _ensure_event_loop()
        self.harness.register_outputs(self.run, request.urn, decode(request.outputs))
        return empty_pb2.Empty()

    def RegisterResourceHook(self, request: Any) -> Any:  # noqa: N802
        copy = resource_pb2.RegisterResourceHookRequest()
        copy.CopyFrom(request)
        self.run.hooks[request.name] = copy
        self.harness.events.add(self.run.number, "hook", request.name, "registered", on_dry_run=request.on_dry_run)
        return empty_pb2.Empty()

    def SignalAndWaitForShutdown(self, request: Any) -> Any:  # noqa: N802
        # The program finished successfully: now the engine applies the end-of-run deletes.
        self.harness.end_of_run(self.run)
        return empty_pb2.Empty()
