"""A FAILED backup and a destroy-then-up, through the real provider host."""

from __future__ import annotations

from typing import Any, Callable

from e2e_helpers import BACKUP_TYPE, backup_program, live_backups, make_target, user_backups


def test_failed_backup_surfaces_the_aws_reason_and_leaves_nothing(emu: Any, harness: Callable[..., Any]) -> None:
    reason = "Backup of the file system failed: not enough free space on the file system (emulated)."
    emu.fail_next_backup(message=reason)
    h = harness(backup_program("doomed", **make_target(emu, "windows")))

    up = h.up()

    assert not up.ok
    urn = up.urn("doomed", BACKUP_TYPE)
    assert reason in up.errors[urn], up.errors[urn]
    assert urn not in h.state.resources and h.state.pending_operations == {}
    (failed,) = user_backups(emu, include_deleted=True)
    assert failed["Lifecycle"] == "DELETED", "the FAILED backup is cleaned up"
    assert live_backups(emu) == []


def test_destroy_then_up_takes_a_new_backup(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(backup_program("nightly", tags={"team": "data"}, **make_target(emu, "lustre-persistent2")))
    first = h.up().raise_for_errors()
    first_id = first.stack_outputs["backup_id"]
    h.destroy().raise_for_errors()
    assert live_backups(emu) == []

    second = h.up().raise_for_errors()

    second_id = second.stack_outputs["backup_id"]
    assert second_id != first_id, "the deleted backup must not be adopted again"
    (backup,) = live_backups(emu)
    assert backup["BackupId"] == second_id and backup["Lifecycle"] == "AVAILABLE"
    assert second.outputs_of("nightly", "fsx-backup:index:FsxBackup")["lifecycle"] == "AVAILABLE"
