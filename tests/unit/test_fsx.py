"""fsx.py, the only boto3 module, against a real client under botocore's Stubber.

Stubber validates every request against the model's required/min constraints; ``expected_params``
pins the exact request where it matters (tokens, tags, batches). A last group runs the client's real
retry machinery on fake HTTP responses to see RETRY_CONFIG at work.
"""

from __future__ import annotations

import copy
import json
import random
import re
from typing import Any, Callable, Optional

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from unit_helpers import (
    FS_ID,
    FS_ID_2,
    VOL_ID,
    FakeClock,
    backup_id,
    make_backup,
    make_dra,
    make_file_system,
    make_volume,
)

from fsx_backup_component import fsx
from fsx_backup_component.errors import (
    AwsApiError,
    BackupDeletedError,
    IneligibleTargetError,
    QuotaExceededError,
    TargetNotFoundError,
)

TOKEN = "fsxb-0123456789abcdef0123456789abcdef01234567"
B1 = backup_id(1)
REQ_ID = "11111111-2222-3333-4444-555555555555"


def client_error(
    stub: Stubber,
    method: str,
    code: str,
    message: str = "",
    *,
    status: int = 400,
    expected: Optional[dict[str, Any]] = None,
    modeled: Optional[dict[str, Any]] = None,
) -> None:
    stub.add_client_error(
        method,
        service_error_code=code,
        service_message=message or f"{code} message",
        http_status_code=status,
        expected_params=expected,
        response_meta={"RequestId": REQ_ID},
        modeled_fields=modeled,
    )


# -------------------------------------------------------------------------------------------------
# create_backup


ONLY_THE_TOKEN_TAG = [{"Key": fsx.TOKEN_TAG_KEY, "Value": TOKEN}]


def test_create_backup_without_user_tags_sends_the_token_and_only_the_token_tag(client: Any, stubber: Stubber) -> None:
    """Every backup carries its token in a tag: the durable marker a resumed `up` finds it by."""
    stubber.add_response(
        "create_backup",
        {"Backup": make_backup(B1)},
        expected_params={"FileSystemId": FS_ID, "ClientRequestToken": TOKEN, "Tags": ONLY_THE_TOKEN_TAG},
    )
    outcome = fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert outcome.backup["BackupId"] == B1
    assert outcome.adopted_by_tag is False


def test_create_backup_with_empty_tags_sends_only_the_token_tag(client: Any, stubber: Stubber) -> None:
    """Tags=[] would be refused (min 1): empty user tags add nothing to the token tag."""
    stubber.add_response(
        "create_backup", {"Backup": make_backup(B1)},
        expected_params={"FileSystemId": FS_ID, "ClientRequestToken": TOKEN, "Tags": ONLY_THE_TOKEN_TAG},
    )
    fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags={})


def test_create_backup_sends_user_tags_sorted_plus_the_token_tag(client: Any, stubber: Stubber) -> None:
    stubber.add_response(
        "create_backup",
        {"Backup": make_backup(B1)},
        expected_params={
            "FileSystemId": FS_ID,
            "ClientRequestToken": TOKEN,
            "Tags": [
                {"Key": "a", "Value": "1"},
                {"Key": "b", "Value": "2"},
                {"Key": fsx.TOKEN_TAG_KEY, "Value": TOKEN},
            ],
        },
    )
    fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags={"b": "2", "a": "1"})


def test_create_backup_of_a_volume_sends_only_the_volume_id(client: Any, stubber: Stubber) -> None:
    stubber.add_response(
        "create_backup",
        {"Backup": make_backup(B1, volume_id=VOL_ID, file_system_type="ONTAP")},
        expected_params={"VolumeId": VOL_ID, "ClientRequestToken": TOKEN, "Tags": ONLY_THE_TOKEN_TAG},
    )
    outcome = fsx.create_backup(client, file_system_id=None, volume_id=VOL_ID, token=TOKEN, tags=None)
    assert outcome.backup["Volume"]["VolumeId"] == VOL_ID


@pytest.mark.parametrize("code", ["BackupInProgress"])
def test_backup_in_progress_is_busy(client: Any, stubber: Stubber, code: str) -> None:
    client_error(stubber, "create_backup", code, "Another backup is already under way.")
    with pytest.raises(fsx.BusyError, match="Another backup is already under way") as info:
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert info.value.code == "BackupInProgress"


@pytest.mark.parametrize(
    "code,fs,vol,prop,target",
    [
        ("FileSystemNotFound", FS_ID, None, "file_system_id", FS_ID),
        ("VolumeNotFound", None, VOL_ID, "volume_id", VOL_ID),
    ],
)
def test_not_found_names_the_property_the_id_and_the_region(
    client: Any, stubber: Stubber, code: str, fs: Optional[str], vol: Optional[str], prop: str, target: str
) -> None:
    client_error(stubber, "create_backup", code)
    with pytest.raises(TargetNotFoundError) as info:
        fsx.create_backup(client, file_system_id=fs, volume_id=vol, token=TOKEN, tags=None)
    err = info.value
    assert (err.property_name, err.target_id, err.region, err.request_id) == (prop, target, "us-east-1", REQ_ID)
    assert str(err).startswith(f"{prop}: {target} was not found in region us-east-1")
    assert REQ_ID in str(err)


def test_unsupported_operation_is_an_ineligible_target(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "create_backup", "UnsupportedOperation", "ONTAP file system backup is unsupported.")
    with pytest.raises(IneligibleTargetError) as info:
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert info.value.property_name == "file_system_id"
    assert "ONTAP file system backup is unsupported." in str(info.value)
    assert FS_ID in str(info.value) and REQ_ID in str(info.value)


