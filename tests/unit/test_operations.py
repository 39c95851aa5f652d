"""operations.py against Stubber with fake time: the crash-safety rules of take/remove/retag."""

from __future__ import annotations

import threading
from typing import Any, Optional

import pytest
from botocore.stub import Stubber
from unit_helpers import (
    FS_ID,
    URN,
    VOL_ID,
    FakeClock,
    backup_id,
    make_backup,
    make_file_system,
    make_volume,
)

from fsx_backup_component import fsx, operations
from fsx_backup_component.errors import (
    BackupDeletedError,
    BackupFailedError,
    BackupInProgressTimeoutError,
    BackupTimeoutError,
    FsxBackupError,
)
from fsx_backup_component.operations import ProgressReporter, Runtime, TargetLookups
from fsx_backup_component.token import (
    MAX_TOKEN_ATTEMPTS,
    delete_token,
    derive_token,
    generation_key,
)
from fsx_backup_component.watcher import BackupWatcher

B1, B2 = backup_id(1), backup_id(2)
GEN = generation_key(file_system_id=FS_ID, volume_id=None, triggers={"v": "1"})
TOKENS = [derive_token(URN, GEN, n) for n in range(MAX_TOKEN_ATTEMPTS)]


def fake_runtime(client: Any, clock: FakeClock) -> Runtime:
    """A Runtime on the fake clock whose shared watcher waits by moving that clock."""
    runtime = Runtime(clock=clock, sleep=clock.sleep)
    runtime._watchers[id(client)] = BackupWatcher(
        lambda ids: fsx.describe_backups(client, ids), clock=clock, wait=clock.condition_wait
    )
    return runtime


def expect_create(stub: Stubber, token: str, backup: Optional[dict[str, Any]] = None, *,
                  tags: Optional[dict[str, str]] = None, error: Optional[str] = None) -> None:
    params: dict[str, Any] = {"FileSystemId": FS_ID, "ClientRequestToken": token}
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        params["Tags"].append({"Key": fsx.TOKEN_TAG_KEY, "Value": token})
    if error:
        modeled = {"Parameter": "Tags"} if error == "IncompatibleParameterError" else None
        stub.add_client_error("create_backup", error, f"{error} message", expected_params=params,
                              modeled_fields=modeled)
    else:
        stub.add_response("create_backup", {"Backup": backup}, expected_params=params)


def expect_describe(stub: Stubber, backup: dict[str, Any]) -> None:
    stub.add_response("describe_backups", {"Backups": [backup]}, expected_params={"BackupIds": [backup["BackupId"]]})


def expect_delete(stub: Stubber, bid: str, error: Optional[str] = None) -> None:
    params = {"BackupId": bid, "ClientRequestToken": delete_token(bid)}
    if error:
        stub.add_client_error("delete_backup", error, "busy", expected_params=params)
    else:
        stub.add_response("delete_backup", {"BackupId": bid, "Lifecycle": "DELETED"}, expected_params=params)


def take(client: Any, clock: FakeClock, *, tags: Optional[dict[str, str]] = None, timeout: float = 3600,
         progress: Optional[list[dict[str, Any]]] = None, runtime: Optional[Runtime] = None) -> operations.TakenBackup:
    return operations.take_backup(
        client, resource_urn=URN, generation=GEN, file_system_id=FS_ID, volume_id=None, tags=tags,
        deadline=clock() + timeout, runtime=runtime or fake_runtime(client, clock),
        on_progress=None if progress is None else progress.append,
    )


# -------------------------------------------------------------------------------------------------
# take_backup


def test_new_backup_is_created_with_the_first_token_and_waited_on(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING", percent=0))
    expect_describe(stubber, make_backup(B1, "CREATING", percent=50))
    expect_describe(stubber, make_backup(B1, "AVAILABLE", percent=100))
    progress: list[dict[str, Any]] = []
    taken = take(client, clock, progress=progress)
    assert (taken.backup["Lifecycle"], taken.token, taken.attempt) == ("AVAILABLE", TOKENS[0], 0)
    assert [p.get("ProgressPercent") for p in progress] == [0, 50, 100]


def test_an_available_answer_needs_no_polling(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, "AVAILABLE"))
    assert take(client, clock).backup["BackupId"] == B1
    assert clock.sleeps == []


