"""Preview refuses ineligible targets with the message a user should see, making no write call.

Each case goes through the real provider host: the engine's Check at preview is where the component
judges eligibility (read-only Describe* calls only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pulumi
import pulumi_aws as aws
import pytest
from e2e_helpers import BACKUP_TYPE, backup_program, live_backups, write_calls

from fsx_backup_component import FsxBackup
from fsx_backup_component.state import TARGET_FILE_SYSTEM_ID


@dataclass(frozen=True)
class Case:
    id: str
    seed: Callable[[Any], dict[str, str]]  # emulator -> FsxBackup target kwargs
    property: str
    says: tuple[str, ...]  # what the message must mention (case-insensitive)


def _lustre(deployment: str, **extra: Any) -> Callable[[Any], dict[str, str]]:
    return lambda emu: {"file_system_id": emu.add_file_system("LUSTRE", deployment_type=deployment, **extra)}


def _lustre_with_dra(emu: Any) -> dict[str, str]:
    fs_id = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    emu.add_data_repository_association(fs_id, data_repository_path="s3://bucket/prefix")
    return {"file_system_id": fs_id}


def _ontap_fs(emu: Any) -> dict[str, str]:
    fs_id = emu.add_file_system("ONTAP")
    emu.add_volume(fs_id, ontap_volume_type="RW")
    return {"file_system_id": fs_id}


def _ontap_dp_volume(emu: Any) -> dict[str, str]:
    return {"volume_id": emu.add_volume(emu.add_file_system("ONTAP"), name="mirror", ontap_volume_type="DP")}


def _both(emu: Any) -> dict[str, str]:
    fs_id = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    return {"file_system_id": fs_id, "volume_id": emu.add_volume(emu.add_file_system("ONTAP"))}


CASES = [
    Case("lustre-scratch2", _lustre("SCRATCH_2"), "file_system_id", ("SCRATCH_2", "scratch")),
    Case(
        "lustre-import-path",
        _lustre("PERSISTENT_1", import_path="s3://bucket/data"),
        "file_system_id",
        ("S3", "ImportPath"),
    ),
    Case("lustre-dra", _lustre_with_dra, "file_system_id", ("data repository association", "S3")),
    Case("ontap-file-system", _ontap_fs, "file_system_id", ("ONTAP", "volume")),
    Case("ontap-dp-volume", _ontap_dp_volume, "volume_id", ("DP",)),
    Case("malformed-id", lambda emu: {"file_system_id": "fs-xyz"}, "file_system_id", ("fs-xyz", "not a file system ID")),
    Case(
        "unknown-id",
        lambda emu: {"file_system_id": "fs-0123456789abcdef9"},
        "file_system_id",
        ("fs-0123456789abcdef9", "not found"),
    ),
    Case("both-targets", _both, "file_system_id", ("exactly one target",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_preview_refuses_ineligible_target(case: Case, emu: Any, harness: Callable[..., Any]) -> None:
    target = case.seed(emu)
    h = harness(backup_program("bad", **target))

    preview = h.preview()

    assert not preview.ok
    urn = preview.urn("bad", BACKUP_TYPE)
    failures = preview.check_failures[urn]
    assert failures[0].property == case.property, failures
    message = preview.error_text().lower()
    for needle in case.says:
        assert needle.lower() in message, f"{needle!r} not in {preview.error_text()!r}"
    assert set(preview.methods()) <= {"Configure", "Check"}
    assert write_calls(emu) == {}, "preview must make no write call"
    assert h.state.resources == {}
    # and `up` refuses the same way, before any write
    up = h.up()
    assert not up.ok and urn in up.check_failures
    assert not up.rpcs("Create") and write_calls(emu) == {}


def test_target_created_in_same_program_scratch_fails_from_known_inputs(
    emu: Any, harness: Callable[..., Any]
) -> None:
    def program() -> None:
        fs = aws.fsx.LustreFileSystem(
            "scratch", deployment_type="SCRATCH_2", storage_capacity=1200, subnet_ids="subnet-0123456789abcdef0"
        )
        FsxBackup("scratch-backup", file_system=fs)

    h = harness(program)
    file_systems_before = emu.calls["DescribeFileSystems"]
    preview = h.preview()

    assert not preview.ok
    urn = preview.urn("scratch-backup", BACKUP_TYPE)
    assert "SCRATCH_2" in preview.error_text()
    # the file system's ID is unknown at preview: the provider judged from its known inputs
    (check,) = preview.rpcs("Check", urn)
    assert check.request["news"][TARGET_FILE_SYSTEM_ID] == pulumi.runtime.rpc.UNKNOWN
    assert emu.calls["DescribeFileSystems"] == file_systems_before
    assert write_calls(emu) == {}


def test_target_created_in_same_program_persistent_previews_then_backs_up(
    emu: Any, harness: Callable[..., Any]
) -> None:
    def program() -> None:
        fs = aws.fsx.LustreFileSystem(
            "data", deployment_type="PERSISTENT_2", storage_capacity=1200, per_unit_storage_throughput=125,
            subnet_ids="subnet-0123456789abcdef0",
        )
        backup = FsxBackup("data-backup", file_system=fs)
        pulumi.export("backup_id", backup.backup_id)
        pulumi.export("file_system_id", fs.id)

    h = harness(program)
    preview = h.preview().raise_for_errors()
    assert preview.op_of("data-backup", BACKUP_TYPE) == "create"
    assert preview.op_of("data", "aws:fsx") == "create"
    assert not preview.stack_outputs or isinstance(
        preview.stack_outputs.get("backup_id"), pulumi.output.Unknown
    )

    up = h.up().raise_for_errors()
    fs_id = up.stack_outputs["file_system_id"]
    (backup,) = live_backups(emu)
    assert backup["BackupId"] == up.stack_outputs["backup_id"]
    assert backup["FileSystem"]["FileSystemId"] == fs_id
    # the engine created the file system before the backup's Create ran (dependency order)
    fs_created = h.events.first(kind="op", name="create", phase="end", urn=up.urn("data", "aws:fsx"))
    create_rpc = h.events.first(kind="rpc", name="Create", phase="start")
    assert fs_created.seq < create_rpc.seq
    h.destroy().raise_for_errors()
    assert live_backups(emu) == []
