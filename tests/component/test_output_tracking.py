"""The component's Outputs are left to the registrations that await them (sdk_tracking.py), so the
SDK's end-of-program wait stays linear in the stack's backups, and no failure is lost on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from component_helpers import FakeCloud, RecordingMonitor, run
from pulumi.runtime.mocks import MockResourceArgs
from pulumi.runtime.settings import SETTINGS

from fsx_backup_component import FsxBackup
from fsx_backup_component.sdk_tracking import tracked_count

CHILD = "pulumi-python:dynamic/fsx-backup:Backup"
VOL_ID = "fsvol-0123456789abcdef0"
REFUSAL = "BackupInProgress: a backup of fsvol-0123456789abcdef0 is already in progress (emulated)"


@pytest.fixture(autouse=True)
def no_failed_output_left_behind() -> Iterator[None]:
    """A failed Output stays in the SDK's tracked set (shared by the threads' default contexts) and
    would fail the next program to run in this process, a harness `up` of another test."""
    yield
    SETTINGS.outputs.clear()


def _tracked_while_building(build: Any) -> int:
    before = tracked_count()
    assert before is not None, "this SDK keeps no set of tracked Outputs: see tests/unit/test_sdk_tracking.py"
    build()
    after = tracked_count()
    assert after is not None
    return after - before


def test_building_backups_leaves_none_of_their_outputs_tracked(monitor: RecordingMonitor) -> None:
    added: list[int] = []
    ids: list[pulumi.Output[str]] = []

    def program() -> Any:
        def build() -> None:
            for i in range(8):
                backup = FsxBackup(f"b{i}", volume_id=f"{VOL_ID[:-1]}{i}", tags={"n": str(i)},
                                   region="us-east-1", triggers={"release": "1"})
                ids.append(backup.backup_id)
        added.append(_tracked_while_building(build))
        return pulumi.Output.all(*ids)

    resolved = run(program)

    assert added == [0], "each FsxBackup used to leave ~40 Outputs in the SDK's quadratic end-of-program wait"
    assert resolved == ["backup-0123456789abcdef0"] * 8, "the untracked outputs still resolve"
    assert len(monitor.of_type(CHILD)) == 8


def test_the_programs_own_outputs_stay_tracked(monitor: RecordingMonitor) -> None:
    kept: list[bool] = []

    def program() -> Any:
        earlier = pulumi.Output.from_input("x").apply(str.upper)  # the program's, pending still
        backup = FsxBackup("b", volume_id=VOL_ID, tags={"made-from": earlier})
        later = backup.backup_id.apply(len)  # the program's own value derived from the component's
        kept.extend([earlier._data in SETTINGS.outputs, later._data in SETTINGS.outputs,
                     backup.backup_arn._data in SETTINGS.outputs])
        return None

    run(program)

    assert kept == [True, True, False], "(the program's earlier Output, its later one, the component's)"


def test_a_program_that_reads_no_output_still_fails_when_the_backup_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    class RefusingCloud(FakeCloud):
        def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            if args.typ == CHILD:
                raise RuntimeError(REFUSAL)
            return super().new_resource(args)

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    pulumi.runtime.set_mocks(RefusingCloud(), project="proj", stack="dev", preview=False,
                             monitor=RecordingMonitor(RefusingCloud()))

    with pytest.raises(Exception, match="BackupInProgress"):
        run(lambda: [FsxBackup("b", volume_id=VOL_ID), None][1])


def test_a_failing_input_of_the_program_still_fails_it(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        tags = pulumi.Output.from_input({"team": "data"}).apply(lambda _: {"bad": 1 / 0})
        FsxBackup("b", volume_id=VOL_ID, tags=tags)
        return None

    with pytest.raises(ZeroDivisionError):
        run(program)
    assert monitor.of_type(CHILD) == [], "the backup was never registered with a broken input"
