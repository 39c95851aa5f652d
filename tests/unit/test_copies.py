"""Cross-region copies (disaster recovery) against Stubber with fake time: fsx.copy_backup's request
and error mapping, and copies.py: make_copies / refresh_copies / remove_copies.

Each destination region has its own real boto3 client under its own Stubber, handed out by a
``client_for`` fake, so every request is checked against the model and pinned where it matters.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Optional

import boto3
import pytest
from botocore.stub import Stubber
from test_backups import expect_delete, fake_runtime
from unit_helpers import FS_ID, URN, FakeClock, backup_id, make_backup

from fsx_backup_component import fsx
from fsx_backup_component.copies import make_copies, refresh_copies, remove_copies
from fsx_backup_component.errors import (
    AwsApiError,
    BackupDeletedError,
    BackupFailedError,
    CopyRefusedError,
    FsxBackupError,
    QuotaExceededError,
)
from fsx_backup_component.runtime import SETTLED, Runtime
from fsx_backup_component.state import CopyState, copy_key
from fsx_backup_component.token import (
    MAX_TOKEN_ATTEMPTS,
    delete_token,
    derive_token,
    generation_key,
)
from fsx_backup_component.watcher import BackupWatcher

SOURCE = backup_id(1)
C_WEST, C_EU, C_SPARE = backup_id(11), backup_id(12), backup_id(13)
TOKEN = "fsxb-0123456789abcdef0123456789abcdef01234567"
REQ_ID = "11111111-2222-3333-4444-555555555555"
GEN = generation_key(file_system_id=FS_ID, volume_id=None, triggers={"v": "1"})
EU_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WEST = {"region": "us-west-2", "kms_key_id": None}
EU = {"region": "eu-west-1", "kms_key_id": EU_KEY}


def copy_token(destination: dict[str, Any], attempt: int = 0, source: str = SOURCE) -> str:
    """The token make_copies must use: stable per resource, generation, destination and source."""
    material = f"{GEN}|copy|{copy_key(destination)}|{source}"
    return derive_token(URN, material, attempt)


def make_copy(bid: str, region: str, lifecycle: str = "COPYING", *, failure: Optional[str] = None,
              kms: Optional[str] = None) -> dict[str, Any]:
    """A model-valid copy as FSx reports it in its destination region."""
    copy = make_backup(bid, lifecycle, failure=failure)
    copy["ResourceARN"] = f"arn:aws:fsx:{region}:123456789012:backup/{bid}"
    copy["KmsKeyId"] = kms or f"arn:aws:kms:{region}:123456789012:key/default"
    copy["SourceBackupId"] = SOURCE
    copy["SourceBackupRegion"] = "us-east-1"
    return copy


class Regions:
    """A client (under an active Stubber) per destination region, and the order of their calls."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}
        self.calls: list[tuple[str, str]] = []
        self.polls: list[int] = []  # indexes into `calls` of DescribeBackups by IDs (a wait's poll)

    def add(self, region: str, client: Optional[Any] = None, stub: Optional[Stubber] = None) -> None:
        client = client or boto3.client("fsx", region_name=region)

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            if model.name == "DescribeBackups" and "BackupIds" in params:
                self.polls.append(len(self.calls))
            self.calls.append((region, model.name))

        client.meta.events.register("before-parameter-build.fsx.*", record)
        if stub is None:
            stub = Stubber(client)
            stub.activate()
        self.clients[region], self.stubs[region] = client, stub

    def __call__(self, region: Optional[str]) -> Any:
        assert region is not None
        return self.clients[region]

    def __getitem__(self, region: str) -> Stubber:
        return self.stubs[region]

    def runtime(self, clock: FakeClock) -> Runtime:
        """A Runtime on the fake clock with a shared watcher per region that waits by moving it."""
        runtime = Runtime(clock=clock, sleep=clock.sleep)
        for client in self.clients.values():
            runtime._watchers[id(client)] = (client, BackupWatcher(
                functools.partial(fsx.describe_backups, client), settled=SETTLED,
                is_transient=fsx.is_transient, as_error=fsx.as_package_error, clock=clock,
                wait=clock.condition_wait,
            ))
        return runtime


