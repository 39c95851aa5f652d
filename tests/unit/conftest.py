"""Fixtures of the unit tests: a real FSx client (dummy credentials, no network) under Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from unit_helpers import FakeClock

from fsx_backup_component import fsx, runtime


@pytest.fixture(autouse=True)
def transient_retry(monkeypatch: pytest.MonkeyPatch) -> fsx.TransientRetry:
    """A fresh ``fsx.TRANSIENT_RETRY`` per test with no app-level budget and fake time: an error path
    sees exactly the one call its test queued. Tests of the retry itself raise ``budget_seconds``;
    its pauses land in ``retry.clock.sleeps`` (a FakeClock: time jumps, nothing sleeps)."""
    retry_clock = FakeClock()
    retry = fsx.TransientRetry(budget_seconds=0, sleep=retry_clock.sleep, clock=retry_clock)
    monkeypatch.setattr(fsx, "TRANSIENT_RETRY", retry)
    return retry


@pytest.fixture(autouse=True)
def fresh_client_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with empty per-client caches and leaves nothing behind in them.

    They are keyed by ``id(client)``: ``fsx._POLL_CLIENTS`` (a client_for client -> its polling
    sibling) and the shared runtime's watchers and look-ups. A client made by ``fsx.client_for`` in one
    test is freed after it, but its ID stayed in ``_POLL_CLIENTS``; a later test's Stubber client that
    got the same address then polled through that stale real client (AWS, or a dead endpoint) instead
    of its Stubber, so waits saw no progress and ran to their deadline: a progress assertion that
    failed or passed depending on test order (and on the allocator)."""
    monkeypatch.setattr(fsx, "_CLIENTS", {})
    monkeypatch.setattr(fsx, "_POLL_CLIENTS", {})
    monkeypatch.setattr(fsx, "_SESSIONS", {})
    monkeypatch.setattr(runtime, "SHARED", runtime.Runtime())


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and region; no profile or endpoint from the machine can leak in."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_FSX",
        "AWS_SESSION_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTESTUNITTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-test-secret-key-not-real")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def client(aws_env: None) -> Any:
    return boto3.client("fsx", region_name="us-east-1")


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    """Activated Stubber; every test must consume exactly the responses it queued."""
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
