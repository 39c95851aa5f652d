"""Guarantees about what FSx answers, through the real provider host against the emulator:

* BackupInProgress from a concurrent automatic backup is waited out, not failed;
* a FAILED backup: AWS's reason reaches the user, nothing is left in state or in FSx;
* ServiceLimitExceeded: a clear error naming the quota (and the AWS request ID), no partial state;
* deadline passed: a clear error naming the backup and its lifecycle, and the next `up` resumes the
  SAME backup.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from reliability_helpers import (
    BACKUP_TYPE,
    COMPONENT_TYPE,
    AnswerLog,
    BackupSpec,
    assert_converged,
    assert_no_duplicates,
    assert_no_orphans,
    backups_per_target,
    live_backups,
    make_target,
    single_program,
    stack_program,
    state_backup_ids,
    target_id,
    user_backups,
)

from fsx_backup_component.testing import FsxEmulator

# The provider's busy-wait pause is real time in the host (backups.BUSY_FIRST_WAIT = 5 s): keep
# the automatic backup short so that the first retry after the pause succeeds.
AUTOMATIC_BACKUP_SECONDS = 1.0
FAILURE_REASON = (
    "Backup failed because the file system has insufficient free storage capacity for the snapshot "
    "(emulated FailureDetails.Message)."
)
QUOTA = 2
QUOTA_STACK = 3
SHORT_TIMEOUT_SECONDS = 1
LONG_BACKUP_SECONDS = 4.0
REQUEST_ID_RE = re.compile(r"AWS request ID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_backup_in_progress_from_an_automatic_backup_is_waited_out(
    recorded: tuple[FsxEmulator, AnswerLog], harness: Callable[..., Any], ledger: Any
) -> None:
    emu, answers = recorded
    target = make_target(emu, "windows")
    fs = target["file_system_id"]
    emu.set_backup_seconds(AUTOMATIC_BACKUP_SECONDS, file_system_id=fs)
    h = harness(single_program("nightly", **target), emulator=emu)
    automatic: list[str] = []
    # FSx starts its automatic backup just as the provider asks for one (whatever the machine's load).
    answers.before("CreateBackup", lambda: automatic.append(emu.start_automatic_backup(fs)))
    started = time.monotonic()

    up = h.up()

    elapsed = time.monotonic() - started
    assert up.ok, up.error_text()
    creates = answers.of("CreateBackup")
    assert creates[0].code == "BackupInProgress", creates
    assert creates[-1].code == "" and creates[-1].status == 200
    (mine,) = user_backups(emu, include_deleted=True)
    assert mine["Lifecycle"] == "AVAILABLE" and up.stack_outputs["backup_id"] == mine["BackupId"]
    (auto,) = [b for b in emu.backups() if b["Type"] == "AUTOMATIC"]
    assert [auto["BackupId"]] == automatic and auto["Lifecycle"] == "AVAILABLE", "FSx's own backup is untouched"
    # One pause, then one accepted retry: the wait is the provider's busy pause, not a loop of
    # refused creates (a count, so a loaded machine cannot fail it; the time is the ledger's).
    assert [a.code for a in creates] == ["BackupInProgress", ""], creates
    ledger.record(
        "backup-in-progress",
        runs=1,
        refused_creates=sum(1 for a in creates if a.code == "BackupInProgress"),
        seconds=round(elapsed, 1),
    )


def test_failed_backup_reports_aws_reason_and_leaves_nothing(
    emu: FsxEmulator, harness: Callable[..., Any], ledger: Any
) -> None:
    target = make_target(emu, "lustre")
    emu.fail_next_backup(FAILURE_REASON, file_system_id=target["file_system_id"])
    h = harness(single_program("doomed", tags={"team": "data"}, **target))

    up = h.up()

    assert not up.ok
    urn = up.urn("doomed", BACKUP_TYPE)
    message = up.errors[urn]
    (failed,) = user_backups(emu, include_deleted=True)
    assert FAILURE_REASON in message, message
    assert failed["BackupId"] in message and "FAILED" in message, message
    assert urn not in h.state.resources, "nothing in state"
    assert failed["Lifecycle"] == "DELETED", "the FAILED backup was deleted"
    assert live_backups(emu) == []
    # The cause fixed, the next `up` takes a new backup (the failed one's token is not reused).
    again = h.up().raise_for_errors()
    (fresh,) = live_backups(emu)
    assert fresh["BackupId"] != failed["BackupId"] and again.stack_outputs["backup_id"] == fresh["BackupId"]
    ledger.record("failed-lifecycle", runs=1)


def test_quota_exceeded_names_the_quota_and_leaves_no_partial_state(
    recorded: tuple[FsxEmulator, AnswerLog], harness: Callable[..., Any], ledger: Any
) -> None:
    emu, answers = recorded
    emu.backup_quota = QUOTA
    specs = [BackupSpec(f"b{i}", make_target(emu, kind)) for i, kind in enumerate(("windows", "openzfs", "lustre"))]
    assert len(specs) == QUOTA_STACK
    h = harness(stack_program(specs), emulator=emu)

    up = h.up()

    assert not up.ok
    refused = [a for a in answers.of("CreateBackup") if a.code == "ServiceLimitExceeded"]
    assert len(refused) == QUOTA_STACK - QUOTA, answers.of("CreateBackup")
    failed_urns = [u for u in up.errors if u.split("::")[2].endswith(BACKUP_TYPE)]
    assert len(failed_urns) == QUOTA_STACK - QUOTA, up.errors
    message = up.errors[failed_urns[0]]
    assert "TOTAL_USER_INITIATED_BACKUPS" in message and "quota" in message, message
    assert REQUEST_ID_RE.search(message), f"no AWS request ID in {message!r}"
    # No partial state: the refused resource has nothing in state and nothing in FSx; the others
    # are complete and consistent.
    assert failed_urns[0] not in h.state.resources
    refused_target = refused[0].subject
    assert backups_per_target(emu).get(refused_target, 0) == 0
    assert len(live_backups(emu)) == QUOTA and len(state_backup_ids(h)) == QUOTA
    assert_no_orphans(h, emu)
    # Quota raised: the next `up` completes the stack.
    emu.backup_quota = QUOTA + 10
    h.up().raise_for_errors()
    assert_no_duplicates(emu, [target_id(s.target) for s in specs])
    assert_no_orphans(h, emu)
    ledger.record("quota", runs=1, stack=QUOTA_STACK, quota=QUOTA)


def test_deadline_passed_names_the_backup_and_next_up_resumes_it(
    emu: FsxEmulator, harness: Callable[..., Any], ledger: Any
) -> None:
    target = make_target(emu, "lustre")
    emu.set_backup_seconds(LONG_BACKUP_SECONDS, file_system_id=target["file_system_id"])
    h = harness()

    cut = h.up(single_program("slow", timeout_seconds=SHORT_TIMEOUT_SECONDS, **target))

    assert not cut.ok
    urn = cut.urn("slow", BACKUP_TYPE)
    message = cut.errors[urn]
    (running,) = user_backups(emu)
    assert running["BackupId"] in message, message
    lifecycle = re.search(r"was still (PENDING|CREATING|TRANSFERRING) after", message)
    assert lifecycle, message
    assert "timeout_seconds" in message and "pulumi up" in message, message
    assert urn not in h.state.resources

    resumed = h.up(single_program("slow", timeout_seconds=60, **target))

    assert resumed.ok, resumed.error_text()
    (only,) = user_backups(emu, include_deleted=True)
    assert only["BackupId"] == running["BackupId"] == resumed.stack_outputs["backup_id"], "the SAME backup"
    assert only["Lifecycle"] == "AVAILABLE"
    assert resumed.outputs_of("slow", COMPONENT_TYPE)["lifecycle"] == "AVAILABLE"
    assert_converged(h, single_program("slow", timeout_seconds=60, **target))
    ledger.record("deadline", runs=1, lifecycle_reported=lifecycle.group(1))