@pytest.fixture
def regions(client: Any, stubber: Stubber) -> Iterator[Regions]:
    """us-east-1 (the source: the unit suite's client) plus us-west-2 and eu-west-1."""
    made = Regions()
    made.add("us-east-1", client, stubber)
    made.add("us-west-2")
    made.add("eu-west-1")
    yield made
    for region, stub in made.stubs.items():
        if region != "us-east-1":
            stub.assert_no_pending_responses()
            stub.deactivate()


def expect_copy(stub: Stubber, destination: dict[str, Any], copy: Optional[dict[str, Any]] = None, *,
                attempt: int = 0, copy_tags: bool = True, error: Optional[str] = None,
                limit: Optional[str] = None) -> None:
    params: dict[str, Any] = {
        "SourceBackupId": SOURCE,
        "SourceRegion": "us-east-1",
        "ClientRequestToken": copy_token(destination, attempt),
        "CopyTags": copy_tags,
    }
    if destination.get("kms_key_id"):
        params["KmsKeyId"] = destination["kms_key_id"]
    if error:
        stub.add_client_error("copy_backup", error, f"{error} message", expected_params=params,
                              modeled_fields={"Limit": limit} if limit else None)
    else:
        stub.add_response("copy_backup", {"Backup": copy}, expected_params=params)


def expect_describe(stub: Stubber, backup: dict[str, Any]) -> None:
    stub.add_response("describe_backups", {"Backups": [backup]}, expected_params={"BackupIds": [backup["BackupId"]]})


USER_INITIATED = {"Name": "backup-type", "Values": ["USER_INITIATED"]}
BY_SOURCE_FS = {"Name": "file-system-id", "Values": [FS_ID]}


def expect_copy_search(stub: Stubber, found: Optional[list[dict[str, Any]]] = None) -> None:
    """fsx.find_copy_of in a destination region, before any CopyBackup: the durable marker of a copy
    is its SourceBackupId, so a copy an interrupted run started is found even when FSx has forgotten
    the copy's token. Listed by the source's file system (all pages)."""
    stub.add_response("describe_backups", {"Backups": list(found or [])},
                      expected_params={"Filters": [USER_INITIATED, BY_SOURCE_FS]})


def copies(regions: Regions, clock: FakeClock, destinations: list[dict[str, Any]], *, timeout: float = 3600,
           copy_tags: bool = True, progress: Optional[list[dict[str, Any]]] = None) -> list[CopyState]:
    return make_copies(
        regions("us-east-1"), make_backup(SOURCE, "AVAILABLE"), destinations, resource_urn=URN, generation=GEN,
        copy_tags=copy_tags, deadline=clock() + timeout, runtime=regions.runtime(clock),
        client_for=regions, on_progress=None if progress is None else progress.append,
    )


# -------------------------------------------------------------------------------------------------
# fsx.copy_backup: the request


