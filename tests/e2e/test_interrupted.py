"""Interrupted operations: the provider process is SIGKILLed mid-operation, as when `pulumi up` is
killed; the engine journals the operation as pending and the next run redoes it with the same
inputs (pulumi/pulumi#11599). The stable ClientRequestToken must make that adopt the same backup."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from e2e_helpers import (
    BACKUP_TYPE,
    backup_program,
    live_backups,
    make_target,
    user_backups,
    wait_for,
)

from tests.harness import plain

BACKUP_SECONDS = 2.0  # long enough to tell the kill points apart


def _near_available(emu: Any) -> Callable[[], bool]:
    def predicate() -> bool:
        return any(
            b["Lifecycle"] != "AVAILABLE" and b.get("ProgressPercent", 0) >= 85 for b in user_backups(emu)
        )

    return predicate


def _polled_by_id(emu: Any) -> Callable[[], bool]:
    def predicate() -> bool:
        return any(op == "DescribeBackups" and "BackupIds" in params for _, _, op, params in emu.call_log)

    return predicate


KILL_POINTS: dict[str, Callable[[Any, Any], None]] = {
    # the CreateBackup request reached FSx, the provider never saw the answer
    "right-after-CreateBackup": lambda h, emu: h.kill_on_emulator_call("CreateBackup", 1),
    # create() is polling (the first DescribeBackups by ID: the one before CreateBackup lists the
    # target's backups by filter, looking for this life's token tag)
    "mid-wait": lambda h, emu: h.kill_when(_polled_by_id(emu)),
    # the backup is almost AVAILABLE
    "just-before-AVAILABLE": lambda h, emu: h.kill_when(_near_available(emu)),
}


@pytest.mark.parametrize("kill_point", sorted(KILL_POINTS))
def test_interrupted_up_adopts_the_same_backup(kill_point: str, emu: Any, harness: Callable[..., Any]) -> None:
    emu.set_backup_seconds(BACKUP_SECONDS)
    h = harness(backup_program("nightly", tags={"team": "data"}, **make_target(emu, "lustre-persistent2")))
    KILL_POINTS[kill_point](h, emu)

    first = h.up()

    assert not first.ok
    urn = first.urn("nightly", BACKUP_TYPE)
    assert "interrupted" in first.errors[urn], first.errors
    (cut,) = first.rpcs("Create", urn)
    assert cut.interrupted and cut.code == "UNAVAILABLE"
    assert h.state.pending_operations[urn].operation == "creating"
    assert urn not in h.state.resources
    # The emulator serves the cut request on its own thread; it may finish just after the run.
    wait_for(lambda: len(user_backups(emu)) == 1, "the backup started before the kill")

    second = h.up().raise_for_errors()

    assert any("interrupted" in w for w in second.warnings)
    assert h.state.pending_operations == {}
    (retry,) = second.rpcs("Create", urn)
    assert retry.request["properties"] == cut.request["properties"], "Create is retried with the same inputs"
    assert h.providers[0].pid != h.providers[-1].pid
    (backup,) = user_backups(emu, include_deleted=True)
    assert backup["Lifecycle"] == "AVAILABLE"
    assert h.state.resources[urn].id == backup["BackupId"]
    assert second.outputs_of("nightly", "fsx-backup:index:FsxBackup")["backup_id"] == backup["BackupId"]


def test_interrupted_tag_update_is_redone(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "windows")
    h = harness()
    h.up(backup_program("nightly", tags={"team": "data"}, **target)).raise_for_errors()
    retagged = backup_program("nightly", tags={"team": "ops"}, **target)
    h.kill_on_emulator_call("TagResource", 1)

    cut = h.up(retagged)

    urn = cut.urn("nightly", BACKUP_TYPE)
    assert not cut.ok and cut.rpcs("Update", urn)[0].interrupted
    assert h.state.pending_operations[urn].operation == "updating"
    assert plain(h.state.resources[urn].outputs["managed_tags"]) == {"team": "data"}, "old outputs kept"

    redo = h.up(retagged).raise_for_errors()
    assert redo.ops[urn] == "update"
    (backup,) = live_backups(emu)
    assert {t["Key"]: t["Value"] for t in backup["Tags"]}.get("team") == "ops"
    assert len(user_backups(emu, include_deleted=True)) == 1


def test_interrupted_destroy_is_redone(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(backup_program("nightly", **make_target(emu, "openzfs")))
    h.up().raise_for_errors()
    h.kill_on_emulator_call("DeleteBackup", 1)

    cut = h.destroy()

    urn = cut.urn("nightly", BACKUP_TYPE)
    assert not cut.ok and cut.rpcs("Delete", urn)[0].interrupted
    assert h.state.pending_operations[urn].operation == "deleting"
    assert urn in h.state.resources, "an interrupted delete leaves the resource in state"

    h.destroy().raise_for_errors()
    assert h.state.resources == {}
    assert live_backups(emu) == []
