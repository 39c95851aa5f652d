"""backups.py against Stubber with fake time: the crash-safety rules of take/remove/retag."""

from __future__ import annotations

import threading
from collections.abc import Sequence
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

from fsx_backup_component import backups, fsx, lookups
from fsx_backup_component.errors import (
    BackupDeletedError,
    BackupFailedError,
    BackupInProgressTimeoutError,
    BackupTimeoutError,
    FsxBackupError,
)
from fsx_backup_component.runtime import SETTLED, Runtime
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


@pytest.fixture(autouse=True)
def listings_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A create here is alone: its listing (and description) need not wait for others to share it (the window and the
    sharing are tested in test_lookups.py), so the fake clock shows only the waits under test."""
    monkeypatch.setattr(lookups, "LISTING_WINDOW", 0.0)
    monkeypatch.setattr(lookups, "DESCRIBE_WINDOW", 0.0)


def fake_runtime(client: Any, clock: FakeClock) -> Runtime:
    """A Runtime on the fake clock whose shared watcher waits by moving that clock."""
    runtime = Runtime(clock=clock, sleep=clock.sleep)
    runtime._watchers[id(client)] = (client, BackupWatcher(
        lambda ids: fsx.describe_backups(client, ids), settled=SETTLED, is_transient=fsx.is_transient,
        as_error=fsx.as_package_error, clock=clock, wait=clock.condition_wait,
    ))
    return runtime


USER_INITIATED = {"Name": "backup-type", "Values": ["USER_INITIATED"]}


def expect_listing(stub: Stubber, backups: Sequence[dict[str, Any]] = (), *, volume: bool = False,
                   next_token: Optional[str] = None, after: Optional[str] = None) -> None:
    """take_backup's first call: the target's live user-initiated backups (every page), searched for
    this generation's token tag, the durable marker every backup carries."""
    target = {"Name": "volume-id", "Values": [VOL_ID]} if volume else {"Name": "file-system-id", "Values": [FS_ID]}
    expected: dict[str, Any] = {"Filters": [USER_INITIATED, target]}
    if after:
        expected["NextToken"] = after
    response: dict[str, Any] = {"Backups": list(backups)}
    if next_token:
        response["NextToken"] = next_token
    stub.add_response("describe_backups", response, expected_params=expected)


def expect_target_read(stub: Stubber, file_system: Optional[dict[str, Any]] = None) -> None:
    """Without user tags the target is read once before the first CreateBackup: the request always
    carries the token tag, which turns FSx's own CopyTagsToBackups off, so the component copies them."""
    stub.add_response("describe_file_systems", {"FileSystems": [file_system or make_file_system(FS_ID)]},
                      expected_params={"FileSystemIds": [FS_ID]})


def expect_fresh(stub: Stubber) -> None:
    """No backup of this generation exists yet, and the user gave no tags."""
    expect_listing(stub)
    expect_target_read(stub)


def marked(bid: str, lifecycle: str, token: str, **kw: Any) -> dict[str, Any]:
    """A backup carrying ``token`` in the component's token tag."""
    tags = {**kw.pop("tags", {}), fsx.TOKEN_TAG_KEY: token}
    return make_backup(bid, lifecycle, tags=tags, **kw)


def expect_create(stub: Stubber, token: str, backup: Optional[dict[str, Any]] = None, *,
                  tags: Optional[dict[str, str]] = None, error: Optional[str] = None,
                  volume: bool = False) -> None:
    params: dict[str, Any] = {"VolumeId": VOL_ID} if volume else {"FileSystemId": FS_ID}
    params["ClientRequestToken"] = token
    # Every CreateBackup carries the token tag, after the user's (or the copied) tags, sorted.
    params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]
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
         progress: Optional[list[dict[str, Any]]] = None, runtime: Optional[Runtime] = None,
         generation: str = GEN, is_stale: Optional[backups.StaleRule] = None,
         volume: bool = False) -> backups.TakenBackup:
    return backups.take_backup(
        client, resource_urn=URN, generation=generation, file_system_id=None if volume else FS_ID,
        volume_id=VOL_ID if volume else None, tags=tags,
        deadline=clock() + timeout, runtime=runtime or fake_runtime(client, clock),
        on_progress=None if progress is None else progress.append, is_stale=is_stale,
    )


# -------------------------------------------------------------------------------------------------
# take_backup


