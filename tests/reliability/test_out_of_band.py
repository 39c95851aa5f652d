"""Guarantee: changes made outside Pulumi (a backup or a file system deleted by hand) are met the way
users expect, by refresh, up, destroy and preview."""

from __future__ import annotations

from typing import Any, Callable

from reliability_helpers import (
    BACKUP_TYPE,
    WRITE_OPERATIONS,
    assert_converged,
    assert_no_orphans,
    live_backups,
    make_target,
    single_program,
    user_backups,
    write_calls,
)


def test_backup_deleted_out_of_band_leaves_state_on_refresh_and_up_takes_a_new_one(
    emu: Any, harness: Callable[..., Any], ledger: Any
) -> None:
    target = make_target(emu, "openzfs")
    program = single_program("nightly", tags={"team": "data"}, **target)
    h = harness(program)
    first = h.up().raise_for_errors().stack_outputs["backup_id"]
    emu.delete_backup_out_of_band(first)

    refresh = h.refresh().raise_for_errors()

    urn = refresh.urn("nightly", BACKUP_TYPE)
    assert refresh.ops[urn] == "read-deleted" and urn not in h.state.resources
    up = h.up().raise_for_errors()
    assert up.ops[urn] == "create"
    (fresh,) = live_backups(emu)
    assert fresh["BackupId"] not in (first,) and up.stack_outputs["backup_id"] == fresh["BackupId"]
    assert_no_orphans(h, emu)
    assert_converged(h)
    ledger.record("out-of-band", cases=1)


def test_file_system_deleted_out_of_band_keeps_the_backup_until_destroy(
    emu: Any, harness: Callable[..., Any], ledger: Any
) -> None:
    target = make_target(emu, "lustre")
    h = harness(single_program("keep", **target))
    backup_id = h.up().raise_for_errors().stack_outputs["backup_id"]
    emu.delete_file_system(target["file_system_id"])

    refresh = h.refresh().raise_for_errors()

    urn = refresh.urn("keep", BACKUP_TYPE)
    assert refresh.ops[urn] == "read", "user-initiated backups survive their file system"
    assert h.state.resources[urn].id == backup_id
    assert h.state.resources[urn].outputs["lifecycle"] == "AVAILABLE"
    assert [b["BackupId"] for b in live_backups(emu)] == [backup_id]
    emu.reset_counters()
    destroy = h.destroy().raise_for_errors()
    assert destroy.ops[urn] == "delete" and h.state.resources == {}
    assert live_backups(emu) == [] and emu.calls["DeleteBackup"] == 1
    ledger.record("out-of-band", cases=1)


def test_up_after_file_system_deleted_leaves_the_surviving_backup_alone(
    emu: Any, harness: Callable[..., Any]
) -> None:
    """The point of a user-initiated backup is to outlive its file system (e.g. a backup taken
    before decommissioning it). With the program unchanged, `up` has nothing to do."""
    target = make_target(emu, "windows")
    program = single_program("before-decommission", **target)
    h = harness(program)
    backup_id = h.up().raise_for_errors().stack_outputs["backup_id"]
    emu.delete_file_system(target["file_system_id"])
    h.refresh().raise_for_errors()

    up = h.up(program)

    assert up.ok, up.error_text()
    assert [b["BackupId"] for b in live_backups(emu)] == [backup_id]


def test_preview_of_a_new_backup_of_a_deleted_file_system_fails_not_found(
    emu: Any, harness: Callable[..., Any], ledger: Any
) -> None:
    target = make_target(emu, "windows")
    emu.delete_file_system(target["file_system_id"])
    h = harness(single_program("late", **target))

    preview = h.preview()

    assert not preview.ok
    urn = preview.urn("late", BACKUP_TYPE)
    (failure,) = preview.check_failures[urn]
    assert failure.property == "file_system_id"
    assert target["file_system_id"] in failure.reason and "not found" in failure.reason, failure.reason
    assert write_calls(emu) == {} and not set(emu.calls) & WRITE_OPERATIONS
    assert user_backups(emu, include_deleted=True) == []
    ledger.record("out-of-band", cases=1)
