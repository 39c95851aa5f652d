"""`FsxBackup(keep_last=N)`: rotations through the real provider host against the emulator. Each
trigger change takes the new backup first, then deletes the rotation's backups beyond the newest N;
a refused delete is a warning, never a failed `up`; destroy deletes every backup the rotation kept."""

from __future__ import annotations

from typing import Any, Callable

import pulumi
from e2e_helpers import BACKUP_TYPE, live_backups, make_target, write_calls

from fsx_backup_component import FsxBackup
from fsx_backup_component.records import ROTATION_TAG_KEY

ROTATIONS = 5
KEEP = 3


def rotation_program(name: str, day: int, **kwargs: Any) -> Callable[[], None]:
    def program() -> None:
        backup = FsxBackup(name, triggers={"day": day}, **kwargs)
        pulumi.export("backup_id", backup.backup_id)
        pulumi.export("kept_backups", backup.kept_backups)
        pulumi.export("tags", backup.tags)

    return program


def newest_first(backups: list[dict[str, Any]]) -> list[str]:
    return [b["BackupId"] for b in sorted(backups, key=lambda b: b["CreationTime"], reverse=True)]


def tags_of(backup: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backup.get("Tags") or []}


def test_five_trigger_changes_keep_exactly_the_newest_three(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "openzfs")
    h = harness()
    taken: list[str] = []
    for day in range(1, ROTATIONS + 1):
        up = h.up(rotation_program("daily", day, keep_last=KEEP, tags={"team": "data"}, **target)).raise_for_errors()
        taken.append(up.stack_outputs["backup_id"])
        live = live_backups(emu)
        assert newest_first(live) == taken[::-1][:KEEP], f"after rotation {day}"
        assert up.stack_outputs["kept_backups"] == taken[::-1][1:KEEP]
        # The rotation tag is the package's own: not among the user's tags, so no drift and no diff.
        assert up.stack_outputs["tags"] == {"team": "data"}
        assert len({tags_of(b)[ROTATION_TAG_KEY] for b in live}) == 1
    assert len(set(taken)) == ROTATIONS

    again = h.up(rotation_program("daily", ROTATIONS, keep_last=KEEP, tags={"team": "data"}, **target))
    assert again.raise_for_errors().op_of("daily", BACKUP_TYPE) == "same"

    h.destroy().raise_for_errors()
    assert live_backups(emu) == [], "destroy deletes every backup the rotation kept"


def test_a_refused_delete_while_pruning_warns_and_the_up_succeeds(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "windows")
    h = harness()
    first = h.up(rotation_program("daily", 1, keep_last=1, **target)).raise_for_errors().stack_outputs["backup_id"]
    emu.refuse_delete(first)

    second = h.up(rotation_program("daily", 2, keep_last=1, **target))

    assert second.ok, second.error_text()
    new = second.stack_outputs["backup_id"]
    assert {b["BackupId"] for b in live_backups(emu)} == {first, new}
    assert second.stack_outputs["kept_backups"] == [first], "a backup FSx refused to delete is listed as kept"
    warned = [r.message for r in h.logs if r.severity == "warning" and first in r.message]
    assert warned and "keep_last=1" in warned[0] and "AccessDeniedException" in warned[0], warned

    emu.allow_delete(first)
    third = h.up(rotation_program("daily", 3, keep_last=1, **target)).raise_for_errors()
    assert newest_first(live_backups(emu)) == [third.stack_outputs["backup_id"]], "pruned at the next new backup"


def test_without_keep_last_a_trigger_change_deletes_the_old_backup_and_tags_nothing(
    emu: Any, harness: Callable[..., Any]
) -> None:
    target = make_target(emu, "lustre")
    h = harness()
    h.up(rotation_program("daily", 1, **target)).raise_for_errors()
    second = h.up(rotation_program("daily", 2, **target)).raise_for_errors()
    (live,) = live_backups(emu)
    assert live["BackupId"] == second.stack_outputs["backup_id"] and second.stack_outputs["kept_backups"] == []
    assert ROTATION_TAG_KEY not in tags_of(live)
    assert all(not r.endswith("-rotation") for r in h.state.resources), "no rotation child without keep_last"


def test_keep_last_set_later_takes_the_current_backup_into_the_rotation(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "ontap-volume")
    h = harness()
    first = h.up(rotation_program("daily", 1, **target)).raise_for_errors().stack_outputs["backup_id"]
    joined = h.up(rotation_program("daily", 1, keep_last=2, **target)).raise_for_errors()
    assert joined.stack_outputs["backup_id"] == first and joined.op_of("daily", BACKUP_TYPE) == "update"
    second = h.up(rotation_program("daily", 2, keep_last=2, **target)).raise_for_errors()
    assert newest_first(live_backups(emu)) == [second.stack_outputs["backup_id"], first]
    assert second.stack_outputs["kept_backups"] == [first]


def test_bad_keep_last_fails_the_preview_naming_it(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "lustre")
    h = harness()
    with_copies = h.preview(rotation_program("daily", 1, keep_last=2, copy_to_regions=["us-west-2"], **target))
    assert not with_copies.ok and "keep_last" in with_copies.error_text() and "copy_to_regions" in with_copies.error_text()
    too_many_tags = h.preview(
        rotation_program("daily", 1, keep_last=2, tags={f"k{i}": "v" for i in range(49)}, **target)
    )
    assert not too_many_tags.ok and "at most 48" in too_many_tags.error_text()
    assert write_calls(emu) == {}