def test_new_backup_is_created_with_the_first_token_and_waited_on(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING", percent=0))
    expect_describe(stubber, make_backup(B1, "CREATING", percent=50))
    expect_describe(stubber, make_backup(B1, "AVAILABLE", percent=100))
    progress: list[dict[str, Any]] = []
    taken = take(client, clock, progress=progress)
    assert (taken.backup["Lifecycle"], taken.token, taken.attempt) == ("AVAILABLE", TOKENS[0], 0)
    assert [p.get("ProgressPercent") for p in progress] == [0, 50, 100]


def test_an_available_answer_needs_no_polling(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "AVAILABLE"))
    assert take(client, clock).backup["BackupId"] == B1
    assert clock.sleeps == []


def test_interrupted_create_adopts_the_in_progress_backup_of_the_same_token(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    """The engine re-runs create() after a crash and the listing does not show the first backup yet:
    FSx still remembers the token and answers it with the first backup, and the provider waits on it.
    Stubber fails on any second CreateBackup with another token."""
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "TRANSFERRING", percent=70))
    expect_describe(stubber, make_backup(B1, "AVAILABLE"))
    taken = take(client, clock)
    assert (taken.backup["BackupId"], taken.attempt) == (B1, 0)


@pytest.mark.parametrize("gone", ["DELETED"])
def test_a_token_answered_with_a_deleted_backup_moves_to_the_next_token(
    client: Any, stubber: Stubber, clock: FakeClock, gone: str
) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, gone))
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE"))
    taken = take(client, clock)
    assert (taken.backup["BackupId"], taken.token, taken.attempt) == (B2, TOKENS[1], 1)


def test_a_token_answered_with_a_failed_leftover_deletes_it_and_moves_on(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "FAILED", failure="old failure"))
    expect_delete(stubber, B1)
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE"))
    assert take(client, clock).attempt == 1


