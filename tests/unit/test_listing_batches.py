"""The pre-create listing of a target's backups (the token-tag marker) is batched across concurrent
creates (issue 12): one DescribeBackups per 20 targets, listed fresh for every create, and adoption
by token tag works on a shared listing as on a listing of its own."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

import pytest
from unit_helpers import FakeClock

from fsx_backup_component import fsx
from fsx_backup_component.errors import AwsApiError
from fsx_backup_component.lookups import TargetLookups
from fsx_backup_component.runtime import Runtime


def volume(n: int) -> str:
    return f"fsvol-{n:017x}"


def listed(backup_n: int, volume_id: str, token: Optional[str] = None, source: Optional[str] = None) -> dict[str, Any]:
    backup: dict[str, Any] = {
        "BackupId": f"backup-{backup_n:017x}", "Lifecycle": "AVAILABLE", "Type": "USER_INITIATED",
        "Volume": {"VolumeId": volume_id}, "FileSystem": {"FileSystemId": "fs-0123456789abcdef0"},
    }
    if token is not None:
        backup["Tags"] = [{"Key": fsx.TOKEN_TAG_KEY, "Value": token}]
    if source is not None:
        backup["SourceBackupId"] = source
    return backup


class ListingFsx:
    """DescribeBackups by filters as FSx answers it (values of one filter ORed, a filter naming an
    unknown volume fails the whole call with VolumeNotFound), pages of ``page`` items."""

    def __init__(self, backups: list[dict[str, Any]], known_volumes: set[str], page: int = 50) -> None:
        self.backups, self.known, self.page = backups, known_volumes, page
        self.calls: list[list[str]] = []

    def can_paginate(self, _operation: str) -> bool:
        return False

    def describe_backups(self, *, Filters: list[dict[str, Any]], NextToken: str = "0") -> dict[str, Any]:  # noqa: N803
        from botocore.exceptions import ClientError

        volumes = next(f["Values"] for f in Filters if f["Name"] == "volume-id")
        assert len(volumes) <= 20, "the model allows at most 20 values per filter"
        if NextToken == "0":
            self.calls.append(list(volumes))
        unknown = [v for v in volumes if v not in self.known]
        if unknown:
            raise ClientError({"Error": {"Code": "VolumeNotFound", "Message": unknown[0]}}, "DescribeBackups")
        matching = [b for b in self.backups if b["Volume"]["VolumeId"] in volumes]
        start = int(NextToken)
        answer: dict[str, Any] = {"Backups": matching[start : start + self.page]}
        if start + self.page < len(matching):
            answer["NextToken"] = str(start + self.page)
        return answer


def test_45_targets_are_listed_in_three_calls_and_grouped_by_target() -> None:
    targets = [volume(n) for n in range(45)]
    backups = [listed(n, targets[n % 45]) for n in range(90)]
    client = ListingFsx(backups, set(targets), page=7)  # short pages: every page is read
    found = fsx.list_user_backups_of(client, targets, filter_name="volume-id")
    assert [len(c) for c in client.calls] == [20, 20, 5]
    assert all(len(found[t]) == 2 and {b["Volume"]["VolumeId"] for b in found[t]} == {t} for t in targets)


def test_a_batch_naming_an_unknown_target_is_listed_again_target_by_target() -> None:
    targets = [volume(n) for n in range(3)]
    client = ListingFsx([listed(1, targets[0])], {targets[0], targets[2]})
    found = fsx.list_user_backups_of(client, targets, filter_name="volume-id")
    assert found == {targets[0]: [listed(1, targets[0])], targets[1]: [], targets[2]: []}
    assert client.calls == [targets, [targets[0]], [targets[1]], [targets[2]]]


def test_another_failure_of_a_listing_names_the_targets() -> None:
    class Throttled(ListingFsx):
        def describe_backups(self, **request: Any) -> dict[str, Any]:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "BadRequest", "Message": "no"}}, "DescribeBackups")

    with pytest.raises(AwsApiError, match=volume(1)):
        fsx.list_user_backups_of(Throttled([], set()), [volume(1), volume(2)], filter_name="volume-id")


def _concurrently(
    client: Any,
    targets: list[str],
    ask: Callable[[TargetLookups, str], Any] = lambda lookups, t: lookups.user_backups(file_system_id=None, volume_id=t),
    queue: Callable[[TargetLookups], Any] = lambda lookups: lookups._listings["volume-id"]._queued,
) -> dict[str, Any]:
    """``targets`` creates each making ``ask`` at once through the production wiring (Runtime.lookups,
    the default windows), on a clock frozen until every one is in ``queue`` (default: the listing)."""
    clock = FakeClock()
    lookups = Runtime(clock=clock, wait=lambda condition, _seconds: condition.wait(0.005)).lookups(client)
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda t=t: results.update({t: ask(lookups, t)}), daemon=True) for t in targets
    ]
    for thread in threads:
        thread.start()
    queued = queue(lookups)
    deadline = time.monotonic() + 10
    while len(queued) < len(targets) and not client.calls and time.monotonic() < deadline:
        time.sleep(0.001)
    clock.advance(1.0)  # past the window
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    return results


def test_concurrent_creates_share_one_listing_per_20_targets_and_adopt_their_own_marked_backup() -> None:
    targets = [volume(n) for n in range(45)]
    mine = listed(1, targets[7], token="tok-7")
    copy_of_mine = listed(2, targets[7], token="tok-7", source=mine["BackupId"])
    someone_elses = listed(3, targets[8], token="tok-8-other-life")
    client = ListingFsx([mine, copy_of_mine, someone_elses], set(targets))
    results = _concurrently(client, targets)
    assert sorted(len(c) for c in client.calls) == [5, 20, 20], client.calls
    assert fsx.marked_by_token(results[targets[7]], ["tok-7", "tok-7b"]) == {"tok-7": mine}  # the copy is skipped
    assert fsx.marked_by_token(results[targets[8]], ["tok-8"]) == {}
    assert all(results[t] == [] for t in targets if t not in (targets[7], targets[8]))


def test_a_listing_is_never_served_from_cache() -> None:
    """Whether to adopt is decided on a listing made after the question: a second create of the same
    target lists again (the first one's backup shows)."""
    target = volume(1)
    client = ListingFsx([], {target})
    clock = FakeClock()
    lookups = Runtime(clock=clock, sleep=clock.sleep).lookups(client)
    assert lookups.user_backups(file_system_id=None, volume_id=target) == []
    client.backups.append(listed(1, target, token="tok"))
    assert lookups.user_backups(file_system_id=None, volume_id=target) == [listed(1, target, token="tok")]
    assert client.calls == [[target], [target]]


# -------------------------------------------------------------------------------------------------
# the tags FSx would copy (read when a create sends no tags): one description per 50 targets


class DescribingFsx:
    """DescribeVolumes by IDs: volume ``n`` copies its tags to backups when ``n`` is even."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.tags: dict[str, str] = {"team": "data"}

    def can_paginate(self, _operation: str) -> bool:
        return False

    def describe_volumes(self, *, VolumeIds: list[str]) -> dict[str, Any]:  # noqa: N803
        assert len(VolumeIds) <= 50, "the model allows at most 50 IDs"
        self.calls.append(list(VolumeIds))
        return {"Volumes": [
            {"VolumeId": v, "VolumeType": "ONTAP", "Tags": [{"Key": k, "Value": f"{val}-{v}"} for k, val in self.tags.items()],
             "OntapConfiguration": {"CopyTagsToBackups": int(v[-3:], 16) % 2 == 0}}
            for v in VolumeIds
        ]}


def test_concurrent_creates_read_the_tags_to_copy_in_one_description_per_50_targets() -> None:
    targets = [volume(n) for n in range(120)]
    client = DescribingFsx()
    results = _concurrently(
        client, targets,
        ask=lambda lookups, t: lookups.tags_copied_to_backups(file_system_id=None, volume_id=t),
        queue=lambda lookups: lookups._current["volume"]._queued,
    )
    assert sorted(len(c) for c in client.calls) == [20, 50, 50], "one call each used to be 120 calls"
    assert results[targets[2]] == {"team": f"data-{targets[2]}"}, "each create gets its own target's tags"
    assert results[targets[3]] == {}, "a volume that does not copy its tags gives none"


def test_the_tags_to_copy_are_never_served_from_cache() -> None:
    target = volume(2)
    client = DescribingFsx()
    clock = FakeClock()
    lookups = Runtime(clock=clock, sleep=clock.sleep).lookups(client)
    assert lookups.tags_copied_to_backups(file_system_id=None, volume_id=target) == {"team": f"data-{target}"}
    client.tags = {"team": "storage"}
    assert lookups.tags_copied_to_backups(file_system_id=None, volume_id=target) == {"team": f"storage-{target}"}
    assert client.calls == [[target], [target]]