@pytest.fixture
def west(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    """A client of the destination region us-west-2 under Stubber."""
    client = boto3.client("fsx", region_name="us-west-2")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def _copy(client: Any, *, kms: Optional[str] = None, copy_tags: bool = True,
          tags: Optional[dict[str, str]] = None) -> dict[str, Any]:
    return fsx.copy_backup(client, source_backup_id=SOURCE, source_region="us-east-1", token=TOKEN,
                           kms_key_id=kms, copy_tags=copy_tags, tags=tags)


@pytest.mark.parametrize("copy_tags", [True, False])
def test_copy_backup_sends_source_region_token_and_copy_tags_without_kms(west: Any, copy_tags: bool) -> None:
    client, stub = west
    answer = make_copy(C_WEST, "us-west-2")
    stub.add_response("copy_backup", {"Backup": answer}, expected_params={
        "SourceBackupId": SOURCE, "SourceRegion": "us-east-1", "ClientRequestToken": TOKEN, "CopyTags": copy_tags,
    })
    assert _copy(client, copy_tags=copy_tags) == answer


def test_copy_backup_sends_the_kms_key_only_when_given(west: Any) -> None:
    client, stub = west
    key = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stub.add_response("copy_backup", {"Backup": make_copy(C_WEST, "us-west-2", kms=key)}, expected_params={
        "SourceBackupId": SOURCE, "SourceRegion": "us-east-1", "ClientRequestToken": TOKEN, "CopyTags": True,
        "KmsKeyId": key,
    })
    assert _copy(client, kms=key)["KmsKeyId"] == key


def test_copy_backup_sends_tags_sorted_when_given(west: Any) -> None:
    client, stub = west
    stub.add_response("copy_backup", {"Backup": make_copy(C_WEST, "us-west-2")}, expected_params={
        "SourceBackupId": SOURCE, "SourceRegion": "us-east-1", "ClientRequestToken": TOKEN, "CopyTags": False,
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    })
    _copy(client, copy_tags=False, tags={"b": "2", "a": "1"})


# -------------------------------------------------------------------------------------------------
# fsx.copy_backup: error mapping


def _error(stub: Stubber, code: str, *, limit: Optional[str] = None, status: int = 400) -> None:
    stub.add_client_error("copy_backup", service_error_code=code, service_message=f"{code}: the reason",
                          http_status_code=status, response_meta={"RequestId": REQ_ID},
                          modeled_fields={"Limit": limit} if limit else None)


@pytest.mark.parametrize("code,limit", [
    ("SourceBackupUnavailable", None),
    ("ServiceLimitExceeded", "TOTAL_IN_PROGRESS_COPY_BACKUPS"),
])
def test_copy_backup_not_now_answers_are_busy(west: Any, code: str, limit: Optional[str]) -> None:
    client, stub = west
    _error(stub, code, limit=limit)
    with pytest.raises(fsx.BusyError) as info:
        _copy(client)
    assert info.value.code == code


@pytest.mark.parametrize("limit,shown", [("TOTAL_USER_INITIATED_BACKUPS", "TOTAL_USER_INITIATED_BACKUPS"),
                                         (None, "unknown")])
def test_copy_backup_other_service_limits_are_quota_errors(west: Any, limit: Optional[str], shown: str) -> None:
    client, stub = west
    _error(stub, "ServiceLimitExceeded", limit=limit)
    with pytest.raises(QuotaExceededError) as info:
        _copy(client)
    assert info.value.limit == shown
    text = str(info.value)
    assert f"{SOURCE} -> us-west-2" in text and REQ_ID in text and "ServiceLimitExceeded: the reason" in text


ADVICE = {
    "InvalidRegion": "pick another region in `copy_to_regions`",
    "InvalidDestinationKmsKey": "Give a KMS key of the destination region",
    "InvalidSourceKmsKey": "The source backup's KMS key cannot be used",
    "IncompatibleRegionForMultiAZ": "regions that support Multi-AZ",
    "UnsupportedOperation": "FSx does not copy this backup there",
}


@pytest.mark.parametrize("code", sorted(ADVICE))
def test_copy_backup_refusals_name_copy_to_regions_and_give_advice(west: Any, code: str) -> None:
    client, stub = west
    _error(stub, code)
    with pytest.raises(CopyRefusedError) as info:
        _copy(client)
    assert (info.value.code, info.value.region, info.value.request_id) == (code, "us-west-2", REQ_ID)
    text = str(info.value)
    assert text.startswith(f"copy_to_regions: FSx refused to copy {SOURCE} to us-west-2: {code}: {code}: the reason")
    assert ADVICE[code] in text and REQ_ID in text


@pytest.mark.parametrize("code,status", [
    ("BackupNotFound", 400), ("BadRequest", 400), ("InternalServerError", 500),
])
def test_copy_backup_other_errors_are_aws_api_errors(west: Any, code: str, status: int) -> None:
    client, stub = west
    _error(stub, code, status=status)
    with pytest.raises(AwsApiError) as info:
        _copy(client)
    assert (info.value.operation, info.value.code, info.value.request_id) == ("CopyBackup", code, REQ_ID)
    assert f"CopyBackup for {SOURCE} -> us-west-2 failed: {code}" in str(info.value)


def test_copy_token_reused_with_other_parameters_is_spent(west: Any) -> None:
    """IncompatibleParameterError: the token made a copy with other parameters (copy_tags changed
    after an interrupted run); make_copies then adopts that copy or moves to the next token."""
    client, stub = west
    _error(stub, "IncompatibleParameterError")
    with pytest.raises(fsx.TokenSpentError):
        _copy(client)


# -------------------------------------------------------------------------------------------------
# copies.make_copies


def test_copy_key_tells_kms_keys_apart() -> None:
    assert copy_key(WEST) == "us-west-2|"
    assert copy_key({"region": "us-west-2"}) == copy_key(WEST)
    assert copy_key(EU) == f"eu-west-1|{EU_KEY}"


def test_make_copies_starts_every_copy_before_waiting_and_reports_each(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "COPYING"))
    expect_copy_search(regions["eu-west-1"])
    expect_copy(regions["eu-west-1"], EU, make_copy(C_EU, "eu-west-1", kms=EU_KEY))
    expect_describe(regions["us-west-2"], make_copy(C_WEST, "us-west-2", "AVAILABLE"))
    expect_describe(regions["eu-west-1"], make_copy(C_EU, "eu-west-1", "AVAILABLE", kms=EU_KEY))
    progress: list[dict[str, Any]] = []

    made = copies(regions, clock, [WEST, EU], progress=progress)

    ops = [op for _, op in regions.calls]
    assert len(regions.polls) == 2
    assert min(regions.polls) > max(i for i, op in enumerate(ops) if op == "CopyBackup"), regions.calls
    assert [region for region, op in regions.calls if op == "CopyBackup"] == ["us-west-2", "eu-west-1"]
    assert made == [
        {"region": "us-west-2", "requested_kms_key_id": None, "backup_id": C_WEST,
         "backup_arn": f"arn:aws:fsx:us-west-2:123456789012:backup/{C_WEST}", "lifecycle": "AVAILABLE",
         "kms_key_id": "arn:aws:kms:us-west-2:123456789012:key/default"},
        {"region": "eu-west-1", "requested_kms_key_id": EU_KEY, "backup_id": C_EU,
         "backup_arn": f"arn:aws:fsx:eu-west-1:123456789012:backup/{C_EU}", "lifecycle": "AVAILABLE",
         "kms_key_id": EU_KEY},
    ]
    assert {p["BackupId"] for p in progress} == {C_WEST, C_EU}


