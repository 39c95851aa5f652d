"""A program that registers the component with ``remote=True``, exactly as every generated SDK
(TypeScript, Go, C#, YAML's and Python's) does: the engine answers such a registration with the
plugin's Construct. The program's monitor here is the SDK's MockMonitor with that one route added,
so what the program sends (its inputs, secrets and unknowns as the SDK serializes them) reaches the
real plugin process over gRPC, and the program gets the component's outputs back."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from typing import Any, Optional

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import set_root_resource
from pulumi.runtime.stack import run_in_stack

from fsx_backup_component.testing import FsxEmulator
from tests.harness.native import COMPONENT, NativeEngine, struct, to_dict


class RemoteFsxBackup(pulumi.ComponentResource):
    """What `pulumi package add` generates for the component (its Python flavour, abridged)."""

    backupId: pulumi.Output[str]  # noqa: N815 - the schema's names
    lifecycle: pulumi.Output[str]
    fileSystemId: pulumi.Output[str]
    tags: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, props: dict[str, Any], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        outputs = {"backupId": None, "lifecycle": None, "fileSystemId": None, "copies": None}
        super().__init__(COMPONENT, name, {**outputs, **props}, opts, remote=True)


class _NoMocks(pulumi_mocks.Mocks):
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[Optional[str], dict[str, Any]]:
        raise AssertionError(f"only the remote component is registered here, not {args.typ}")

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class ConstructingMonitor(pulumi_mocks.MockMonitor):
    """The engine's answer to a remote registration: the plugin's Construct."""

    def __init__(self, native: NativeEngine, dry_run: bool) -> None:
        super().__init__(_NoMocks())
        self.native, self.dry_run = native, dry_run
        self.sent: list[dict[str, Any]] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        assert request.remote and request.type == COMPONENT
        inputs = {k: v for k, v in to_dict(request.object).items() if v is not None}
        self.sent.append(inputs)
        run = self.native.construct(request.name, inputs, dry_run=self.dry_run)
        return resource_pb2.RegisterResourceResponse(urn=run.urn, object=struct(run.outputs))


def run_program(native: NativeEngine, props: dict[str, Any], *, dry_run: bool = False) -> tuple[dict[str, Any], ConstructingMonitor]:
    """Run the program as tests/harness/engine.py runs one: in a fresh thread (a fresh contextvars
    context: the SDK's settings, config and root stack are per context), on its own event loop,
    closed afterwards, so nothing of this run (a failed registration above all) reaches another test
    of the same worker."""
    monitor = ConstructingMonitor(native, dry_run)
    captured: dict[str, Any] = {}
    failed: list[BaseException] = []

    def body() -> Any:
        backup = RemoteFsxBackup("remote", props)
        return pulumi.Output.all(backup.backupId, backup.lifecycle, backup.fileSystemId).apply(
            lambda values: captured.update(zip(("backupId", "lifecycle", "fileSystemId"), values, strict=True))
        )

    def program() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(lambda _loop, _context: None)  # the failure is re-raised below
        try:
            set_root_resource(object())  # type: ignore[arg-type] # run_in_stack makes the Stack, not set_mocks
            pulumi_mocks.set_mocks(_NoMocks(), project=native.project, stack=native.stack, preview=dry_run, monitor=monitor)
            set_root_resource(None)  # type: ignore[arg-type]
            loop.run_until_complete(run_in_stack(body))
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failed.append(exc)
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
            gc.collect()  # this run's garbage is finalized here, not in a later test

    thread = threading.Thread(target=program, name="remote-program")
    thread.start()
    thread.join(300)
    assert not thread.is_alive(), "the program did not finish"
    if failed:
        raise failed[0]
    return captured, monitor


@pytest.fixture
def world() -> Iterator[tuple[FsxEmulator, NativeEngine]]:
    with FsxEmulator(port=0, backup_seconds=1.0) as emu, NativeEngine(emu) as native:
        yield emu, native


def test_a_remote_registration_gets_an_available_backup(world: tuple[FsxEmulator, NativeEngine]) -> None:
    emu, native = world
    fs = emu.add_file_system("WINDOWS")
    outputs, monitor = run_program(native, {"fileSystemId": fs, "tags": {"team": "apps"}})
    (backup,) = [b for b in emu.backups() if b["Type"] == "USER_INITIATED"]
    assert outputs == {"backupId": backup["BackupId"], "lifecycle": "AVAILABLE", "fileSystemId": fs}
    assert monitor.sent == [{"fileSystemId": fs, "tags": {"team": "apps"}}]
    assert backup["Tags"][0:1] and {"Key": "team", "Value": "apps"} in backup["Tags"]


def test_a_remote_registration_with_bad_input_fails_the_preview(world: tuple[FsxEmulator, NativeEngine]) -> None:
    emu, native = world
    with pytest.raises(Exception) as raised:
        run_program(native, {"fileSystemId": "fs-bad"}, dry_run=True)
    assert "fileSystemId" in str(raised.value) and "Traceback" not in str(raised.value)
    assert any(f.method == "Construct" for f in native.failures)  # the plugin's refusal reached the program
    assert [b for b in emu.backups() if b["Type"] == "USER_INITIATED"] == [] and emu.calls["CreateBackup"] == 0