def test_failed_while_waiting_deletes_it_and_raises_aws_reason(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    expect_describe(stubber, make_backup(B1, "FAILED", failure="Backup failed: the volume is 99% full."))
    expect_delete(stubber, B1)
    with pytest.raises(BackupFailedError) as info:
        take(client, clock)
    assert info.value.backup_id == B1
    assert info.value.reason == "Backup failed: the volume is 99% full."
    assert "The failed backup was deleted" in str(info.value)


def test_failed_backup_whose_cleanup_fails_says_how_to_delete_it(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    expect_describe(stubber, make_backup(B1, "FAILED", failure="boom"))
    expect_delete(stubber, B1, error="BackupRestoring")
    with pytest.raises(BackupFailedError, match=f"aws fsx delete-backup --backup-id {B1}"):
        take(client, clock)


def test_backup_deleted_while_waiting_is_reported(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    stubber.add_client_error("describe_backups", "BackupNotFound", "gone")
    with pytest.raises(BackupDeletedError, match=B1):
        take(client, clock)


def test_deadline_while_waiting_names_backup_and_lifecycle(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "CREATING"))
    for _ in range(2):  # polls at +0.5 s and +1.0 s; the next one would be past the deadline
        expect_describe(stubber, make_backup(B1, "TRANSFERRING"))
    with pytest.raises(BackupTimeoutError) as info:
        take(client, clock, timeout=1.2)
    assert (info.value.backup_id, info.value.lifecycle) == (B1, "TRANSFERRING")


def test_backup_in_progress_waits_with_growing_pauses_then_succeeds(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], error="BackupInProgress")
    expect_create(stubber, TOKENS[0], error="BackupInProgress")
    expect_create(stubber, TOKENS[0], make_backup(B1, "AVAILABLE"))
    assert take(client, clock).attempt == 0
    assert clock.sleeps == [5.0, 7.5]  # same token every time; pauses grow


def test_backup_in_progress_until_the_deadline_times_out(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    for _ in range(4):
        expect_create(stubber, TOKENS[0], error="BackupInProgress")
    with pytest.raises(BackupInProgressTimeoutError) as info:
        take(client, clock, timeout=20)
    assert info.value.target_id == FS_ID
    assert f"CreateBackup of {FS_ID}: another backup of this file system was still in progress after 20s" in str(info.value)
    assert clock.sleeps == [5.0, 7.5, 7.5]  # the last pause is cut to the deadline
    assert sum(clock.sleeps) == pytest.approx(20)


def test_every_token_spent_is_a_clear_error(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    for n in range(MAX_TOKEN_ATTEMPTS):
        expect_create(stubber, TOKENS[n], make_backup(backup_id(100 + n), "DELETED"))
    with pytest.raises(FsxBackupError, match=f"first {MAX_TOKEN_ATTEMPTS} request tokens"):
        take(client, clock)


def test_adopted_by_tag_reconciles_the_tags(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """Tags changed between the interrupted create and its retry: adopt, then retag. (The first
    listing missed the backup; FSx's IncompatibleParameterError leads to it through its token tag.)"""
    expect_listing(stubber)
    expect_create(stubber, TOKENS[0], tags={"env": "prod"}, error="IncompatibleParameterError")
    expect_listing(stubber, [marked(B1, "AVAILABLE", TOKENS[0], tags={"env": "dev", "old": "x"})])
    arn = make_backup(B1)["ResourceARN"]
    stubber.add_response("untag_resource", {}, expected_params={"ResourceARN": arn, "TagKeys": ["old"]})
    stubber.add_response("tag_resource", {}, expected_params={"ResourceARN": arn, "Tags": [{"Key": "env", "Value": "prod"}]})
    taken = take(client, clock, tags={"env": "prod"})
    assert fsx.user_tags(taken.backup) == {"env": "prod"}


def test_destroy_then_recreate_with_changed_tags_takes_the_next_token(client: Any, clock: FakeClock) -> None:
    stubber = Stubber(client)
    stubber.activate()
    expect_listing(stubber)  # the tagged backup was deleted by destroy: no marked backup
    expect_create(stubber, TOKENS[0], tags={"env": "new"}, error="IncompatibleParameterError")
    expect_listing(stubber)
    stubber.add_client_error("create_backup", "IncompatibleParameterError", "still", modeled_fields={"Parameter": "Tags"},
                             expected_params={"FileSystemId": FS_ID, "ClientRequestToken": TOKENS[0]})
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE", tags={"env": "new"}), tags={"env": "new"})
    assert take(client, clock, tags={"env": "new"}).attempt == 1


def test_runtime_fakes_reach_the_shared_watcher(client: Any) -> None:
    clock = FakeClock()
    stubber = Stubber(client)
    stubber.activate()
    expect_fresh(stubber)
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
    assert finished and isinstance(outcome[0], backups.TakenBackup)
    assert outcome[0].backup["Lifecycle"] == "AVAILABLE"


# -------------------------------------------------------------------------------------------------
# take_backup: the durable marker (the token tag every backup carries) and whose backup it is


def test_a_marked_backup_is_adopted_without_create_backup(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """A retried `up` hours after an interruption: FSx may have forgotten the token, but the backup
    carries it in its tag. No CreateBackup is queued, so Stubber fails on one; no target read either."""
    unrelated = make_backup(backup_id(7), "AVAILABLE", tags={"team": "x"})
    expect_listing(stubber, [unrelated], next_token="cGFnZTI=")
    expect_listing(stubber, [marked(B1, "CREATING", TOKENS[0])], after="cGFnZTI=")
    expect_describe(stubber, make_backup(B1, "AVAILABLE"))
    taken = take(client, clock)
    assert (taken.backup["BackupId"], taken.token, taken.attempt) == (B1, TOKENS[0], 0)


def test_an_available_marked_backup_needs_no_call_but_the_listing(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    expect_listing(stubber, [marked(B1, "AVAILABLE", TOKENS[0])])
    assert take(client, clock).backup["BackupId"] == B1
    assert clock.sleeps == []


def test_the_marked_backup_of_a_later_attempt_wins(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """An interrupted run may have moved past earlier tokens: the newest usable one is adopted."""
    expect_listing(stubber, [marked(B1, "AVAILABLE", TOKENS[0]), marked(B2, "CREATING", TOKENS[3])])
    expect_describe(stubber, make_backup(B2, "AVAILABLE"))
    taken = take(client, clock)
    assert (taken.backup["BackupId"], taken.token, taken.attempt) == (B2, TOKENS[3], 3)


def test_a_copy_carrying_the_token_tag_is_not_adopted(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """An in-region copy made with CopyTags carries its source's token tag: never this backup."""
    copy = marked(B1, "AVAILABLE", TOKENS[0])
    copy["SourceBackupId"] = backup_id(9)
    expect_listing(stubber, [copy])
    expect_target_read(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B2, "AVAILABLE"))
    assert take(client, clock).backup["BackupId"] == B2


def test_a_stale_marked_backup_is_skipped_for_the_next_token(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """``is_stale`` says the marked backup belongs to an earlier life: it is kept (not deleted, not
    adopted) and the next derived token makes a fresh backup."""
    old = marked(B1, "AVAILABLE", TOKENS[0])
    other = make_backup(backup_id(7), "AVAILABLE", tags={"team": "x"})
    seen: list[tuple[str, list[str]]] = []

    def is_stale(backup: dict[str, Any], live: Sequence[dict[str, Any]]) -> bool:
        seen.append((backup["BackupId"], sorted(b["BackupId"] for b in live)))
        return backup["BackupId"] == B1

    expect_listing(stubber, [old, other])
    expect_target_read(stubber)
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE"))
    taken = take(client, clock, is_stale=is_stale)
    assert (taken.backup["BackupId"], taken.attempt) == (B2, 1)
    assert (B1, sorted([B1, backup_id(7)])) in seen  # the rule sees every live backup of the target


def test_every_marked_backup_stale_moves_past_all_of_them(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_listing(stubber, [marked(B1, "AVAILABLE", TOKENS[0]), marked(B2, "AVAILABLE", TOKENS[1])])
    expect_target_read(stubber)
    expect_create(stubber, TOKENS[2], make_backup(backup_id(3), "AVAILABLE"))
    assert take(client, clock, is_stale=lambda backup, _live: backup["BackupId"] in (B1, B2)).attempt == 2


def test_a_fresh_backup_is_not_judged_stale_against_itself(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_fresh(stubber)
    expect_create(stubber, TOKENS[0], make_backup(B1, "AVAILABLE"))
    calls: list[str] = []

    def never_stale(backup: dict[str, Any], _live: Sequence[dict[str, Any]]) -> bool:
        calls.append(backup["BackupId"])
        return False

    take(client, clock, is_stale=never_stale)
    assert calls == [B1]


def test_a_failed_marked_backup_is_deleted_and_the_next_token_used(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    expect_listing(stubber, [marked(B1, "FAILED", TOKENS[0], failure="old failure")])
    expect_delete(stubber, B1)
    expect_target_read(stubber)
    expect_create(stubber, TOKENS[1], make_backup(B2, "AVAILABLE"))
    taken = take(client, clock)
    assert (taken.backup["BackupId"], taken.token, taken.attempt) == (B2, TOKENS[1], 1)


def test_a_marked_backup_with_changed_tags_is_adopted_and_retagged(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    found = marked(B1, "AVAILABLE", TOKENS[0], tags={"env": "dev"})
    expect_listing(stubber, [found])
    # `env` is wanted with a new value: overwritten (no UntagResource), token tag untouched.
    stubber.add_response("tag_resource", {}, expected_params={
        "ResourceARN": found["ResourceARN"], "Tags": [{"Key": "env", "Value": "prod"}]})
    taken = take(client, clock, tags={"env": "prod"})
    assert fsx.user_tags(taken.backup) == {"env": "prod"}


def test_tokens_of_another_life_are_not_adopted(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """A backup kept from an earlier life (retain_on_delete, then `up` again) carries that life's
    token: a new life (a new nonce) derives other tokens and makes a fresh backup."""
    old_life = generation_key(file_system_id=FS_ID, volume_id=None, triggers={"v": "1"}, life="nonce-a")
    new_life = generation_key(file_system_id=FS_ID, volume_id=None, triggers={"v": "1"}, life="nonce-b")
    assert len({old_life, new_life, GEN}) == 3
    kept_token = derive_token(URN, old_life, 0)
    new_token = derive_token(URN, new_life, 0)
    assert kept_token != new_token
    expect_listing(stubber, [marked(B1, "AVAILABLE", kept_token)])
    expect_target_read(stubber)
    expect_create(stubber, new_token, make_backup(B2, "AVAILABLE"))
    taken = take(client, clock, generation=new_life)
    assert (taken.backup["BackupId"], taken.token) == (B2, new_token)


def test_the_same_life_adopts_its_own_backup(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    life = generation_key(file_system_id=FS_ID, volume_id=None, triggers={"v": "1"}, life="nonce-a")
    expect_listing(stubber, [marked(B1, "AVAILABLE", derive_token(URN, life, 0))])
    assert take(client, clock, generation=life).backup["BackupId"] == B1


def test_without_user_tags_the_targets_copied_tags_go_with_the_token_tag(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    """CopyTagsToBackups on: a request with Tags turns FSx's own copying off, so the component sends
    the file system's tags itself (sorted), then the token tag."""
    fs = make_file_system(FS_ID)
    fs["LustreConfiguration"]["CopyTagsToBackups"] = True
    fs["Tags"] = [{"Key": "team", "Value": "data"}, {"Key": "cost", "Value": "42"}]
    expect_listing(stubber)
    expect_target_read(stubber, fs)
    expect_create(stubber, TOKENS[0], make_backup(B1, "AVAILABLE"), tags={"team": "data", "cost": "42"})
    assert take(client, clock).backup["BackupId"] == B1


def test_a_volume_is_listed_and_read_by_its_volume_id(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    volume = make_volume(VOL_ID)
    volume["OntapConfiguration"]["CopyTagsToBackups"] = True
    volume["Tags"] = [{"Key": "app", "Value": "db"}]
    expect_listing(stubber, volume=True)
    stubber.add_response("describe_volumes", {"Volumes": [volume]}, expected_params={"VolumeIds": [VOL_ID]})
    expect_create(stubber, TOKENS[0], make_backup(B1, "AVAILABLE", volume_id=VOL_ID, file_system_type="ONTAP"),
                  tags={"app": "db"}, volume=True)
    assert take(client, clock, volume=True).backup["BackupId"] == B1


def test_the_target_is_read_once_however_many_tokens_are_tried(
    client: Any, stubber: Stubber, clock: FakeClock
) -> None:
    expect_fresh(stubber)
    for n in range(3):
        expect_create(stubber, TOKENS[n], make_backup(backup_id(100 + n), "DELETED"))
    expect_create(stubber, TOKENS[3], make_backup(B1, "AVAILABLE"))
    assert take(client, clock).attempt == 3


# -------------------------------------------------------------------------------------------------
# remove_backup


def test_remove_backup_deletes_with_a_stable_token(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_delete(stubber, B1)
    assert backups.remove_backup(client, B1, deadline=clock() + 60, runtime=fake_runtime(client, clock)) is True


def test_remove_backup_already_gone_is_success(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    stubber.add_client_error("delete_backup", "BackupNotFound", "no")
    assert backups.remove_backup(client, B1, deadline=clock() + 60, runtime=fake_runtime(client, clock)) is False


def test_remove_backup_waits_while_busy(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    expect_delete(stubber, B1, error="BackupBeingCopied")
    expect_delete(stubber, B1, error="BackupInProgress")
    expect_delete(stubber, B1)
    assert backups.remove_backup(client, B1, deadline=clock() + 60, runtime=fake_runtime(client, clock)) is True
    assert clock.sleeps == [5.0, 7.5]


def test_remove_backup_busy_past_the_deadline_fails_clearly(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    for _ in range(3):
        expect_delete(stubber, B1, error="BackupBeingCopied")
    with pytest.raises(FsxBackupError) as info:
        backups.remove_backup(client, B1, deadline=clock() + 10, runtime=fake_runtime(client, clock))
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
    updated = backups.reconcile_tags(client, backup, desired={"keep": "1", "change": "new", "new": "2"},
                                        previously_managed={"keep": "1", "change": "old", "stale": "x"})
    tags = {t["Key"]: t["Value"] for t in updated["Tags"]}
    assert tags == {"keep": "1", "change": "new", "new": "2", fsx.TOKEN_TAG_KEY: TOKENS[0]}
    assert fsx.user_tags(updated) == {"keep": "1", "change": "new", "new": "2"}
    assert backup["Tags"][0] == {"Key": "keep", "Value": "1"} and len(backup["Tags"]) == 5  # input untouched


def test_reconcile_to_no_tags_removes_only_what_the_component_managed(client: Any, stubber: Stubber) -> None:
    """Without user tags FSx may have copied the file system's tags: those are not ours to remove."""
    backup = make_backup(B1, "AVAILABLE", tags={"mine": "1", "copied-from-fs": "2"})
    stubber.add_response("untag_resource", {}, expected_params={"ResourceARN": backup["ResourceARN"], "TagKeys": ["mine"]})
    updated = backups.reconcile_tags(client, backup, desired={}, previously_managed={"mine": "1"})
    assert fsx.user_tags(updated) == {"copied-from-fs": "2"}


def test_reconcile_with_nothing_to_do_makes_no_call(client: Any, stubber: Stubber) -> None:
    backup = make_backup(B1, "AVAILABLE", tags={"a": "1", fsx.TOKEN_TAG_KEY: "t"})
    assert backups.reconcile_tags(client, backup, desired={"a": "1"}, previously_managed={"a": "1"})["Tags"] == backup["Tags"]