def test_make_copies_sends_copy_tags_false(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "AVAILABLE"), copy_tags=False)
    assert copies(regions, clock, [WEST], copy_tags=False)[0]["backup_id"] == C_WEST
    assert clock.sleeps == []  # an AVAILABLE answer needs no polling


def test_copy_tokens_are_stable_and_differ_by_destination_key_and_source() -> None:
    assert copy_token(WEST) == copy_token(dict(WEST))
    assert len({copy_token(WEST), copy_token(EU), copy_token({"region": "eu-west-1", "kms_key_id": None}),
                copy_token(WEST, 1), copy_token(WEST, source=backup_id(2))}) == 5


def test_interrupted_copy_adopts_the_copy_of_the_same_token(regions: Regions, clock: FakeClock) -> None:
    """The engine re-runs create(): FSx answers the same token with the copy it already started
    (here the listing does not show it yet; see the SourceBackupId tests below for the other way)."""
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "COPYING"))
    expect_describe(regions["us-west-2"], make_copy(C_WEST, "us-west-2", "AVAILABLE"))
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST


def test_a_deleted_copy_answer_moves_to_the_next_token(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_SPARE, "us-west-2", "DELETED"))
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "AVAILABLE"), attempt=1)
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST


def test_a_failed_copy_answer_is_deleted_and_the_next_token_used(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_SPARE, "us-west-2", "FAILED", failure="old"))
    expect_delete(regions["us-west-2"], C_SPARE)
    expect_copy(regions["us-west-2"], WEST, make_copy(C_SPARE, "us-west-2", "DELETED"), attempt=1)
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "COPYING"), attempt=2)
    expect_describe(regions["us-west-2"], make_copy(C_WEST, "us-west-2", "AVAILABLE"))
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST


def test_every_copy_token_spent_is_a_clear_error(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    for n in range(MAX_TOKEN_ATTEMPTS):
        expect_copy(regions["us-west-2"], WEST, make_copy(backup_id(100 + n), "us-west-2", "DELETED"), attempt=n)
    with pytest.raises(FsxBackupError, match=f"copy_to_regions: the first {MAX_TOKEN_ATTEMPTS} copy tokens for us-west-2"):
        copies(regions, clock, [WEST])


def test_a_copy_failing_while_waited_on_is_deleted_and_reported(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "COPYING"))
    expect_describe(regions["us-west-2"], make_copy(C_WEST, "us-west-2", "FAILED", failure="KMS key disabled"))
    expect_delete(regions["us-west-2"], C_WEST)
    with pytest.raises(BackupFailedError) as info:
        copies(regions, clock, [WEST])
    assert info.value.backup_id == C_WEST and info.value.reason == "KMS key disabled"
    assert "The failed backup was deleted" in str(info.value)


def test_a_failed_copy_whose_delete_fails_says_how_to_delete_it(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "COPYING"))
    expect_describe(regions["us-west-2"], make_copy(C_WEST, "us-west-2", "FAILED", failure="boom"))
    expect_delete(regions["us-west-2"], C_WEST, error="BadRequest")
    with pytest.raises(BackupFailedError, match=f"aws fsx delete-backup --backup-id {C_WEST}"):
        copies(regions, clock, [WEST])


def test_a_copy_deleted_while_waited_on_is_reported(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "COPYING"))
    regions["us-west-2"].add_client_error("describe_backups", "BackupNotFound", "gone")
    with pytest.raises(BackupDeletedError, match=C_WEST):
        copies(regions, clock, [WEST])


@pytest.mark.parametrize("code,limit", [
    ("ServiceLimitExceeded", "TOTAL_IN_PROGRESS_COPY_BACKUPS"),
    ("SourceBackupUnavailable", None),
])
def test_busy_copies_wait_with_growing_pauses_then_start(
    regions: Regions, clock: FakeClock, code: str, limit: Optional[str]
) -> None:
    """At most 5 copies in progress per destination region: wait, do not fail (same token each time)."""
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, error=code, limit=limit)
    expect_copy(regions["us-west-2"], WEST, error=code, limit=limit)
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "AVAILABLE"))
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST
    assert clock.sleeps == [5.0, 7.5]


def test_busy_until_the_deadline_is_a_clear_copy_to_regions_error(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    for _ in range(4):
        expect_copy(regions["us-west-2"], WEST, error="ServiceLimitExceeded", limit="TOTAL_IN_PROGRESS_COPY_BACKUPS")
    with pytest.raises(FsxBackupError) as info:
        copies(regions, clock, [WEST], timeout=20)
    text = str(info.value)
    assert text.startswith(f"copy_to_regions: copying {SOURCE} to us-west-2: FSx kept answering ServiceLimitExceeded for 20s")
    assert clock.sleeps == [5.0, 7.5, 7.5]  # the last pause is cut to the deadline


def test_a_refused_copy_is_not_retried(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["eu-west-1"])
    expect_copy(regions["eu-west-1"], EU, error="InvalidDestinationKmsKey")
    with pytest.raises(CopyRefusedError, match="copy_to_regions: FSx refused to copy .* to eu-west-1"):
        copies(regions, clock, [EU])
    assert clock.sleeps == []


def test_a_refused_destination_leaves_no_copy_behind(aws_env: None, clock: FakeClock) -> None:
    regions = Regions()  # not the fixture: its teardown would fail on the unused DeleteBackup answer
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        regions.add(region)
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "COPYING"))
    expect_copy_search(regions["eu-west-1"])
    expect_copy(regions["eu-west-1"], EU, error="InvalidDestinationKmsKey")
    expect_delete(regions["us-west-2"], C_WEST)
    with pytest.raises(CopyRefusedError):
        copies(regions, clock, [WEST, EU])
    assert ("us-west-2", "DeleteBackup") in regions.calls