def test_service_limit_names_the_limit(client: Any, stubber: Stubber) -> None:
    client_error(
        stubber, "create_backup", "ServiceLimitExceeded", "You have reached the backup limit.",
        modeled={"Limit": "TOTAL_USER_INITIATED_BACKUPS"},
    )
    with pytest.raises(QuotaExceededError) as info:
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert info.value.limit == "TOTAL_USER_INITIATED_BACKUPS"
    text = str(info.value)
    assert "account quota TOTAL_USER_INITIATED_BACKUPS reached" in text
    assert "You have reached the backup limit." in text and FS_ID in text and REQ_ID in text


@pytest.mark.parametrize("code,status", [("InternalServerError", 500), ("BadRequest", 400)])
def test_other_create_errors_are_aws_api_errors_with_the_request_id(
    client: Any, stubber: Stubber, code: str, status: int
) -> None:
    client_error(stubber, "create_backup", code, "boom", status=status)
    with pytest.raises(AwsApiError) as info:
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert (info.value.operation, info.value.code, info.value.request_id) == ("CreateBackup", code, REQ_ID)
    assert str(info.value) == f"CreateBackup for {FS_ID} failed: {code}: boom (AWS request ID: {REQ_ID})"


def _tag_search(stub: Stubber, backups: list[dict[str, Any]], *, volume: bool = False, next_token: Optional[str] = None,
                after: Optional[str] = None) -> None:
    filters = [{"Name": "backup-type", "Values": ["USER_INITIATED"]}]
    filters.append({"Name": "volume-id", "Values": [VOL_ID]} if volume else {"Name": "file-system-id", "Values": [FS_ID]})
    expected: dict[str, Any] = {"Filters": filters}
    if after:
        expected["NextToken"] = after
    response: dict[str, Any] = {"Backups": backups}
    if next_token:
        response["NextToken"] = next_token
    stub.add_response("describe_backups", response, expected_params=expected)


def test_incompatible_token_adopts_the_backup_carrying_the_token_tag(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "Tags"})
    other = make_backup(backup_id(2), "AVAILABLE", tags={fsx.TOKEN_TAG_KEY: "fsxb-someone-else"})
    deleted = make_backup(backup_id(3), "DELETED", tags={fsx.TOKEN_TAG_KEY: TOKEN})
    mine = make_backup(B1, "CREATING", tags={"old": "tag", fsx.TOKEN_TAG_KEY: TOKEN})
    _tag_search(stubber, [other, deleted], next_token="cGFnZTI=")
    _tag_search(stubber, [mine], after="cGFnZTI=")
    outcome = fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags={"new": "tag"})
    assert outcome.backup["BackupId"] == B1
    assert outcome.adopted_by_tag is True


def test_incompatible_token_searches_by_volume_for_a_volume(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "Tags"})
    _tag_search(stubber, [make_backup(B1, tags={fsx.TOKEN_TAG_KEY: TOKEN}, volume_id=VOL_ID)], volume=True)
    outcome = fsx.create_backup(client, file_system_id=None, volume_id=VOL_ID, token=TOKEN, tags={"a": "b"})
    assert outcome.backup["BackupId"] == B1


def test_incompatible_token_without_tag_match_retries_without_tags(client: Any, stubber: Stubber) -> None:
    """The interrupted create was made without tags; the retry has tags: ask again as it was."""
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "Tags"})
    _tag_search(stubber, [])
    stubber.add_response(
        "create_backup", {"Backup": make_backup(B1)},
        expected_params={"FileSystemId": FS_ID, "ClientRequestToken": TOKEN},
    )
    outcome = fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags={"a": "b"})
    assert outcome.backup["BackupId"] == B1
    assert outcome.adopted_by_tag is True


def test_incompatible_token_retry_without_tags_busy_is_busy(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "Tags"})
    _tag_search(stubber, [])
    client_error(stubber, "create_backup", "BackupInProgress")
    with pytest.raises(fsx.BusyError):
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags={"a": "b"})


def test_incompatible_token_with_no_live_backup_is_spent(client: Any, stubber: Stubber) -> None:
    """FSx remembers the token with other tags, but no live backup carries it (deleted by a destroy):
    the token is spent and take_backup moves on to the next one."""
    client_error(stubber, "create_backup", "IncompatibleParameterError", "token reused", modeled={"Parameter": "Tags"})
    _tag_search(stubber, [])
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "Tags"})
    with pytest.raises(fsx.TokenSpentError) as info:
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags={"a": "b"})
    assert info.value.token == TOKEN


def test_incompatible_token_without_user_tags_asks_once_more_without_the_token_tag(
    client: Any, stubber: Stubber
) -> None:
    """The token tag is sent even without user tags, so a backup an earlier version made with this token
    and no Tags at all answers only the untagged request; if that too is incompatible, it is spent."""
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "FileSystemId"},
                 expected={"FileSystemId": FS_ID, "ClientRequestToken": TOKEN, "Tags": ONLY_THE_TOKEN_TAG})
    _tag_search(stubber, [])
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "FileSystemId"},
                 expected={"FileSystemId": FS_ID, "ClientRequestToken": TOKEN})
    with pytest.raises(fsx.TokenSpentError):
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)


# -------------------------------------------------------------------------------------------------
# delete / tag / untag


def test_delete_backup_sends_the_token(client: Any, stubber: Stubber) -> None:
    stubber.add_response(
        "delete_backup", {"BackupId": B1, "Lifecycle": "DELETED"},
        expected_params={"BackupId": B1, "ClientRequestToken": "fsxd-tok"},
    )
    assert fsx.delete_backup(client, B1, "fsxd-tok") is True


def test_delete_of_a_missing_backup_is_false(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "delete_backup", "BackupNotFound")
    assert fsx.delete_backup(client, B1, "fsxd-tok") is False


@pytest.mark.parametrize("code", ["BackupInProgress", "BackupBeingCopied"])
def test_delete_of_a_busy_backup_is_busy(client: Any, stubber: Stubber, code: str) -> None:
    client_error(stubber, "delete_backup", code, "busy now")
    with pytest.raises(fsx.BusyError, match="busy now") as info:
        fsx.delete_backup(client, B1, "fsxd-tok")
    assert info.value.code == code