def test_interrupted_create_adopts_the_in_progress_backup_of_the_same_token(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    """The engine re-runs create() after a crash: FSx answers the same token with the first backup,
    and the provider waits on it. Stubber fails on any second CreateBackup with another token."""
    expect_create(stubber, TOKENS[0], make_backup(B1, "TRANSFERRING", percent=70))
    expect_describe(stubber, make_backup(B1, "AVAILABLE"))
    taken = take(client, clock)
    assert (taken.backup["BackupId"], taken.attempt) == (B1, 0)


@pytest.mark.parametrize("gone", ["DELETED"])
def test_a_token_answered_with_a_deleted_backup_moves_to_the_next_token(
    client: Any, stubber: Stubber, clock: FakeClock, gone: str
) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, gone))
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE"))
    taken = take(client, clock)
    assert (taken.backup["BackupId"], taken.token, taken.attempt) == (B2, TOKENS[1], 1)


def test_a_token_answered_with_a_failed_leftover_deletes_it_and_moves_on(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, "FAILED", failure="old failure"))
    expect_delete(stubber, B1)
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE"))
    assert take(client, clock).attempt == 1


def test_failed_while_waiting_deletes_it_and_raises_aws_reason(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    expect_describe(stubber, make_backup(B1, "FAILED", failure="Backup failed: the volume is 99% full."))
    expect_delete(stubber, B1)
    with pytest.raises(BackupFailedError) as info:
        take(client, clock)
    assert info.value.backup_id == B1
    assert info.value.reason == "Backup failed: the volume is 99% full."
    assert "The failed backup was deleted" in str(info.value)


def test_failed_backup_whose_cleanup_fails_says_how_to_delete_it(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    expect_describe(stubber, make_backup(B1, "FAILED", failure="boom"))
    expect_delete(stubber, B1, error="BackupRestoring")
    with pytest.raises(BackupFailedError, match=f"aws fsx delete-backup --backup-id {B1}"):
        take(client, clock)


def test_backup_deleted_while_waiting_is_reported(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    stubber.add_client_error("describe_backups", "BackupNotFound", "gone")
    with pytest.raises(BackupDeletedError, match=B1):
        take(client, clock)


def test_deadline_while_waiting_names_backup_and_lifecycle(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    for _ in range(2):  # polls at +0.5 s and +1.0 s; the next one would be past the deadline
        expect_describe(stubber, make_backup(B1, "TRANSFERRING"))
    with pytest.raises(BackupTimeoutError) as info:
        take(client, clock, timeout=1.2)
    assert (info.value.backup_id, info.value.lifecycle) == (B1, "TRANSFERRING")


def test_backup_in_progress_waits_with_growing_pauses_then_succeeds(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_create(stubber, TOKENS[0], error="BackupInProgress")
    expect_create(stubber, TOKENS[0], error="BackupInProgress")
    expect_create(stubber, TOKENS[0], make_backup(B1, "AVAILABLE"))
    assert take(client, clock).attempt == 0
    assert clock.sleeps == [5.0, 7.5]  # same token every time; pauses grow


def test_backup_in_progress_until_the_deadline_times_out(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    for _ in range(4):
        expect_create(stubber, TOKENS[0], error="BackupInProgress")
    with pytest.raises(BackupInProgressTimeoutError) as info:
        take(client, clock, timeout=20)
    assert info.value.target_id == FS_ID
    assert f"CreateBackup of {FS_ID}: another backup of this file system was still in progress after 20s" in str(info.value)
    assert clock.sleeps == [5.0, 7.5, 7.5]  # the last pause is cut to the deadline
    assert sum(clock.sleeps) == pytest.approx(20)


def test_every_token_spent_is_a_clear_error(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    for n in range(MAX_TOKEN_ATTEMPTS):
        expect_create(stubber, TOKENS[n], make_backup(backup_id(100 + n), "DELETED"))
    with pytest.raises(FsxBackupError, match=f"first {MAX_TOKEN_ATTEMPTS} request tokens"):
        take(client, clock)


def test_adopted_by_tag_reconciles_the_tags(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """Tags changed between the interrupted create and its retry: adopt, then retag."""
    expect_create(stubber, TOKENS[0], tags={"env": "prod"}, error="IncompatibleParameterError")
    stubber.add_response("describe_backups", {"Backups": [
        make_backup(B1, "AVAILABLE", tags={"env": "dev", "old": "x", fsx.TOKEN_TAG_KEY: TOKENS[0]})]})
    arn = make_backup(B1)["ResourceARN"]
    stubber.add_response("untag_resource", {}, expected_params={"ResourceARN": arn, "TagKeys": ["old"]})
    stubber.add_response("tag_resource", {}, expected_params={"ResourceARN": arn, "Tags": [{"Key": "env", "Value": "prod"}]})
    taken = take(client, clock, tags={"env": "prod"})
    assert operations.user_tags(taken.backup) == {"env": "prod"}


def test_destroy_then_recreate_with_changed_tags_takes_the_next_token(client: Any, clock: FakeClock) -> None:
    stubber = Stubber(client)
    stubber.activate()
    expect_create(stubber, TOKENS[0], tags={"env": "new"}, error="IncompatibleParameterError")
    stubber.add_response("describe_backups", {"Backups": []})  # the tagged backup was deleted by destroy
    stubber.add_client_error("create_backup", "IncompatibleParameterError", "still", modeled_fields={"Parameter": "Tags"})
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE", tags={"env": "new"}), tags={"env": "new"})
    assert take(client, clock, tags={"env": "new"}).attempt == 1


def test_runtime_fakes_reach_the_shared_watcher(client: Any) -> None:
    clock = FakeClock()
    stubber = Stubber(client)
    stubber.activate()
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    expect_describe(stubber, make_backup(B1, "AVAILABLE"))
    runtime = Runtime(clock=clock, sleep=clock.sleep)
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(take(client, clock, timeout=60, runtime=runtime))
        except FsxBackupError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(1.5)
    finished = not worker.is_alive()
    if not finished:  # free the spinning thread: past its deadline it raises and ends
        clock.advance(3600)
        worker.join(5)
    assert finished and isinstance(outcome[0], operations.TakenBackup)
    assert outcome[0].backup["Lifecycle"] == "AVAILABLE"


# -------------------------------------------------------------------------------------------------
# remove_backup


def test_remove_backup_deletes_with_a_stable_token(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_delete(stubber, B1)
    assert operations.remove_backup(client, B1, deadline=clock() + 60, runtime=fake_runtime(client, clock)) is True


def test_remove_backup_already_gone_is_success(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    stubber.add_client_error("delete_backup", "BackupNotFound", "no")
    assert operations.remove_backup(client, B1, deadline=clock() + 60, runtime=fake_runtime(client, clock)) is False


def test_remove_backup_waits_while_busy(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_delete(stubber, B1, error="BackupBeingCopied")
    expect_delete(stubber, B1, error="BackupInProgress")
    expect_delete(stubber, B1)
    assert operations.remove_backup(client, B1, deadline=clock() + 60, runtime=fake_runtime(client, clock)) is True
    assert clock.sleeps == [5.0, 7.5]


def test_remove_backup_busy_past_the_deadline_fails_clearly(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    for _ in range(3):
        expect_delete(stubber, B1, error="BackupBeingCopied")
    with pytest.raises(FsxBackupError) as info:
        operations.remove_backup(client, B1, deadline=clock() + 10, runtime=fake_runtime(client, clock))
    assert f"DeleteBackup of {B1}: FSx kept answering BackupBeingCopied for 10s" in str(info.value)


# -------------------------------------------------------------------------------------------------
# reconcile_tags


def test_reconcile_adds_overwrites_removes_and_keeps_the_token_tag(client: Any, stubber: Stubber) -> None:
    backup = make_backup(B1, "AVAILABLE", tags={"keep": "1", "change": "old", "stale": "x", "drift": "y",
                                                fsx.TOKEN_TAG_KEY: TOKENS[0]})
    arn = backup["ResourceARN"]
    stubber.add_response("untag_resource", {}, expected_params={"ResourceARN": arn, "TagKeys": ["drift", "stale"]})
    stubber.add_response("tag_resource", {}, expected_params={"ResourceARN": arn, "Tags": [
        {"Key": "change", "Value": "new"}, {"Key": "new", "Value": "2"}]})
    updated = operations.reconcile_tags(client, backup, desired={"keep": "1", "change": "new", "new": "2"},
                                        previously_managed={"keep": "1", "change": "old", "stale": "x"})
    tags = {t["Key"]: t["Value"] for t in updated["Tags"]}
    assert tags == {"keep": "1", "change": "new", "new": "2", fsx.TOKEN_TAG_KEY: TOKENS[0]}
    assert operations.user_tags(updated) == {"keep": "1", "change": "new", "new": "2"}
    assert backup["Tags"][0] == {"Key": "keep", "Value": "1"} and len(backup["Tags"]) == 5  # input untouched


def test_reconcile_to_no_tags_removes_only_what_the_component_managed(client: Any, stubber: Stubber) -> None:
    """Without user tags FSx may have copied the file system's tags: those are not ours to remove."""
    backup = make_backup(B1, "AVAILABLE", tags={"mine": "1", "copied-from-fs": "2"})
    stubber.add_response("untag_resource", {}, expected_params={"ResourceARN": backup["ResourceARN"], "TagKeys": ["mine"]})
    updated = operations.reconcile_tags(client, backup, desired={}, previously_managed={"mine": "1"})
    assert operations.user_tags(updated) == {"copied-from-fs": "2"}


def test_reconcile_with_nothing_to_do_makes_no_call(client: Any, stubber: Stubber) -> None:
    backup = make_backup(B1, "AVAILABLE", tags={"a": "1", fsx.TOKEN_TAG_KEY: "t"})
    assert operations.reconcile_tags(client, backup, desired={"a": "1"}, previously_managed={"a": "1"})["Tags"] == backup["Tags"]


# -------------------------------------------------------------------------------------------------
# ProgressReporter


def test_progress_reports_every_lifecycle_change_and_rate_limits_percent(clock: FakeClock) -> None:
    messages: list[str] = []
    report = ProgressReporter(messages.append, clock=clock, min_interval=10)
    report(make_backup(B1, "CREATING", percent=0))
    clock.advance(1)
    report(make_backup(B1, "CREATING", percent=5))  # same lifecycle, < 10 s: dropped
    report(make_backup(B1, "CREATING", percent=5))
    clock.advance(1)
    report(make_backup(B1, "TRANSFERRING", percent=10))  # lifecycle change: always shown
    clock.advance(10)
    report(make_backup(B1, "TRANSFERRING", percent=10))  # nothing new: never repeated
    report(make_backup(B1, "TRANSFERRING", percent=60))
    clock.advance(0.5)
    report(make_backup(B1, "AVAILABLE"))
    assert messages == [
        f"FSx backup {B1}: CREATING 0%",
        f"FSx backup {B1}: TRANSFERRING 10%",
        f"FSx backup {B1}: TRANSFERRING 60%",
        f"FSx backup {B1}: AVAILABLE",
    ]


# -------------------------------------------------------------------------------------------------
# TargetLookups


def test_lookups_turn_descriptions_into_facts(client: Any, stubber: Stubber) -> None:
    stubber.add_response("describe_file_systems", {"FileSystems": [
        make_file_system(FS_ID, "LUSTRE", deployment="PERSISTENT_1", import_path="s3://b/in")]},
        expected_params={"FileSystemIds": [FS_ID]})
    stubber.add_response("describe_data_repository_associations", {"Associations": []})
    stubber.add_response("describe_volumes", {"Volumes": [make_volume(VOL_ID, ontap_type="DP")]},
                         expected_params={"VolumeIds": [VOL_ID]})
    clock = FakeClock()
    lookups = TargetLookups(client, clock=clock, wait=clock.condition_wait)
    facts = lookups.file_system(FS_ID)
    assert facts is not None
    assert (facts.file_system_type, facts.deployment_type, facts.import_path, facts.lifecycle,
            facts.data_repository_association_count) == ("LUSTRE", "PERSISTENT_1", "s3://b/in", "AVAILABLE", 0)
    volume = lookups.volume(VOL_ID)
    assert volume is not None and (volume.volume_type, volume.ontap_volume_type) == ("ONTAP", "DP")
    assert lookups.file_system(FS_ID) == facts  # cached: Stubber has no second answer


def test_lookups_of_non_lustre_skip_associations_and_missing_is_none(client: Any, stubber: Stubber) -> None:
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS", deployment="MULTI_AZ_1")]})
    stubber.add_client_error("describe_volumes", "VolumeNotFound", "no")
    clock = FakeClock()
    lookups = TargetLookups(client, clock=clock, wait=clock.condition_wait)
    facts = lookups.file_system(FS_ID)
    assert facts is not None and facts.deployment_type == "MULTI_AZ_1" and facts.data_repository_association_count == 0
    assert lookups.volume(VOL_ID) is None


def test_runtime_fake_sleep_reaches_the_look_ups_without_spinning(client: Any) -> None:
    clock = FakeClock(start=1000.0)
    stubber = Stubber(client)
    stubber.activate()
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS")]})
    lookups = Runtime(clock=clock, sleep=clock.sleep).lookups(client)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(lookups.file_system(FS_ID)), daemon=True)
    worker.start()
    worker.join(1.0)
    finished = not worker.is_alive()
    if not finished:  # free the spinning thread: a clock well past the window lets it fetch and end
        clock.advance(1.0)
        worker.join(5)
    assert finished and outcome[0] is not None and outcome[0].file_system_type == "WINDOWS"