# -------------------------------------------------------------------------------------------------
# a copy already in the destination region is adopted (fsx.find_copy_of: its SourceBackupId)


def test_a_copy_found_by_its_source_backup_id_is_adopted_without_copy_backup(
    regions: Regions, clock: FakeClock
) -> None:
    """An interrupted `up` started this copy hours ago; FSx may have forgotten the copy token, but the
    copy still names its source. Stubber fails on any CopyBackup: none is queued."""
    someone_elses = make_copy(C_SPARE, "us-west-2", "AVAILABLE")
    someone_elses["SourceBackupId"] = backup_id(9)
    expect_copy_search(regions["us-west-2"], [someone_elses, make_copy(C_WEST, "us-west-2", "COPYING")])
    expect_describe(regions["us-west-2"], make_copy(C_WEST, "us-west-2", "AVAILABLE"))
    made = copies(regions, clock, [WEST])
    assert [c["backup_id"] for c in made] == [C_WEST] and made[0]["lifecycle"] == "AVAILABLE"
    assert ("us-west-2", "CopyBackup") not in regions.calls


def test_an_available_copy_found_needs_neither_copy_nor_poll(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["eu-west-1"], [make_copy(C_EU, "eu-west-1", "AVAILABLE", kms=EU_KEY)])
    assert copies(regions, clock, [EU])[0]["backup_id"] == C_EU
    assert regions.polls == [] and clock.sleeps == []


def test_a_failed_copy_found_is_deleted_and_a_fresh_copy_made(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"], [make_copy(C_SPARE, "us-west-2", "FAILED", failure="old")])
    expect_delete(regions["us-west-2"], C_SPARE)
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "AVAILABLE"))
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST


def test_a_deleted_copy_in_the_listing_is_not_adopted(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"], [make_copy(C_SPARE, "us-west-2", "DELETED")])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "AVAILABLE"))
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST


def test_a_copy_is_found_region_wide_where_the_source_file_system_is_unknown(
    regions: Regions, clock: FakeClock
) -> None:
    """The destination region does not know the source's file system: DescribeBackups answers
    FileSystemNotFound for the filter, so every user-initiated backup of the region is read (all
    pages) and the copy is still found by its SourceBackupId."""
    other_source = make_copy(C_SPARE, "us-west-2", "AVAILABLE")
    other_source["SourceBackupId"] = backup_id(9)
    stub = regions["us-west-2"]
    stub.add_client_error("describe_backups", "FileSystemNotFound", "no such file system",
                          expected_params={"Filters": [USER_INITIATED, BY_SOURCE_FS]})
    stub.add_response("describe_backups", {"Backups": [other_source], "NextToken": "cGFnZTI="},
                      expected_params={"Filters": [USER_INITIATED]})
    stub.add_response("describe_backups", {"Backups": [make_copy(C_WEST, "us-west-2", "AVAILABLE")]},
                      expected_params={"Filters": [USER_INITIATED], "NextToken": "cGFnZTI="})
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST
    assert ("us-west-2", "CopyBackup") not in regions.calls


def test_a_spent_copy_token_adopts_the_copy_it_made(regions: Regions, clock: FakeClock) -> None:
    """copy_tags changed since an interrupted run: FSx refuses the token with other parameters, and
    the copy it made is found again by its SourceBackupId (the first listing had not seen it yet)."""
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, error="IncompatibleParameterError", copy_tags=False)
    expect_copy_search(regions["us-west-2"], [make_copy(C_WEST, "us-west-2", "AVAILABLE")])
    assert copies(regions, clock, [WEST], copy_tags=False)[0]["backup_id"] == C_WEST


def test_a_spent_copy_token_without_a_copy_moves_to_the_next_token(regions: Regions, clock: FakeClock) -> None:
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, error="IncompatibleParameterError")
    expect_copy_search(regions["us-west-2"])
    expect_copy(regions["us-west-2"], WEST, make_copy(C_WEST, "us-west-2", "AVAILABLE"), attempt=1)
    assert copies(regions, clock, [WEST])[0]["backup_id"] == C_WEST


