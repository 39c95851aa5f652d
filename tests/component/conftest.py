"""Fixtures of the component tests (helpers live in component_helpers.py: conftest names clash)."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest
from component_helpers import FakeCloud, RecordingMonitor


@pytest.fixture(params=[False], ids=["up"])
def monitor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingMonitor]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACOMPONENTTEST000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "component-test-secret")
    mon = RecordingMonitor(FakeCloud())
    pulumi.runtime.set_mocks(FakeCloud(), project="proj", stack="dev", preview=request.param, monitor=mon)
    yield mon