@pytest.mark.parametrize("code", ["BackupRestoring", "BadRequest", "IncompatibleParameterError"])
def test_other_delete_errors_are_api_errors(client: Any, stubber: Stubber, code: str) -> None:
    modeled = {"Parameter": "x"} if code == "IncompatibleParameterError" else None
    client_error(stubber, "delete_backup", code, "nope", modeled=modeled)
    with pytest.raises(AwsApiError) as info:
        fsx.delete_backup(client, B1, "fsxd-tok")
    assert str(info.value) == f"DeleteBackup for {B1} failed: {code}: nope (AWS request ID: {REQ_ID})"


def test_tag_and_untag_send_sorted_values_and_skip_empty(client: Any, stubber: Stubber) -> None:
    arn = make_backup(B1)["ResourceARN"]
    stubber.add_response("tag_resource", {}, expected_params={
        "ResourceARN": arn, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "z", "Value": "2"}]})
    stubber.add_response("untag_resource", {}, expected_params={"ResourceARN": arn, "TagKeys": ["m", "x"]})
    fsx.tag_backup(client, arn, {"z": "2", "a": "1"})
    fsx.untag_backup(client, arn, {"x", "m"})
    fsx.tag_backup(client, arn, {})  # no call queued: Stubber would fail on one
    fsx.untag_backup(client, arn, [])


def test_tag_errors_are_api_errors(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "tag_resource", "ResourceNotFound", modeled=None)
    with pytest.raises(AwsApiError, match="TagResource for arn:.*ResourceNotFound"):
        fsx.tag_backup(client, "arn:aws:fsx:us-east-1:123456789012:backup/" + B1, {"a": "b"})
    client_error(stubber, "untag_resource", "NotServiceResourceError", modeled={"ResourceARN": "arn:aws:fsx:us-east-1:123456789012:backup/" + B1})
    with pytest.raises(AwsApiError, match="UntagResource"):
        fsx.untag_backup(client, "arn:aws:fsx:us-east-1:123456789012:backup/" + B1, ["a"])


# -------------------------------------------------------------------------------------------------
# finders


def test_describe_backups_batches_by_50(client: Any, stubber: Stubber) -> None:
    ids = [backup_id(n) for n in range(51)]
    stubber.add_response("describe_backups", {"Backups": [make_backup(i) for i in ids[:50]]},
                         expected_params={"BackupIds": ids[:50]})
    stubber.add_response("describe_backups", {"Backups": [make_backup(ids[50], "AVAILABLE")]},
                         expected_params={"BackupIds": ids[50:]})
    found = fsx.describe_backups(client, ids + ids[:3])  # duplicates are asked once
    assert list(found) == ids
    assert (found[ids[50]] or {}).get("Lifecycle") == "AVAILABLE"


def test_describe_backups_falls_back_to_one_by_one_on_backup_not_found(client: Any, stubber: Stubber) -> None:
    a, b, c = backup_id(1), backup_id(2), backup_id(3)
    client_error(stubber, "describe_backups", "BackupNotFound", expected={"BackupIds": [a, b, c]})
    stubber.add_response("describe_backups", {"Backups": [make_backup(a)]}, expected_params={"BackupIds": [a]})
    client_error(stubber, "describe_backups", "BackupNotFound", expected={"BackupIds": [b]})
    stubber.add_response("describe_backups", {"Backups": [make_backup(c, "DELETED")]}, expected_params={"BackupIds": [c]})
    assert fsx.describe_backups(client, [a, b, c]) == {a: make_backup(a), b: None, c: None}


def test_describe_backups_treats_an_id_missing_from_the_answer_as_gone(client: Any, stubber: Stubber) -> None:
    stubber.add_response("describe_backups", {"Backups": []})
    assert fsx.find_backup(client, B1) is None


def test_describe_backups_raises_other_errors_unchanged(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "describe_backups", "InternalServerError", status=500)
    with pytest.raises(botocore.exceptions.ClientError):
        fsx.describe_backups(client, [B1])


def test_describe_backups_of_nothing_makes_no_call(client: Any, stubber: Stubber) -> None:
    assert fsx.describe_backups(client, []) == {}


def test_describe_file_systems_batches_and_falls_back(client: Any, stubber: Stubber) -> None:
    ids = [f"fs-{n:017x}" for n in range(52)]
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(i) for i in ids[:50]]},
                         expected_params={"FileSystemIds": ids[:50]})
    client_error(stubber, "describe_file_systems", "FileSystemNotFound", expected={"FileSystemIds": ids[50:]})
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(ids[50])]},
                         expected_params={"FileSystemIds": [ids[50]]})
    client_error(stubber, "describe_file_systems", "FileSystemNotFound", expected={"FileSystemIds": [ids[51]]})
    found = fsx.describe_file_systems(client, ids)
    assert [k for k, v in found.items() if v is None] == [ids[51]]
    assert len(found) == 52


def test_describe_volumes_batches_and_falls_back(client: Any, stubber: Stubber) -> None:
    ids = [f"fsvol-{n:017x}" for n in range(51)]
    client_error(stubber, "describe_volumes", "VolumeNotFound", expected={"VolumeIds": ids[:50]})
    for i, vol in enumerate(ids[:50]):
        if i == 7:
            client_error(stubber, "describe_volumes", "VolumeNotFound", expected={"VolumeIds": [vol]})
        else:
            stubber.add_response("describe_volumes", {"Volumes": [make_volume(vol)]}, expected_params={"VolumeIds": [vol]})
    stubber.add_response("describe_volumes", {"Volumes": []}, expected_params={"VolumeIds": ids[50:]})
    found = fsx.describe_volumes(client, ids)
    assert [k for k, v in found.items() if v is None] == [ids[7], ids[50]]


