"""What `pulumi destroy` deletes, and where: through the real provider host against the emulator.

Each test here was added for a bug the mutation check (tools/mutate.py) planted and only a unit test
noticed: a backup already gone must not fail the destroy (the emulator answers a *repeated* delete
token with success, so only a backup deleted by someone else shows it), and the backup is deleted in
the region it was made in, whatever the stack's `aws:region` says today.
"""

from __future__ import annotations

from typing import Any, Callable

from e2e_helpers import BACKUP_TYPE, backup_program, live_backups, make_target


def test_destroy_of_a_backup_deleted_by_hand_succeeds_without_a_refresh(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(backup_program("nightly", **make_target(emu, "windows")))
    backup_id = h.up().raise_for_errors().stack_outputs["backup_id"]
    emu.delete_backup_out_of_band(backup_id)  # by another actor: our delete token was never used

    destroy = h.destroy()

    assert destroy.ok, destroy.error_text()
    assert destroy.ops[destroy.urn("nightly", BACKUP_TYPE)] == "delete"
    assert h.state.resources == {} and live_backups(emu) == []


def test_destroy_deletes_the_backup_in_its_own_region_after_aws_region_changed(
    emu: Any, harness: Callable[..., Any]
) -> None:
    """Made with `aws:region` us-east-1 (no `region` input); the stack's config then says eu-west-1
    (the stack moved on). The backup still lives in us-east-1, and destroy deletes it there."""
    h = harness(backup_program("nightly", **make_target(emu, "openzfs", region="us-east-1")), region="us-east-1")
    backup_id = h.up().raise_for_errors().stack_outputs["backup_id"]
    h.set_config("aws:region", "eu-west-1")

    h.destroy().raise_for_errors()

    assert h.state.resources == {}
    assert [b["BackupId"] for b in live_backups(emu)] == [], f"{backup_id} was left in us-east-1"
    deletes = [region for _, region, op, params in emu.call_log if op == "DeleteBackup"]
    assert deletes == ["us-east-1"], deletes
