"""The native plugin (provider/) as the engine drives it: started as the CLI starts a `runtime: python`
plugin, over real gRPC, against the emulator (tests/harness/native.py). Construct stands for a
program in any language (every generated SDK registers the component with remote=True)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from fsx_backup_component.native.server import schema_text
from fsx_backup_component.testing import FsxEmulator
from tests.harness.engine import ObservedCounter
from tests.harness.native import (
    BACKUP,
    COMPONENT,
    CREDENTIALS,
    LIFE,
    UNKNOWN,
    NativeEngine,
    PluginError,
    is_secret,
    plain,
    secret,
    struct,
    to_dict,
)

WRITES = ("CreateBackup", "DeleteBackup", "TagResource", "UntagResource", "CopyBackup")


@pytest.fixture
def emu() -> Iterator[FsxEmulator]:
    with FsxEmulator(port=0, backup_seconds=1.0) as emulator:
        yield emulator


@pytest.fixture
def engine(emu: FsxEmulator) -> Iterator[NativeEngine]:
    with NativeEngine(emu) as native:
        yield native


def user_backups(emu: FsxEmulator, include_deleted: bool = False) -> list[dict[str, Any]]:
    return [b for b in emu.backups(include_deleted=include_deleted) if b["Type"] == "USER_INITIATED"]


def writes(emu: FsxEmulator) -> dict[str, int]:
    return {op: n for op, n in emu.calls.items() if op in WRITES and n}


def lustre(emu: FsxEmulator) -> str:
    return emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")


def test_started_as_the_cli_starts_it_and_serves_its_schema(engine: NativeEngine) -> None:
    assert engine.plugin is not None
    assert engine.plugin.command[1].endswith("provider") and len(engine.plugin.command) == 3
    assert engine.plugin.stdout == "", "nothing but the port line may reach stdout"
    handshake = engine.call("Handshake", provider_pb2.ProviderHandshakeRequest(engine_address=engine.log.address))
    assert handshake.accept_secrets and handshake.accept_resources
    assert engine.call("GetPluginInfo", empty_pb2.Empty()).version == "0.1.0"
    served = json.loads(engine.call("GetSchema", provider_pb2.GetSchemaRequest(version=0)).schema)
    assert served == json.loads(schema_text()) and served["name"] == "fsx-backup"
    configured = engine.configure({"fsx-backup:region": "us-east-1"})
    assert configured.acceptSecrets and configured.acceptResources
    checked = engine.call("CheckConfig", provider_pb2.CheckRequest(
        urn="urn:pulumi:dev::native::pulumi:providers:fsx-backup::default", news=struct({"region": "us-east-1"}),
    ))
    assert list(checked.failures) == []


def test_component_preview_writes_nothing_then_up_takes_one_available_backup(
    engine: NativeEngine, emu: FsxEmulator
) -> None:
    fs = lustre(emu)
    inputs = {"fileSystemId": fs, "tags": {"team": "data"}}

    preview = engine.construct("nightly", inputs, dry_run=True)
    assert writes(emu) == {} and user_backups(emu) == []
    assert preview.failures == []

    up = engine.construct("nightly", inputs)
    (backup,) = user_backups(emu)
    assert up.outputs["backupId"] == backup["BackupId"] and up.outputs["lifecycle"] == "AVAILABLE"
    assert up.outputs["fileSystemId"] == fs and up.outputs["copies"] == []
    assert up.outputs["tags"] == {"team": "data"}
    assert up.outputs["clientRequestToken"].startswith("fsxb-")
    assert up.registrations == [
        engine.urn(COMPONENT, "nightly"),
        engine.urn(LIFE, "nightly-life", COMPONENT),
        engine.urn(BACKUP, "nightly", COMPONENT),
    ]
    # Progress reached the engine's Log service for the Backup's URN.
    urn = engine.urn(BACKUP, "nightly", COMPONENT)
    assert any("AVAILABLE" in r.message for r in engine.log.for_urn(urn))

    creates_before = engine.calls.count("Create")
    again = engine.construct("nightly", inputs)
    assert again.outputs["backupId"] == backup["BackupId"]
    assert engine.calls.count("Create") == creates_before and "Update" not in engine.calls
    assert len(user_backups(emu)) == 1

    engine.destroy()
    assert [b["Lifecycle"] for b in user_backups(emu, include_deleted=True)] == ["DELETED"]


@pytest.mark.parametrize(
    ("inputs", "prop", "says"),
    [
        ({"fileSystemId": "fs-123"}, "fileSystemId", "fs-"),
        ({"fileSystemId": 5}, "fileSystemId", "not a file system ID"),  # a number from a YAML program
        ({"fileSystemId": "<fs>", "tags": {"team": {"nested": "map"}}}, "tags", "string"),
        ({"fileSystemId": "<fs>", "timeoutSeconds": -1}, "timeoutSeconds", ""),
        ({}, "fileSystemId", "volumeId"),
        ({"fileSystemId": "<fs>", "tags": {"aws:reserved": "x"}}, "tags", "aws:"),
    ],
    ids=["malformed-id", "number-id", "map-tag-value", "negative-timeout", "no-target", "reserved-tag"],
)
def test_bad_input_fails_the_preview_naming_the_camel_case_property(
    engine: NativeEngine, emu: FsxEmulator, inputs: dict[str, Any], prop: str, says: str
) -> None:
    fs = lustre(emu)
    inputs = {k: (fs if v == "<fs>" else v) for k, v in inputs.items()}
    with pytest.raises(PluginError) as raised:
        engine.construct("bad", inputs, dry_run=True)
    message = raised.value.failure.message
    assert message.startswith(f"{prop}") or f"; {prop}" in message or f" {prop}:" in message, message
    assert says.lower() in message.lower(), message
    assert "Traceback" not in message and "file_system_id" not in message and writes(emu) == {}


def test_an_unknown_component_input_is_named(engine: NativeEngine, emu: FsxEmulator) -> None:
    with pytest.raises(PluginError) as raised:
        engine.construct("typo", {"fileSystemID": lustre(emu)}, dry_run=True)
    message = raised.value.failure.message
    assert "fileSystemID" in message and "fileSystemId" in message and "Traceback" not in message


def test_an_ineligible_target_fails_the_preview_with_nothing_written(engine: NativeEngine, emu: FsxEmulator) -> None:
    scratch = emu.add_file_system("LUSTRE", deployment_type="SCRATCH_2")
    with pytest.raises(PluginError) as raised:
        engine.construct("scratch", {"fileSystemId": scratch}, dry_run=True)
    assert "fileSystemId" in raised.value.failure.message and "SCRATCH" in raised.value.failure.message
    assert writes(emu) == {}


def test_a_failed_backup_is_one_clean_message_with_aws_reason_and_is_deleted(
    engine: NativeEngine, emu: FsxEmulator
) -> None:
    fs = lustre(emu)
    emu.fail_next_backup("insufficient free storage capacity (emulated)", file_system_id=fs)
    with pytest.raises(PluginError) as raised:
        engine.step(engine.urn(BACKUP, "doomed"), {"fileSystemId": fs, "life": "n1"})
    message = raised.value.failure.message
    assert "insufficient free storage capacity (emulated)" in message and "FAILED" in message
    assert "Traceback" not in message and "Unexpected <class" not in message and "\n" not in message.strip()
    (failed,) = user_backups(emu, include_deleted=True)
    assert failed["BackupId"] in message and failed["Lifecycle"] == "DELETED"
    assert engine.urn(BACKUP, "doomed") not in engine.state


def test_a_deadline_is_partial_state_and_the_next_up_resumes_the_same_backup(
    engine: NativeEngine, emu: FsxEmulator
) -> None:
    fs = lustre(emu)
    emu.set_backup_seconds(4.0, file_system_id=fs)
    urn = engine.urn(BACKUP, "slow")
    inputs = {"fileSystemId": fs, "life": "n1", "timeoutSeconds": 1}
    with pytest.raises(PluginError) as raised:
        engine.step(urn, inputs)
    failure = raised.value.failure
    (backup,) = user_backups(emu)
    assert failure.init_failed is not None and failure.init_failed.id == backup["BackupId"]
    assert backup["BackupId"] in failure.message and "Traceback" not in failure.message
    assert engine.state[urn].partial and engine.state[urn].id == backup["BackupId"]

    engine.restart()
    outputs = engine.step(urn, {**inputs, "timeoutSeconds": 60})
    assert outputs["backupId"] == backup["BackupId"] and outputs["lifecycle"] == "AVAILABLE"
    assert len(user_backups(emu)) == 1, "resumed, not duplicated"


def test_cancel_stops_a_wait_within_a_second_and_records_the_backup(engine: NativeEngine, emu: FsxEmulator) -> None:
    fs = lustre(emu)
    emu.set_backup_seconds(600.0, file_system_id=fs)
    urn = engine.urn(BACKUP, "long")
    outcome: list[Any] = []

    def create() -> None:
        try:
            outcome.append(engine.step(urn, {"fileSystemId": fs, "life": "n1"}))
        except PluginError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=create)
    thread.start()
    deadline = time.monotonic() + 60
    while not user_backups(emu) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert user_backups(emu), "the create never reached CreateBackup"
    cancelled_at = time.monotonic()
    engine.call("Cancel", empty_pb2.Empty())
    thread.join(30)
    stopped_after = time.monotonic() - cancelled_at
    assert not thread.is_alive()
    (error,) = outcome
    assert isinstance(error, PluginError) and "cancelled" in error.failure.message
    assert error.failure.init_failed is not None and error.failure.init_failed.id == user_backups(emu)[0]["BackupId"]
    assert engine.state[urn].partial
    # Generous against a loaded machine; the plugin checks every 0.25 s (server.CANCEL_CHECK_SECONDS).
    assert stopped_after < 5.0, stopped_after


def test_secret_inputs_stay_secret_in_state_and_derived_outputs(engine: NativeEngine, emu: FsxEmulator) -> None:
    fs = lustre(emu)
    urn = engine.urn(BACKUP, "hush")
    outputs = engine.step(urn, {"fileSystemId": secret(fs), "tags": secret({"project": "orion-7731"}), "life": "n1"})
    for name in ("tags", "managedTags", "targetFileSystemId", "fileSystemId"):
        assert is_secret(outputs[name]), name
    assert plain(outputs["tags"]) == {"project": "orion-7731"}
    assert not is_secret(outputs["lifecycle"]) and not is_secret(outputs["backupId"])
    stored = engine.state[urn]
    text = json.dumps(_outside_secrets(stored.outputs)) + json.dumps(_outside_secrets(stored.inputs))
    assert "orion-7731" not in text and fs not in text
    # No credential anywhere in state, and the refresh keeps the secrecy.
    assert not any(v in json.dumps(stored.outputs) for v in CREDENTIALS.values())
    engine.refresh()
    assert is_secret(engine.state[urn].outputs["tags"]) and is_secret(engine.state[urn].inputs["tags"])


def _outside_secrets(value: Any) -> Any:
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: _outside_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_outside_secrets(v) for v in value]
    return value


def test_import_by_id_alone_then_the_program_written_from_it_has_no_diff(
    engine: NativeEngine, emu: FsxEmulator
) -> None:
    fs = lustre(emu)
    client = boto3.client("fsx", region_name="us-east-1", endpoint_url=emu.endpoint_url,
                          aws_access_key_id="k", aws_secret_access_key="s")
    made = client.create_backup(FileSystemId=fs, Tags=[{"Key": "team", "Value": "ops"}])["Backup"]
    urn = engine.urn(BACKUP, "imported")
    read = engine.read(urn, made["BackupId"], import_=True)
    inputs, outputs = to_dict(read.inputs), to_dict(read.properties)
    assert read.id == made["BackupId"] and outputs["backupId"] == made["BackupId"]
    assert inputs["fileSystemId"] == fs and inputs["tags"] == {"team": "ops"}
    checked, failures = engine.check(urn, inputs)
    assert failures == []
    diff = engine.call("Diff", provider_pb2.DiffRequest(
        id=read.id, urn=urn, olds=read.properties, news=checked, old_inputs=read.inputs, type=BACKUP, name="imported",
    ))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE, list(diff.diffs)
    # A missing backup is "does not exist", not an error.
    assert engine.read(engine.urn(BACKUP, "ghost"), "backup-0123456789abcdef0", import_=True).id == ""


def test_a_plugin_killed_at_create_backup_never_duplicates(engine: NativeEngine, emu: FsxEmulator) -> None:
    fs = lustre(emu)
    urn = engine.urn(BACKUP, "crash")
    inputs = {"fileSystemId": fs, "life": "n1"}
    counter = ObservedCounter.install(emu)
    counter.arm("CreateBackup", 1, engine.kill, current=emu.calls["CreateBackup"])
    with pytest.raises(PluginError):
        engine.step(urn, inputs)
    assert urn not in engine.state  # the engine knows nothing of the interrupted create
    engine.restart()
    outputs = engine.step(urn, inputs)
    (backup,) = user_backups(emu)
    assert outputs["backupId"] == backup["BackupId"], "the backup of the killed create is adopted"


def test_tags_are_updated_in_place_and_triggers_replace(engine: NativeEngine, emu: FsxEmulator) -> None:
    fs = lustre(emu)
    urn = engine.urn(BACKUP, "rot")
    first = engine.step(urn, {"fileSystemId": fs, "life": "n1", "tags": {"a": "1"}})
    second = engine.step(urn, {"fileSystemId": fs, "life": "n1", "tags": {"a": "2"}})
    assert second["backupId"] == first["backupId"] and second["tags"] == {"a": "2"}
    assert "Update" in engine.calls
    third = engine.step(urn, {"fileSystemId": fs, "life": "n2", "tags": {"a": "2"}, "triggers": {"v": 2}})
    assert third["backupId"] != first["backupId"]
    lifecycles = {b["BackupId"]: b["Lifecycle"] for b in user_backups(emu, include_deleted=True)}
    assert lifecycles == {first["backupId"]: "DELETED", third["backupId"]: "AVAILABLE"}


def test_unknowns_in_a_preview_are_not_judged(engine: NativeEngine, emu: FsxEmulator) -> None:
    _, failures = engine.check(engine.urn(BACKUP, "later"), {"fileSystemId": UNKNOWN, "life": UNKNOWN})
    assert failures == [] and writes(emu) == {}