@pytest.mark.parametrize("code", ["VolumeNotFound", "FileSystemNotFound"])
def test_find_copy_of_a_volume_backup_searches_by_volume_then_region_wide(
    regions: Regions, code: str
) -> None:
    vol = "fsvol-0123456789abcdef0"
    source = make_backup(SOURCE, "AVAILABLE", volume_id=vol, file_system_type="ONTAP")
    found = make_copy(C_WEST, "us-west-2", "AVAILABLE")
    stub = regions["us-west-2"]
    stub.add_client_error("describe_backups", code, "unknown here", expected_params={
        "Filters": [USER_INITIATED, {"Name": "volume-id", "Values": [vol]}]})
    stub.add_response("describe_backups", {"Backups": [found]}, expected_params={"Filters": [USER_INITIATED]})
    assert fsx.find_copy_of(regions("us-west-2"), source) == found


def test_find_copy_of_raises_other_listing_errors(regions: Regions) -> None:
    regions["us-west-2"].add_client_error("describe_backups", "AccessDeniedException", "no",
                                          expected_params={"Filters": [USER_INITIATED, BY_SOURCE_FS]})
    with pytest.raises(fsx.AwsApiError, match="DescribeBackups .*AccessDeniedException"):
        fsx.find_copy_of(regions("us-west-2"), make_backup(SOURCE, "AVAILABLE"))


# -------------------------------------------------------------------------------------------------
# refresh_copies / remove_copies


def _state(region: str, bid: str, requested: Optional[str] = None) -> CopyState:
    return {"region": region, "requested_kms_key_id": requested, "backup_id": bid,
            "backup_arn": f"arn:aws:fsx:{region}:123456789012:backup/{bid}", "lifecycle": "AVAILABLE",
            "kms_key_id": "old-key"}


def test_refresh_drops_copies_deleted_out_of_band_and_reports_the_live_ones(regions: Regions) -> None:
    regions["us-west-2"].add_client_error("describe_backups", "BackupNotFound", "gone",
                                          expected_params={"BackupIds": [C_WEST]})
    expect_describe(regions["eu-west-1"], make_copy(C_EU, "eu-west-1", "AVAILABLE", kms=EU_KEY))
    alive = refresh_copies([_state("us-west-2", C_WEST), _state("eu-west-1", C_EU, EU_KEY)], regions)
    assert alive == [{**_state("eu-west-1", C_EU, EU_KEY), "kms_key_id": EU_KEY}]


def test_refresh_drops_a_copy_reported_deleted(regions: Regions) -> None:
    expect_describe(regions["us-west-2"], make_copy(C_WEST, "us-west-2", "DELETED"))
    assert refresh_copies([_state("us-west-2", C_WEST)], regions) == []


def test_remove_copies_deletes_each_in_its_region_with_a_stable_token(regions: Regions, clock: FakeClock) -> None:
    regions["us-west-2"].add_response("delete_backup", {"BackupId": C_WEST, "Lifecycle": "DELETED"},
                                      expected_params={"BackupId": C_WEST, "ClientRequestToken": delete_token(C_WEST)})
    regions["eu-west-1"].add_client_error("delete_backup", "BackupNotFound", "already gone")
    remove_copies([_state("us-west-2", C_WEST), _state("eu-west-1", C_EU)], client_for=regions,
                             deadline=clock() + 60, runtime=fake_runtime(regions("us-east-1"), clock))
    assert [c for c in regions.calls if c[1] == "DeleteBackup"] == [("us-west-2", "DeleteBackup"), ("eu-west-1", "DeleteBackup")]


def test_remove_copies_waits_while_a_copy_is_busy(regions: Regions, clock: FakeClock) -> None:
    expect_delete(regions["us-west-2"], C_WEST, error="BackupInProgress")
    expect_delete(regions["us-west-2"], C_WEST)
    remove_copies([_state("us-west-2", C_WEST)], client_for=regions, deadline=clock() + 60,
                             runtime=fake_runtime(regions("us-east-1"), clock))
    assert clock.sleeps == [5.0]
