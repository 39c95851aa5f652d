"""The harness's own engine behaviours the other tests rely on: dependency-ordered deletes of removed
resources, previewed deletes, in-memory updates reaching the emulator, the `parallel` knob."""

from __future__ import annotations

from typing import Any, Callable

import pulumi_aws as aws
from e2e_helpers import BACKUP_TYPE, live_backups

from fsx_backup_component import FsxBackup

LUSTRE = "aws:fsx/lustreFileSystem:LustreFileSystem"


def _lustre_with_backup(version: str = "2.12", with_backup: bool = True) -> Callable[[], None]:
    def program() -> None:
        fs = aws.fsx.LustreFileSystem(
            "data", deployment_type="PERSISTENT_2", storage_capacity=1200, per_unit_storage_throughput=125,
            subnet_ids="subnet-0123456789abcdef0", file_system_type_version=version,
        )
        if with_backup:
            FsxBackup("data-backup", file_system=fs)

    return program


def test_removed_resources_are_deleted_dependents_first(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    h.up(_lustre_with_backup()).raise_for_errors()
    backup_urn = h.state.by_name("data-backup", BACKUP_TYPE).urn
    fs_urn = h.state.by_name("data", LUSTRE).urn

    preview = h.preview(lambda: None).raise_for_errors()
    assert preview.ops[backup_urn] == "delete" and preview.ops[fs_urn] == "delete"
    assert not preview.rpcs("Delete") and len(live_backups(emu)) == 1

    gone = h.up(lambda: None).raise_for_errors()
    assert gone.ops[backup_urn] == "delete" and gone.ops[fs_urn] == "delete"
    backup_deleted = h.events.first(kind="op", name="delete", phase="end", urn=backup_urn)
    fs_delete_started = h.events.first(kind="op", name="delete", phase="start", urn=fs_urn)
    assert backup_deleted.seq < fs_delete_started.seq, "the backup (a dependent) goes first"
    assert h.state.resources == {} and live_backups(emu) == []


def test_in_memory_update_reaches_the_emulator(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    h.up(_lustre_with_backup("2.12", with_backup=False)).raise_for_errors()
    fs = h.state.by_name("data", LUSTRE)

    upgrade = h.up(_lustre_with_backup("2.15", with_backup=False)).raise_for_errors()

    assert upgrade.ops[fs.urn] == "update"
    (event,) = h.events.find(kind="op", name="update", phase="end", urn=fs.urn)
    assert event.detail["changed"] == ["fileSystemTypeVersion"]
    assert emu.backups() == [], "no backup was asked for"
    assert emu._find_fs(fs.id)[1]["FileSystemTypeVersion"] == "2.15"


def test_parallel_knob_limits_operations_in_flight(emu: Any, harness: Callable[..., Any]) -> None:
    file_systems = [emu.add_file_system("WINDOWS") for _ in range(2)]

    def program() -> None:
        for i, fs_id in enumerate(file_systems):
            FsxBackup(f"b{i}", file_system_id=fs_id)

    up = harness(program, parallel=1).up().raise_for_errors()

    first, second = sorted((r for r in up.rpcs("Create") if BACKUP_TYPE in r.urn), key=lambda r: r.started)
    assert first.ended is not None and first.ended <= second.started, "parallel=1 runs one step at a time"