def test_count_data_repository_associations_walks_pages_and_batches_20_values(client: Any, stubber: Stubber) -> None:
    ids = [f"fs-{n:017x}" for n in range(21)]
    first = {"Filters": [{"Name": "file-system-id", "Values": ids[:20]}], "MaxResults": 25}
    stubber.add_response(
        "describe_data_repository_associations",
        {"Associations": [make_dra(1, ids[0]), make_dra(2, ids[0]), make_dra(3, FS_ID_2)], "NextToken": "bmV4dA=="},
        expected_params=first,
    )
    stubber.add_response(
        "describe_data_repository_associations",
        {"Associations": [make_dra(4, ids[3])]},
        expected_params={**first, "NextToken": "bmV4dA=="},
    )
    stubber.add_response(
        "describe_data_repository_associations",
        {"Associations": [make_dra(5, ids[20])]},
        expected_params={"Filters": [{"Name": "file-system-id", "Values": ids[20:]}], "MaxResults": 25},
    )
    counts = fsx.count_data_repository_associations(client, ids)
    assert counts[ids[0]] == 2 and counts[ids[3]] == 1 and counts[ids[20]] == 1
    assert sum(counts.values()) == 4  # the unrelated file system's association is not counted
    assert set(counts) == set(ids)


def test_count_data_repository_associations_of_nothing_makes_no_call(client: Any, stubber: Stubber) -> None:
    assert fsx.count_data_repository_associations(client, []) == {}


# -------------------------------------------------------------------------------------------------
# paged answers: FSx may answer any Describe* (by IDs too) in short pages, in any order


BY_IDS: dict[str, tuple[str, str, str, Callable[[int], str], Callable[[str], dict[str, Any]], Any]] = {
    "file systems": ("describe_file_systems", "FileSystemIds", "FileSystems",
                     lambda n: f"fs-{n:017x}", make_file_system, fsx.describe_file_systems),
    "volumes": ("describe_volumes", "VolumeIds", "Volumes",
                lambda n: f"fsvol-{n:017x}", make_volume, fsx.describe_volumes),
    "backups": ("describe_backups", "BackupIds", "Backups",
                backup_id, lambda i: make_backup(i, "AVAILABLE"), fsx.describe_backups),
}


def _paged(stub: Stubber, method: str, param: str, key: str, asked: list[str], items: list[dict[str, Any]],
           size: int = 7) -> int:
    """Queue the answer to one look-up by IDs as pages of ``size`` items, each page but the last with
    a NextToken (botocore's paginator sends it back with the same IDs). Returns the number of pages."""
    pages = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    for n, page in enumerate(pages):
        expected: dict[str, Any] = {param: asked}
        if n:
            expected["NextToken"] = f"cGFnZS0{n}"
        response: dict[str, Any] = {key: page}
        if n + 1 < len(pages):
            response["NextToken"] = f"cGFnZS0{n + 1}"
        stub.add_response(method, response, expected_params=expected)
    return len(pages)


@pytest.mark.parametrize("kind", sorted(BY_IDS))
def test_a_look_up_by_ids_answered_in_shuffled_pages_of_7_finds_every_id(
    client: Any, stubber: Stubber, kind: str
) -> None:
    """30 IDs answered 7 per page in no particular order: none is reported missing."""
    method, param, key, make_id, make_item, describe = BY_IDS[kind]
    ids = [make_id(n) for n in range(30)]
    answered = [make_item(i) for i in ids]
    random.Random(14).shuffle(answered)
    assert _paged(stubber, method, param, key, ids, answered) == 5
    found = describe(client, ids)
    assert list(found) == ids
    assert all(found[i] is not None for i in ids), [i for i in ids if found[i] is None]


@pytest.mark.parametrize("kind", sorted(BY_IDS))
def test_an_id_on_no_page_is_missing(client: Any, stubber: Stubber, kind: str) -> None:
    method, param, key, make_id, make_item, describe = BY_IDS[kind]
    ids = [make_id(n) for n in range(30)]
    answered = [make_item(i) for i in ids if i != ids[17]]
    random.Random(7).shuffle(answered)
    _paged(stubber, method, param, key, ids, answered)
    found = describe(client, ids)
    assert [i for i in ids if found[i] is None] == [ids[17]]


def test_more_than_50_ids_are_paged_batch_by_batch(client: Any, stubber: Stubber) -> None:
    ids = [f"fs-{n:017x}" for n in range(52)]
    first = [make_file_system(i) for i in ids[:50]]
    random.Random(3).shuffle(first)
    _paged(stubber, "describe_file_systems", "FileSystemIds", "FileSystems", ids[:50], first)
    _paged(stubber, "describe_file_systems", "FileSystemIds", "FileSystems", ids[50:],
           [make_file_system(ids[51]), make_file_system(ids[50])], size=1)
    found = fsx.describe_file_systems(client, ids)
    assert all(found[i] is not None for i in ids)


def test_a_missing_id_in_a_paged_batch_is_found_one_by_one(client: Any, stubber: Stubber) -> None:
    """FileSystemNotFound for the whole batch (on any page) re-asks each ID alone, each paged too."""
    a, b = "fs-0000000000000000a", "fs-0000000000000000b"
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(a)], "NextToken": "cDI="},
                         expected_params={"FileSystemIds": [a, b]})
    client_error(stubber, "describe_file_systems", "FileSystemNotFound",
                 expected={"FileSystemIds": [a, b], "NextToken": "cDI="})
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(a)]},
                         expected_params={"FileSystemIds": [a]})
    client_error(stubber, "describe_file_systems", "FileSystemNotFound", expected={"FileSystemIds": [b]})
    assert {k: v is not None for k, v in fsx.describe_file_systems(client, [a, b]).items()} == {a: True, b: False}


def test_a_listing_by_filters_reads_every_page(client: Any, stubber: Stubber) -> None:
    backups = [make_backup(backup_id(n), "AVAILABLE") for n in range(10)]
    backups[4]["Lifecycle"] = "DELETED"
    _tag_search(stubber, backups[:4], next_token="cDI=")
    _tag_search(stubber, backups[4:8], next_token="cDM=", after="cDI=")
    _tag_search(stubber, backups[8:], after="cDM=")
    live = fsx.list_user_backups(client, file_system_id=FS_ID, volume_id=None)
    assert [b["BackupId"] for b in live] == [backup_id(n) for n in range(10) if n != 4]


