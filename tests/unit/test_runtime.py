"""runtime.py: the shared watcher as it is wired in production (fsx.describe_backups through the
polling client, fsx.is_transient, fsx.as_package_error), on a fake clock over Stubber."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from unit_helpers import FakeClock, backup_id, make_backup

from fsx_backup_component import fsx
from fsx_backup_component.errors import AwsApiError, BackupDeletedError, BackupTimeoutError
from fsx_backup_component.runtime import Runtime

B1 = backup_id(1)
REQ_ID = "11111111-2222-3333-4444-555555555555"


def _describe(stub: Stubber, backup: dict[str, Any]) -> None:
    stub.add_response("describe_backups", {"Backups": [backup]}, expected_params={"BackupIds": [backup["BackupId"]]})


def _error(stub: Stubber, code: str, message: str = "", *, status: int = 400) -> None:
    stub.add_client_error("describe_backups", service_error_code=code, service_message=message or f"{code} message",
                          http_status_code=status, response_meta={"RequestId": REQ_ID})


def _wait(client: Any, clock: FakeClock, seconds: float, **kw: Any) -> dict[str, Any]:
    runtime = Runtime(clock=clock, sleep=clock.sleep, wait=clock.condition_wait)
    return runtime.watcher(client).wait(B1, deadline=clock() + seconds, **kw)


def test_wait_returns_the_available_backup_and_reports_progress(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    for percent in (0, 40):
        _describe(stubber, make_backup(B1, "CREATING", percent=percent))
    _describe(stubber, make_backup(B1, "AVAILABLE", percent=100))
    seen: list[tuple[str, Any]] = []
    backup = _wait(client, clock, 600, on_progress=lambda b: seen.append((b["Lifecycle"], b.get("ProgressPercent"))))
    assert backup["Lifecycle"] == "AVAILABLE"
    assert seen == [("CREATING", 0), ("CREATING", 40), ("AVAILABLE", 100)]
    assert clock.sleeps == [0.5, 0.5, 0.5]  # first poll after 0.5 s, then every 0.5 s while young


def test_wait_returns_a_failed_backup_with_aws_message(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    """FAILED ends the wait; deleting it and reporting AWS's reason is backups.py's (test_backups.py)."""
    _describe(stubber, make_backup(B1, "FAILED", failure="The file system ran out of SSD capacity."))
    backup = _wait(client, clock, 600)
    assert backup["Lifecycle"] == "FAILED"
    assert fsx.failure_reason(backup) == "The file system ran out of SSD capacity."


@pytest.mark.parametrize("how", ["BackupNotFound", "DELETED"])
def test_wait_raises_deleted_when_the_backup_vanishes(client: Any, stubber: Stubber, clock: FakeClock, how: str) -> None:
    _describe(stubber, make_backup(B1, "CREATING"))
    if how == "DELETED":
        _describe(stubber, make_backup(B1, "DELETED"))
    else:
        _error(stubber, "BackupNotFound")
    with pytest.raises(BackupDeletedError, match=f"{B1} was deleted outside Pulumi"):
        _wait(client, clock, 600)


def test_wait_deadline_names_the_backup_and_its_last_lifecycle(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    _describe(stubber, make_backup(B1, "TRANSFERRING"))
    with pytest.raises(BackupTimeoutError) as info:
        _wait(client, clock, 1.0)
    assert (info.value.backup_id, info.value.lifecycle) == (B1, "TRANSFERRING")
    assert f"FSx backup {B1} was still TRANSFERRING after 1s" in str(info.value)
    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_wait_never_sleeps_past_the_deadline(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    with pytest.raises(BackupTimeoutError):
        _wait(client, clock, 0.2)
    assert clock.sleeps == [pytest.approx(0.2)]


def test_wait_keeps_polling_through_transient_errors(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    _error(stubber, "ThrottlingException")
    _error(stubber, "InternalServerError", status=500)
    _describe(stubber, make_backup(B1, "AVAILABLE"))
    assert _wait(client, clock, 60)["Lifecycle"] == "AVAILABLE"


def test_wait_raises_fatal_errors_as_api_errors(client: Any, stubber: Stubber, clock: FakeClock) -> None:
    _error(stubber, "AccessDeniedException", "not allowed")
    with pytest.raises(AwsApiError) as info:
        _wait(client, clock, 60)
    assert info.value.request_id == REQ_ID
    assert str(info.value).startswith(f"DescribeBackups for {B1} failed: AccessDeniedException: not allowed")


class _FlakyConnectionClient:
    """describe_backups fails once with a connection error (after botocore's retries), then answers."""

    def __init__(self) -> None:
        self.calls = 0

    def can_paginate(self, _operation: str) -> bool:
        return False  # pages are followed by hand: one call per page

    def describe_backups(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://fsx.us-east-1.amazonaws.com")
        return {"Backups": [make_backup(B1, "AVAILABLE")]}


def test_wait_keeps_polling_through_connection_errors(clock: FakeClock) -> None:
    flaky = _FlakyConnectionClient()
    assert _wait(flaky, clock, 60)["Lifecycle"] == "AVAILABLE" and flaky.calls == 2


def test_the_shared_watcher_polls_without_the_transient_retry(
    client: Any, stubber: Stubber, clock: FakeClock, transient_retry: fsx.TransientRetry
) -> None:
    transient_retry.budget_seconds = 300
    _error(stubber, "ThrottlingException")
    _describe(stubber, make_backup(B1, "AVAILABLE"))
    assert _wait(client, clock, 60)["Lifecycle"] == "AVAILABLE"
    assert transient_retry.retried == 0 and transient_retry.clock.sleeps == []  # type: ignore[attr-defined]


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_a_throttled_poll_round_costs_at_most_two_requests_then_it_is_no_news(
    aws_env: None, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared watcher polls through fsx.polling_client(client): at most two HTTP attempts per
    round, then the round is "no news" and the next one comes at the poll interval. With the full
    RETRY_CONFIG (ten attempts) one throttled poll would hold every waiting create for botocore's
    whole backoff. Real clients from client_for, answered over HTTP by a ``before-send`` hook."""
    monkeypatch.setattr(fsx, "_CLIENTS", {})
    monkeypatch.setattr(fsx, "_POLL_CLIENTS", {})
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _seconds: None)
    client = fsx.client_for("us-east-1")
    poller = fsx.polling_client(client)
    assert poller is not client
    sent: list[str] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        sent.append(json.loads(request.body)["BackupIds"][0])
        status, body = (400, {"__type": "ThrottlingException", "Message": "Rate exceeded"}) if len(sent) < 9 else (
            200, {"Backups": [{"BackupId": B1, "Lifecycle": "AVAILABLE", "Type": "USER_INITIATED",
                               "CreationTime": 1.7e9, "FileSystem": {"FileSystemId": "fs-0123456789abcdef0"}}]})
        headers = {"x-amzn-RequestId": f"req-{len(sent)}", "Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))

    poller.meta.events.register("before-send.fsx", send)
    runtime = Runtime(clock=clock, sleep=clock.sleep, wait=clock.condition_wait)
    watcher = runtime.watcher(client)

    assert watcher.wait(B1, deadline=clock() + 600)["Lifecycle"] == "AVAILABLE"

    # Eight throttled attempts, two per round, then the ninth answers: five rounds, 0.5 s apart.
    assert sent == [B1] * 9
    assert watcher.rounds == 5 and clock.sleeps == [0.5] * 5


def test_one_watcher_and_one_lookups_per_client(client: Any) -> None:
    runtime = Runtime()
    assert runtime.watcher(client) is runtime.watcher(client)
    assert runtime.lookups(client) is runtime.lookups(client)
    assert runtime.watcher(object()) is not runtime.watcher(client)


def test_a_client_never_inherits_another_clients_poller_or_look_ups(client: Any) -> None:
    """Caches are keyed by id(client), which a freed client's successor can reuse: the entry keeps
    the client and is used only for that very object."""
    other = object()
    fsx._POLL_CLIENTS[id(client)] = (other, "the poller of a freed client")
    assert fsx.polling_client(client) is client
    shared = Runtime()
    stale_watcher, stale_lookups = shared.watcher(other), shared.lookups(other)
    shared._watchers[id(client)] = shared._watchers.pop(id(other))
    shared._lookups[id(client)] = shared._lookups.pop(id(other))
    assert shared.watcher(client) is not stale_watcher and shared.lookups(client) is not stale_lookups
    assert shared.watcher(client) is shared.watcher(client)  # and its own is kept
