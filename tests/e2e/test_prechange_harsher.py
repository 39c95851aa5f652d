"""Pre-change backups where the real engine is harsher (issue 14, A.3 and A.5), through the harness:
a change repeated later gets a fresh backup, a guard that can never succeed fails the preview, and a
stack with guards is destroyed with `--run-program`."""

from __future__ import annotations

from typing import Any, Callable

import pulumi
import pulumi_aws as aws

from fsx_backup_component import PreChangeBackup
from fsx_backup_component.prechange import GUARD_TAG_KEY

LUSTRE = "aws:fsx/lustreFileSystem:LustreFileSystem"


def lustre(capacity: int, *, deployment: str = "PERSISTENT_2", before_delete: bool = True) -> Callable[[], None]:
    def program() -> None:
        guard = PreChangeBackup("guard", before_delete=before_delete)
        aws.fsx.LustreFileSystem(
            "data",
            storage_capacity=capacity,
            subnet_ids="subnet-0123456789abcdef0",
            deployment_type=deployment,
            opts=pulumi.ResourceOptions(hooks=guard.hooks),
        )

    return program


def guard_backups(emu: Any, include_deleted: bool = False) -> list[dict[str, Any]]:
    return [
        b
        for b in emu.backups(include_deleted=include_deleted)
        if any(t["Key"] == GUARD_TAG_KEY for t in b.get("Tags") or [])
    ]


def test_a_change_made_again_later_gets_a_fresh_backup(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    h.up(lustre(1200)).raise_for_errors()
    seen: list[str] = []
    for capacity in (2400, 1200, 2400):  # the third change is the first one again
        h.up(lustre(capacity)).raise_for_errors()
        newest = max(guard_backups(emu), key=lambda b: b["CreationTime"])
        seen.append(newest["BackupId"])
        # The backup is of the file system as it was just before this change.
        assert newest["FileSystem"]["StorageCapacity"] != capacity
    assert len(set(seen)) == 3, f"a change adopted an earlier change's backup: {seen}"
    assert len(guard_backups(emu)) == 3


def test_a_guard_on_a_scratch_file_system_fails_the_preview(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    h.up(lustre(1200, deployment="SCRATCH_2")).raise_for_errors()  # no hook runs on creation

    preview = h.preview(lustre(2400, deployment="SCRATCH_2"))

    assert not preview.ok
    text = preview.error_text()
    assert "guard" in text and "SCRATCH_2" in text, text
    assert not emu.calls.get("CreateBackup"), "a preview wrote to FSx"
    # `pulumi up` runs the same preview first: it stops before any change.
    up = h.up(lustre(2400, deployment="SCRATCH_2"))
    assert not up.ok and not emu.calls.get("CreateBackup")


def test_a_stack_with_guards_is_destroyed_with_run_program(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    h.up(lustre(1200)).raise_for_errors()

    plain = h.destroy()
    assert not plain.ok and "--run-program" in plain.error_text()
    assert h.state.resources, "a refused destroy deleted something"

    h.destroy(lustre(1200), run_program=True).raise_for_errors()
    (final,) = guard_backups(emu)
    assert final["Lifecycle"] == "AVAILABLE", "the last backup before the file system was deleted"
    assert h.state.resources == {}


def test_without_before_delete_a_plain_destroy_works(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness()
    h.up(lustre(1200, before_delete=False)).raise_for_errors()
    h.destroy().raise_for_errors()
    assert guard_backups(emu) == []
