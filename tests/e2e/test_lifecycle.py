"""The whole life of a backup, for each target kind, through the real provider host:
preview -> up -> up (no change) -> tag change -> trigger change (replace) -> refresh after an
out-of-band deletion -> up -> destroy."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from e2e_helpers import (
    BACKUP_TYPE,
    READ_ONLY_RPCS,
    TARGET_KINDS,
    WRITE_OPERATIONS,
    backup_program,
    emulator_ops,
    live_backups,
    make_target,
    write_calls,
)


@pytest.mark.parametrize("kind", sorted(TARGET_KINDS))
def test_backup_lifecycle(kind: str, emu: Any, harness: Callable[..., Any]) -> None:
    fs_type, resource_type = TARGET_KINDS[kind]
    target = make_target(emu, kind)
    h = harness()

    def program(tags: dict[str, str], triggers: Any = None) -> Callable[[], None]:
        return backup_program("nightly", tags=tags, triggers=triggers, **target)

    # -- preview: Check only, read-only AWS calls, outputs unknown ---------------------------
    preview = h.preview(program({"team": "data"}))
    preview.raise_for_errors()
    urn = preview.urn("nightly", BACKUP_TYPE)
    assert preview.ops[urn] == "create"
    assert set(preview.methods()) <= {"Configure", "Check"}, "Create/Update must never run at preview"
    assert write_calls(emu) == {}
    assert h.state.resources == {}

    # -- up: one AVAILABLE backup, outputs populated ----------------------------------------
    up = h.up(program({"team": "data"})).raise_for_errors()
    assert up.ops[urn] == "create"
    # The backup and its life (life.py: the nonce stored before the first CreateBackup).
    assert len(up.rpcs("Create", urn)) == 1 and up.methods()["Create"] == 2
    (backup,) = live_backups(emu)
    assert backup["Lifecycle"] == "AVAILABLE"
    outputs = up.outputs_of("nightly", "fsx-backup:index:FsxBackup")
    assert outputs["backup_id"] == backup["BackupId"] == up.stack_outputs["backup_id"]
    assert outputs["lifecycle"] == "AVAILABLE" == up.stack_outputs["lifecycle"]
    assert outputs["file_system_type"] == fs_type
    assert outputs["resource_type"] == resource_type
    assert outputs["backup_arn"] == backup["ResourceARN"]
    assert outputs["tags"] == {"team": "data"}
    assert outputs["client_request_token"]
    assert outputs["creation_time"]
    if "volume_id" in target:
        assert outputs["volume_id"] == target["volume_id"]
    else:
        assert outputs["file_system_id"] == target["file_system_id"]
    state = h.state.resources[urn]
    assert state.id == backup["BackupId"]
    assert "__provider" in state.inputs and "__provider" in state.outputs

    # -- second up, no change: only Check/Diff, no AWS write ----------------------------------
    calls_before = dict(emu.calls)
    same = h.up(program({"team": "data"})).raise_for_errors()
    assert same.ops[urn] == "same"
    assert set(same.methods()) <= READ_ONLY_RPCS
    assert write_calls(emu) == {k: v for k, v in calls_before.items() if k in WRITE_OPERATIONS and v}

    # -- tag change: Update in place, tags changed in FSx, no new backup ----------------------
    created_before = emu.calls["CreateBackup"]
    retag = h.up(program({"team": "ops", "reason": "pre-upgrade"})).raise_for_errors()
    assert retag.ops[urn] == "update"
    assert retag.methods()["Update"] == 1 and not retag.rpcs("Create")
    assert retag.rpcs("Update")[0].urn == urn, "a tag change is not a new life"
    assert emu.calls["CreateBackup"] == created_before
    (retagged,) = live_backups(emu)
    assert retagged["BackupId"] == backup["BackupId"]
    user_tags = {t["Key"]: t["Value"] for t in retagged["Tags"] if not t["Key"].startswith("fsx-backup-component:")}
    assert user_tags == {"team": "ops", "reason": "pre-upgrade"}
    assert retag.outputs_of("nightly", "fsx-backup:index:FsxBackup")["tags"] == user_tags

    # -- trigger change: create-before-delete replacement -------------------------------------
    emu.reset_counters()
    replace = h.up(program({"team": "ops", "reason": "pre-upgrade"}, {"app_version": "2"})).raise_for_errors()
    assert replace.ops[urn] == "replace"
    methods = [r.method for r in replace.rpcs(urn=urn)]
    assert methods.index("Create") < methods.index("Delete"), methods
    assert replace.rpcs("Diff")[0].response["replaces"]
    ops = emulator_ops(emu)
    assert ops.index("CreateBackup") < ops.index("DeleteBackup"), ops
    (replacement,) = live_backups(emu)
    assert replacement["BackupId"] != backup["BackupId"]
    assert replacement["Lifecycle"] == "AVAILABLE"
    assert h.state.resources[urn].id == replacement["BackupId"]
    assert not h.state.pending_deletes

    # -- refresh after an out-of-band deletion: the resource leaves the state ---------------------
    emu.delete_backup_out_of_band(replacement["BackupId"])
    refresh = h.refresh().raise_for_errors()
    assert refresh.ops[urn] == "read-deleted"
    assert urn not in h.state.resources
    assert set(refresh.methods()) == {"Configure", "Read"}

    # -- up again: a new backup (not the deleted one) ----------------------------------------
    again = h.up(program({"team": "ops", "reason": "pre-upgrade"}, {"app_version": "2"})).raise_for_errors()
    assert again.ops[urn] == "create"
    (fresh,) = live_backups(emu)
    assert fresh["BackupId"] not in (backup["BackupId"], replacement["BackupId"])

    # -- destroy: nothing left, in the stack or in FSx -----------------------------------------
    destroy = h.destroy().raise_for_errors()
    assert destroy.ops[urn] == "delete"
    assert h.state.resources == {}
    assert live_backups(emu) == []
