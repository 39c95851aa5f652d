"""Part A of the harsher-world issue, through the real provider host against the strict emulator:
each test here failed on the component as it was before (see the closing note of issue 14)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Callable

import pulumi
import pytest
from e2e_helpers import COMPONENT_TYPE, backup_program, live_backups, make_target, user_backups

from fsx_backup_component import FsxBackup, fsx
from fsx_backup_component.backups import SUPERSEDED_TAG_KEY


def tags_of(backup: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backup.get("Tags") or []}


def backup_id_of(run: Any, name: str = "nightly") -> str:
    return str(run.outputs_of(name, COMPONENT_TYPE)["backup_id"])


# -- A.1 paged answers -----------------------------------------------------------------------------


def test_thirty_file_systems_answered_in_pages_of_seven(emu: Any, harness: Callable[..., Any]) -> None:
    emu.page_size = 7
    ids = [emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2") for _ in range(30)]

    def program() -> None:
        for n, fs_id in enumerate(ids):
            FsxBackup(f"b{n}", file_system_id=fs_id)

    h = harness(program)
    h.preview().raise_for_errors()
    up = h.up().raise_for_errors()
    assert len(live_backups(emu)) == 30
    assert {b["Lifecycle"] for b in live_backups(emu)} == {"AVAILABLE"}
    assert {up.outputs_of(f"b{n}", COMPONENT_TYPE)["lifecycle"] for n in range(30)} == {"AVAILABLE"}


# -- A.2 secrets -------------------------------------------------------------------------------------


def test_secret_tags_and_kms_key_never_reach_the_state_in_plain_text(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "windows")
    key = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"

    def program() -> None:
        backup = FsxBackup(
            "nightly",
            tags={"team": "data", "cost-centre": pulumi.Output.secret("cc-secret-4711")},
            copy_to_regions=pulumi.Output.secret([{"region": "us-west-2", "kms_key_id": key}]),
            **target,
        )
        pulumi.export("tags", backup.tags)
        pulumi.export("copies", backup.copies)
        pulumi.export("backup_id", backup.backup_id)

    h = harness(program)
    up = h.up().raise_for_errors()
    assert up.stack_outputs["copies"][0]["region"] == "us-west-2"
    assert h.plaintext_secrets() == []
    # What the user sees stays secret; what was never secret stays plain.
    component = h.state.by_name("nightly", COMPONENT_TYPE)
    assert component.secret_keys >= {"tags", "copies"}
    assert "backup_id" not in component.secret_keys
    # An update (tag change) writes the same rule again.
    h.up().raise_for_errors()
    assert h.plaintext_secrets() == []


# -- A.3 backup identity -----------------------------------------------------------------------------


def test_a_retained_backup_is_not_adopted_by_the_next_life(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(backup_program("nightly", retain_on_delete=True, **make_target(emu, "windows")))
    first = backup_id_of(h.up().raise_for_errors())
    h.destroy().raise_for_errors()
    assert [b["BackupId"] for b in live_backups(emu)] == [first], "retain_on_delete keeps the backup"

    second = backup_id_of(h.up().raise_for_errors())

    assert second != first, "the new life adopted the retained backup of the old one"
    assert {b["BackupId"] for b in live_backups(emu)} == {first, second}


def test_triggers_a_b_a_with_retention_make_three_backups(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "openzfs")
    h = harness()
    seen = []
    for version in ("A", "B", "A"):
        run = h.up(backup_program("nightly", retain_on_delete=True, triggers={"v": version}, **target))
        seen.append(backup_id_of(run.raise_for_errors()))
    assert len(set(seen)) == 3, seen
    assert len(live_backups(emu)) == 3


def test_equal_urns_on_two_backends_do_not_share_a_backup(emu: Any, harness: Callable[..., Any]) -> None:
    program = backup_program("nightly", **make_target(emu, "windows"))
    one, other = harness(program), harness(program)  # same project, stack and names: equal URNs
    first = backup_id_of(one.up().raise_for_errors())
    second = backup_id_of(other.up().raise_for_errors())
    assert first != second
    other.destroy().raise_for_errors()
    assert [b["BackupId"] for b in live_backups(emu)] == [first], "one stack deleted the other's backup"


def test_an_up_resumed_after_fsx_forgot_the_token_finds_its_backup_by_its_tag(
    emu: Any, harness: Callable[..., Any]
) -> None:
    emu.token_window_seconds = 0.0  # FSx forgets every token at once: only the tag can find it
    h = harness(backup_program("nightly", **make_target(emu, "windows")))  # no user tags
    h.kill_on_emulator_call("CreateBackup", 1)
    assert not h.up().ok
    (started,) = user_backups(emu)

    second = h.up().raise_for_errors()

    assert backup_id_of(second) == started["BackupId"]
    assert len(user_backups(emu, include_deleted=True)) == 1, "a second backup was made"


# -- A.7 a new target keeps the old backup ------------------------------------------------------------


def test_a_new_target_keeps_the_old_backup_tagged_superseded(emu: Any, harness: Callable[..., Any]) -> None:
    old_fs, new_fs = (emu.add_file_system("WINDOWS", deployment_type="SINGLE_AZ_2") for _ in range(2))
    h = harness()
    old = backup_id_of(h.up(backup_program("nightly", file_system_id=old_fs)).raise_for_errors())

    moved = h.up(backup_program("nightly", file_system_id=new_fs)).raise_for_errors()

    new = backup_id_of(moved)
    assert new != old
    assert moved.op_of("nightly", "pulumi-python:dynamic/fsx-backup:Backup") == "update"
    by_id = {b["BackupId"]: b for b in live_backups(emu)}
    assert set(by_id) == {old, new}, "the only backup of the old file system was deleted"
    assert tags_of(by_id[old])[SUPERSEDED_TAG_KEY] == new
    assert by_id[new]["FileSystem"]["FileSystemId"] == new_fs

    h.destroy().raise_for_errors()
    assert [b["BackupId"] for b in live_backups(emu)] == [old], "destroy deletes the managed backup only"


def test_delete_superseded_opts_in_to_deleting_the_old_backup(emu: Any, harness: Callable[..., Any]) -> None:
    old_fs, new_fs = (emu.add_file_system("WINDOWS", deployment_type="SINGLE_AZ_2") for _ in range(2))
    h = harness()
    h.up(backup_program("nightly", file_system_id=old_fs, delete_superseded=True)).raise_for_errors()
    moved = h.up(backup_program("nightly", file_system_id=new_fs, delete_superseded=True)).raise_for_errors()
    assert [b["BackupId"] for b in live_backups(emu)] == [backup_id_of(moved)]


# -- A.4 a fail-safe host widening ---------------------------------------------------------------------

OPAQUE_POOL = textwrap.dedent(
    '''
    """Loaded by the provider host at start: its grpc thread pool lacks ThreadPoolExecutor's private
    `_threads` and `_adjust_thread_count`, as a future grpc or CPython might."""
    import concurrent.futures

    _Real = concurrent.futures.ThreadPoolExecutor


    class OpaquePool:
        def __init__(self, max_workers=None, *args, **kwargs):
            self._inner = _Real(max_workers, *args, **kwargs)
            self._max_workers = max_workers

        def submit(self, *args, **kwargs):
            return self._inner.submit(*args, **kwargs)

        def shutdown(self, *args, **kwargs):
            return self._inner.shutdown(*args, **kwargs)


    concurrent.futures.ThreadPoolExecutor = OpaquePool
    '''
)


def test_a_host_pool_without_private_attributes_still_works_and_warns(
    emu: Any, harness: Callable[..., Any], tmp_path: Path
) -> None:
    (tmp_path / "sitecustomize.py").write_text(OPAQUE_POOL)
    target = make_target(emu, "windows")

    def program() -> None:
        for n in range(6):
            FsxBackup(f"b{n}", triggers={"n": n}, **target)

    h = harness(program, env={"PYTHONPATH": str(tmp_path)})
    h.up().raise_for_errors()

    assert len(live_backups(emu)) == 6
    warnings = [r for r in h.logs if r.severity == "warning" and "could not widen" in r.message]
    # One warning per provider process (the preview pass of `up` starts its own).
    assert len(warnings) == len(h.providers), [r.message for r in h.logs]
    assert "at most 4" in warnings[0].message


# -- A.8 region names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["eusc-de-east-1", "us-east-42"])
def test_a_well_formed_region_is_accepted_and_an_unknown_one_warned_about(
    region: str, emu: Any, harness: Callable[..., Any]
) -> None:
    """eusc-de-east-1 (the European Sovereign Cloud) was refused by the old pattern; us-east-42 is
    newer than any botocore: accepted with a warning."""
    fs_id = emu.add_file_system("WINDOWS", deployment_type="SINGLE_AZ_2", region=region)
    h = harness(backup_program("nightly", file_system_id=fs_id, region=region))
    up = h.up().raise_for_errors()
    assert up.outputs_of("nightly", COMPONENT_TYPE)["lifecycle"] == "AVAILABLE"
    warned = any(r.severity == "warning" and region in r.message for r in h.logs)
    assert warned == (region not in fsx.known_regions())


def test_a_malformed_region_still_fails_preview(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(backup_program("nightly", file_system_id="fs-0123456789abcdef0", region="us-east-1a"))
    preview = h.preview()
    assert not preview.ok
    assert "us-east-1a" in preview.error_text()