@pytest.mark.parametrize("code,volume", [("FileSystemNotFound", False), ("VolumeNotFound", True)])
def test_a_listing_for_a_target_fsx_does_not_know_is_empty(
    client: Any, stubber: Stubber, code: str, volume: bool
) -> None:
    """DescribeBackups may answer a filter on an unknown file system or volume with NotFound."""
    filters = [{"Name": "backup-type", "Values": ["USER_INITIATED"]},
               {"Name": "volume-id", "Values": [VOL_ID]} if volume else {"Name": "file-system-id", "Values": [FS_ID]}]
    client_error(stubber, "describe_backups", code, expected={"Filters": filters})
    assert fsx.list_user_backups(client, file_system_id=None if volume else FS_ID,
                                 volume_id=VOL_ID if volume else None) == []


def test_a_listing_raises_other_errors(client: Any, stubber: Stubber) -> None:
    client_error(stubber, "describe_backups", "AccessDeniedException")
    with pytest.raises(fsx.AwsApiError, match=f"DescribeBackups for {FS_ID} failed: AccessDeniedException"):
        fsx.list_user_backups(client, file_system_id=FS_ID, volume_id=None)


# -------------------------------------------------------------------------------------------------
# the token tag: find_backups_by_token_tag, tag_value, tags_copied_to_backups


def test_find_backups_by_token_tag_maps_tokens_to_live_backups_and_skips_copies(
    client: Any, stubber: Stubber
) -> None:
    mine = make_backup(backup_id(1), "CREATING", tags={fsx.TOKEN_TAG_KEY: "fsxb-a"})
    later = make_backup(backup_id(2), "AVAILABLE", tags={"team": "x", fsx.TOKEN_TAG_KEY: "fsxb-c"})
    not_mine = make_backup(backup_id(3), "AVAILABLE", tags={fsx.TOKEN_TAG_KEY: "fsxb-other"})
    copy = make_backup(backup_id(4), "AVAILABLE", tags={fsx.TOKEN_TAG_KEY: "fsxb-b"})
    copy["SourceBackupId"] = backup_id(9)
    gone = make_backup(backup_id(5), "DELETED", tags={fsx.TOKEN_TAG_KEY: "fsxb-b"})
    untagged = make_backup(backup_id(6), "AVAILABLE")
    _tag_search(stubber, [mine, not_mine, gone], next_token="cDI=")
    _tag_search(stubber, [copy, later, untagged], after="cDI=")
    marked, live = fsx.find_backups_by_token_tag(
        client, file_system_id=FS_ID, volume_id=None, tokens=["fsxb-a", "fsxb-b", "fsxb-c"])
    assert {t: b["BackupId"] for t, b in marked.items()} == {"fsxb-a": backup_id(1), "fsxb-c": backup_id(2)}
    assert sorted(b["BackupId"] for b in live) == [backup_id(n) for n in (1, 2, 3, 4, 6)]


def test_tag_value() -> None:
    backup = make_backup(B1, tags={"a": "1", fsx.TOKEN_TAG_KEY: TOKEN})
    assert fsx.tag_value(backup, fsx.TOKEN_TAG_KEY) == TOKEN and fsx.tag_value(backup, "a") == "1"
    assert fsx.tag_value(backup, "b") is None and fsx.tag_value(make_backup(B1), "a") is None


def _with_tags(item: dict[str, Any], config: str, copy: bool, tags: dict[str, str]) -> dict[str, Any]:
    item[config]["CopyTagsToBackups"] = copy
    item["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return item


@pytest.mark.parametrize("fs_type,config", [("LUSTRE", "LustreConfiguration"), ("WINDOWS", "WindowsConfiguration"),
                                            ("OPENZFS", "OpenZFSConfiguration")])
def test_tags_copied_to_backups_are_the_file_systems_when_it_copies_them(
    client: Any, stubber: Stubber, fs_type: str, config: str
) -> None:
    fs = _with_tags(make_file_system(FS_ID, fs_type), config, True, {"b": "2", "a": "1"})
    stubber.add_response("describe_file_systems", {"FileSystems": [fs]}, expected_params={"FileSystemIds": [FS_ID]})
    assert fsx.tags_copied_to_backups(client, file_system_id=FS_ID, volume_id=None) == {"a": "1", "b": "2"}


def test_no_tags_are_copied_when_the_target_does_not_copy_them_or_is_gone(client: Any, stubber: Stubber) -> None:
    fs = _with_tags(make_file_system(FS_ID), "LustreConfiguration", False, {"a": "1"})
    stubber.add_response("describe_file_systems", {"FileSystems": [fs]})
    assert fsx.tags_copied_to_backups(client, file_system_id=FS_ID, volume_id=None) == {}
    client_error(stubber, "describe_file_systems", "FileSystemNotFound")
    assert fsx.tags_copied_to_backups(client, file_system_id=FS_ID, volume_id=None) == {}


def test_a_volumes_copied_tags_are_read_from_the_volume(client: Any, stubber: Stubber) -> None:
    volume = _with_tags(make_volume(VOL_ID), "OntapConfiguration", True, {"app": "db"})
    stubber.add_response("describe_volumes", {"Volumes": [volume]}, expected_params={"VolumeIds": [VOL_ID]})
    assert fsx.tags_copied_to_backups(client, file_system_id=None, volume_id=VOL_ID) == {"app": "db"}


def test_at_most_49_copied_tags_leave_room_for_the_token_tag(client: Any, stubber: Stubber) -> None:
    fs = _with_tags(make_file_system(FS_ID), "LustreConfiguration", True, {f"k{n:02d}": "v" for n in range(50)})
    stubber.add_response("describe_file_systems", {"FileSystems": [fs]})
    copied = fsx.tags_copied_to_backups(client, file_system_id=FS_ID, volume_id=None)
    assert len(copied) == 49 and "k49" not in copied


# -------------------------------------------------------------------------------------------------
# TransientRetry: throttling / 5xx / connection errors retried past botocore's attempts


def _pauses_are_full_jitter(sleeps: list[float], first: float = 0.5, cap: float = 8.0) -> None:
    pause = first
    for slept in sleeps:
        assert pause / 2 <= slept <= pause, (sleeps, pause)
        pause = min(cap, pause * 2)


def test_a_throttling_burst_is_outlasted_with_the_same_token(
    client: Any, stubber: Stubber, transient_retry: fsx.TransientRetry
) -> None:
    transient_retry.budget_seconds = 60
    request = {"FileSystemId": FS_ID, "ClientRequestToken": TOKEN, "Tags": ONLY_THE_TOKEN_TAG}
    for _ in range(4):
        client_error(stubber, "create_backup", "ThrottlingException", "Rate exceeded", expected=request)
    stubber.add_response("create_backup", {"Backup": make_backup(B1)}, expected_params=request)
    assert fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None).backup["BackupId"] == B1
    assert transient_retry.retried == 4
    _pauses_are_full_jitter(transient_retry.clock.sleeps)  # type: ignore[attr-defined]
    assert len(transient_retry.clock.sleeps) == 4  # type: ignore[attr-defined]


def test_pauses_grow_to_the_cap() -> None:
    clock = FakeClock()
    retry = fsx.TransientRetry(budget_seconds=1000, sleep=clock.sleep, clock=clock)
    failures = iter(range(9))

    def flaky() -> str:
        if next(failures, None) is not None:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "x"}}, "DescribeBackups")
        return "ok"

    assert retry.call(flaky) == "ok"
    assert retry.retried == 9
    _pauses_are_full_jitter(clock.sleeps)
    assert max(clock.sleeps) <= 8.0 and clock.sleeps[-1] >= 4.0


def _every_call(client: Any) -> list[tuple[str, Any]]:
    arn = make_backup(B1)["ResourceARN"]
    return [
        ("create_backup", lambda: fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)),
        ("delete_backup", lambda: fsx.delete_backup(client, B1, "fsxd-tok")),
        ("tag_resource", lambda: fsx.tag_backup(client, arn, {"a": "1"})),
        ("untag_resource", lambda: fsx.untag_backup(client, arn, ["a"])),
        ("describe_backups", lambda: fsx.describe_backups(client, [B1])),
        ("describe_backups", lambda: fsx.list_user_backups(client, file_system_id=FS_ID, volume_id=None)),
        ("describe_file_systems", lambda: fsx.describe_file_systems(client, [FS_ID])),
        ("describe_volumes", lambda: fsx.describe_volumes(client, [VOL_ID])),
        ("describe_data_repository_associations", lambda: fsx.count_data_repository_associations(client, [FS_ID])),
        ("copy_backup", lambda: fsx.copy_backup(client, source_backup_id=B1, source_region="us-west-2",
                                                token=TOKEN, kms_key_id=None, copy_tags=True, tags=None)),
    ]


ANSWERS = {
    "create_backup": {"Backup": make_backup(B1)},
    "delete_backup": {"BackupId": B1, "Lifecycle": "DELETED"},
    "tag_resource": {},
    "untag_resource": {},
    "describe_backups": {"Backups": []},
    "describe_file_systems": {"FileSystems": [make_file_system(FS_ID)]},
    "describe_volumes": {"Volumes": [make_volume(VOL_ID)]},
    "describe_data_repository_associations": {"Associations": []},
    "copy_backup": {"Backup": make_backup(B1)},
}


@pytest.mark.parametrize("index", range(10), ids=[
    "create", "delete", "tag", "untag", "describe-by-ids", "list", "file-systems", "volumes", "associations", "copy"])
@pytest.mark.parametrize("code,status", [("ThrottlingException", 400), ("ServiceUnavailable", 503)])
def test_every_call_survives_a_transient_error_within_the_budget(
    client: Any, stubber: Stubber, transient_retry: fsx.TransientRetry, index: int, code: str, status: int
) -> None:
    transient_retry.budget_seconds = 60
    method, call = _every_call(client)[index]
    client_error(stubber, method, code, status=status)
    stubber.add_response(method, ANSWERS[method])
    call()
    assert transient_retry.retried == 1


def test_an_exhausted_budget_raises_the_last_error(
    client: Any, stubber: Stubber, transient_retry: fsx.TransientRetry
) -> None:
    """Budget 2 s, pauses of 0.25-0.5 s then 0.5-1 s: the third failure would need 2 s more. Three
    calls whatever the jitter; the error is the package's, with the last request ID."""
    transient_retry.budget_seconds = 2
    for _ in range(3):
        client_error(stubber, "create_backup", "ThrottlingException", "Rate exceeded")
    with pytest.raises(AwsApiError) as info:
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert info.value.code == "ThrottlingException" and info.value.request_id == REQ_ID
    assert transient_retry.retried == 2
    assert sum(transient_retry.clock.sleeps) <= 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("code,raised", [("AccessDeniedException", AwsApiError), ("BackupInProgress", fsx.BusyError),
                                         ("BadRequest", AwsApiError)])
def test_non_transient_errors_are_raised_at_once(
    client: Any, stubber: Stubber, transient_retry: fsx.TransientRetry, code: str, raised: type
) -> None:
    transient_retry.budget_seconds = 300
    client_error(stubber, "create_backup", code)
    with pytest.raises(raised):
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert transient_retry.retried == 0 and transient_retry.clock.sleeps == []  # type: ignore[attr-defined]


class _DroppedConnectionClient:
    """create_backup loses its connection twice (after botocore's retries), then answers."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def create_backup(self, **request: Any) -> dict[str, Any]:
        self.tokens.append(request["ClientRequestToken"])
        if len(self.tokens) <= 2:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://fsx.us-east-1.amazonaws.com")
        return {"Backup": make_backup(B1)}


def test_connection_errors_are_retried_within_the_budget(transient_retry: fsx.TransientRetry) -> None:
    transient_retry.budget_seconds = 60
    flaky = _DroppedConnectionClient()
    assert fsx.create_backup(flaky, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None).backup["BackupId"] == B1
    assert flaky.tokens == [TOKEN] * 3


def test_polls_are_not_retried(client: Any, stubber: Stubber, transient_retry: fsx.TransientRetry) -> None:
    """A throttled poll is "no news" for this round, not a wait that holds up every other waiter."""
    transient_retry.budget_seconds = 300
    client_error(stubber, "describe_backups", "ThrottlingException", expected={"BackupIds": [B1]})
    with pytest.raises(botocore.exceptions.ClientError):
        fsx.describe_backups(client, [B1], retry=False)
    assert transient_retry.retried == 0


def test_a_storm_longer_than_botocores_attempts_is_outlasted(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, transient_retry: fsx.TransientRetry
) -> None:
    """Real retry machinery: botocore gives up after its 10 attempts; the token makes the 11th safe."""
    transient_retry.budget_seconds = 60
    client, _ = _retrying_client(monkeypatch)
    bodies = _http_answers(client, [(500, {"__type": "InternalServerError", "Message": "oops"})] * 10
                           + [(200, {"Backup": _wire_backup("CREATING")})])
    assert fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None).backup["BackupId"] == B1
    assert len(bodies) == 11 and {b["ClientRequestToken"] for b in bodies} == {TOKEN}
    assert transient_retry.retried == 1


# -------------------------------------------------------------------------------------------------
# errors worth another poll


def _describe(stub: Stubber, backup: dict[str, Any]) -> None:
    stub.add_response("describe_backups", {"Backups": [backup]}, expected_params={"BackupIds": [backup["BackupId"]]})


def test_connection_errors_are_transient() -> None:
    err = botocore.exceptions.EndpointConnectionError(endpoint_url="https://x")
    assert fsx.is_transient(err)
    assert fsx.is_transient(botocore.exceptions.ReadTimeoutError(endpoint_url="https://x"))
    assert not fsx.is_transient(ValueError("x"))


# -------------------------------------------------------------------------------------------------
# every request matches the service model (names, lengths, enums, patterns)


def _model_violations(shape: Any, value: Any, path: str) -> list[str]:
    problems: list[str] = []
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: not a structure"]
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required member missing")
        for name, member in value.items():
            if name not in shape.members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
            else:
                problems += _model_violations(shape.members[name], member, f"{path}.{name}")
    elif kind == "list":
        problems += _length(shape, len(value), path)
        for i, item in enumerate(value):
            problems += _model_violations(shape.member, item, f"{path}[{i}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {value!r} is not a string"]
        problems += _length(shape, len(value), path)
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum {shape.enum}")
        pattern = shape.metadata.get("pattern")
        if pattern and "\\p" not in pattern and not re.search(pattern, value):
            problems.append(f"{path}: {value!r} does not match {pattern}")
    elif kind == "integer":
        problems += [f"{path}: {value} out of range"] if not (
            shape.metadata.get("min", value) <= value <= shape.metadata.get("max", value)) else []
    return problems


def _length(shape: Any, size: int, path: str) -> list[str]:
    lo, hi = shape.metadata.get("min", 0), shape.metadata.get("max", size)
    return [] if lo <= size <= hi else [f"{path}: length {size} outside {lo}..{hi}"]


def test_every_request_fsx_sends_fits_the_service_model(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        sent.append((model.name, copy.deepcopy(params)))

    client.meta.events.register("provide-client-params.fsx", record)
    arn = make_backup(B1)["ResourceARN"]
    token = "fsxb-" + "a" * 40
    ids = [backup_id(n) for n in range(55)]
    fs_ids = [f"fs-{n:017x}" for n in range(25)]
    tags = {"Name": "nightly", "team": "storage/ops", "k" * 128: "v" * 256}

    stubber.add_response("create_backup", {"Backup": make_backup(B1)})
    client_error(stubber, "create_backup", "IncompatibleParameterError", modeled={"Parameter": "Tags"})
    stubber.add_response("describe_backups", {"Backups": []})
    stubber.add_response("create_backup", {"Backup": make_backup(B1)})
    stubber.add_response("create_backup", {"Backup": make_backup(B1, volume_id=VOL_ID)})
    stubber.add_response("delete_backup", {"BackupId": B1, "Lifecycle": "DELETED"})
    stubber.add_response("tag_resource", {})
    stubber.add_response("untag_resource", {})
    stubber.add_response("describe_backups", {"Backups": []})
    stubber.add_response("describe_backups", {"Backups": []})
    stubber.add_response("describe_file_systems", {"FileSystems": []})
    stubber.add_response("describe_volumes", {"Volumes": []})
    stubber.add_response("describe_data_repository_associations", {"Associations": [], "NextToken": "dG9rZW4="})
    stubber.add_response("describe_data_repository_associations", {"Associations": []})
    stubber.add_response("describe_data_repository_associations", {"Associations": []})
    _describe(stubber, make_backup(B1, "AVAILABLE"))

    fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=token, tags=tags)
    fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=token, tags=tags)
    fsx.create_backup(client, file_system_id=None, volume_id=VOL_ID, token=token, tags=None)
    fsx.delete_backup(client, B1, "fsxd-" + "b" * 40)
    fsx.tag_backup(client, arn, tags)
    fsx.untag_backup(client, arn, tags)
    fsx.describe_backups(client, ids)
    fsx.describe_file_systems(client, [FS_ID])
    fsx.describe_volumes(client, [VOL_ID])
    fsx.count_data_repository_associations(client, fs_ids)
    fsx.describe_backups(client, [B1])

    model = client.meta.service_model
    assert {name for name, _ in sent} == {
        "CreateBackup", "DescribeBackups", "DeleteBackup", "TagResource", "UntagResource",
        "DescribeFileSystems", "DescribeVolumes", "DescribeDataRepositoryAssociations",
    }
    problems: list[str] = []
    for name, params in sent:
        shape = model.operation_model(name).input_shape
        assert set(params) <= set(shape.members), f"{name}: {set(params) - set(shape.members)}"
        problems += _model_violations(shape, params, name)
    assert problems == []


# -------------------------------------------------------------------------------------------------
# clients and botocore's retries (RETRY_CONFIG) on fake HTTP responses


def test_client_for_is_cached_per_region_and_uses_the_retry_config(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsx, "_CLIENTS", {})
    east = fsx.client_for("us-east-1")
    assert fsx.client_for("us-east-1") is east
    west = fsx.client_for("eu-west-1")
    assert west is not east and fsx.client_region(west) == "eu-west-1"
    assert east.meta.config.retries["mode"] == "standard"
    # `total_max_attempts` counts the first attempt: 10 attempts in all.
    assert east.meta.config.retries["total_max_attempts"] == 10
    assert "fsx-backup-component" in east.meta.config.user_agent_extra
    # A stack's creates call at once: past the pool, botocore opens (and drops) a connection per call.
    assert east.meta.config.max_pool_connections == fsx.MAX_POOL_CONNECTIONS >= 128


def test_client_for_honours_the_fsx_endpoint_variable(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsx, "_CLIENTS", {})
    monkeypatch.setenv("AWS_ENDPOINT_URL_FSX", "http://127.0.0.1:4599")
    assert fsx.client_for("us-east-1").meta.endpoint_url == "http://127.0.0.1:4599"


def test_known_regions_are_local_data(aws_env: None) -> None:
    regions = fsx.known_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= regions
    assert "us-east-1a" not in regions


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _http_answers(client: Any, answers: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Serve HTTP answers in order from `before-send`; returns the request bodies seen."""
    bodies: list[dict[str, Any]] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        bodies.append(json.loads(request.body))
        status, body = answers[min(len(bodies) - 1, len(answers) - 1)]
        headers = {"x-amzn-RequestId": f"req-{len(bodies)}", "Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))

    client.meta.events.register("before-send.fsx", send)
    return bodies


def _retrying_client(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[float]]:
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return boto3.client("fsx", region_name="us-east-1", config=fsx.RETRY_CONFIG), slept


def _wire_backup(lifecycle: str) -> dict[str, Any]:
    return {"BackupId": B1, "Lifecycle": lifecycle, "Type": "USER_INITIATED", "CreationTime": 1.7e9,
            "FileSystem": {"FileSystemId": FS_ID}}


def test_internal_server_errors_are_retried_by_botocore_with_the_same_token(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, slept = _retrying_client(monkeypatch)
    bodies = _http_answers(client, [(500, {"__type": "InternalServerError", "Message": "oops"})] * 3
                           + [(200, {"Backup": _wire_backup("CREATING")})])
    outcome = fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert outcome.backup["BackupId"] == B1
    assert len(bodies) == 4 and len(slept) == 3
    assert {b["ClientRequestToken"] for b in bodies} == {TOKEN}


def test_internal_server_error_after_all_retries_is_an_api_error_with_the_request_id(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = _retrying_client(monkeypatch)
    bodies = _http_answers(client, [(500, {"__type": "InternalServerError", "Message": "oops"})])
    with pytest.raises(AwsApiError) as info:
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert len(bodies) == 10  # RETRY_CONFIG: 10 attempts in all
    assert info.value.code == "InternalServerError" and info.value.request_id == "req-10"
    assert "(AWS request ID: req-10)" in str(info.value)


def test_throttling_is_retried_but_backup_in_progress_is_not(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = _retrying_client(monkeypatch)
    bodies = _http_answers(client, [(400, {"__type": "ThrottlingException", "Message": "slow down"}),
                                    (400, {"__type": "BackupInProgress", "Message": "busy"})])
    with pytest.raises(fsx.BusyError):
        fsx.create_backup(client, file_system_id=FS_ID, volume_id=None, token=TOKEN, tags=None)
    assert len(bodies) == 2


def test_error_helpers_read_the_botocore_error_shape() -> None:
    exc = botocore.exceptions.ClientError(
        {"Error": {"Code": "BackupNotFound", "Message": "m"}, "ResponseMetadata": {"RequestId": "r"}}, "DescribeBackups")
    assert (fsx.error_code(exc), fsx.error_message(exc), fsx.request_id(exc)) == ("BackupNotFound", "m", "r")
    translated = fsx.as_package_error(exc, B1)
    assert isinstance(translated, AwsApiError) and translated.operation == "DescribeBackups"
    own = BackupDeletedError(B1)
    assert fsx.as_package_error(own, B1) is own
    assert fsx.failure_reason(make_backup(B1, "FAILED")) == ""



def test_known_regions_are_loaded_once_by_concurrent_first_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    """32 checks arrive together at preview; each loading botocore's endpoint data took the Checks of
    a 32-backup stack from 0.4 s to 7 s."""
    import threading

    loads: list[str] = []
    real = boto3.session.Session.get_available_regions

    def counting(self: Any, service: str, partition_name: str = "aws", **kw: Any) -> list[str]:
        loads.append(partition_name)
        return list(real(self, service, partition_name=partition_name, **kw))

    monkeypatch.setattr(fsx, "_KNOWN_REGIONS", None)
    monkeypatch.setattr(boto3.session.Session, "get_available_regions", counting)
    start = threading.Barrier(16)
    results: list[frozenset[str]] = []

    def first_call() -> None:
        start.wait()
        results.append(fsx.known_regions())

    threads = [threading.Thread(target=first_call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    partitions = boto3.session.Session().get_available_partitions()
    assert len(results) == 16 and all(r == results[0] for r in results) and "us-east-1" in results[0]
    assert sorted(loads) == sorted(partitions), "endpoint data was loaded more than once"
