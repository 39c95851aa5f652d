"""pytest fixtures for the FSx emulator. Opt in from a conftest.py with::

    pytest_plugins = ["fsx_backup_component.testing.pytest_plugin"]

(deliberately not registered as a ``pytest11`` entry point, so installing the package changes no
one's test run). Override ``fsx_emulator_options`` to pass FsxEmulator arguments, e.g. a ManualClock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from .emulator import FsxEmulator

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def fsx_emulator_options() -> dict[str, Any]:
    """Keyword arguments for FsxEmulator; override this fixture to change them."""
    return {}


@pytest.fixture
def fsx_emulator(fsx_emulator_options: dict[str, Any]) -> Iterator[FsxEmulator]:
    """An emulator on a free loopback port, stopped after the test."""
    with FsxEmulator(**{"port": 0, **fsx_emulator_options}) as emulator:
        yield emulator


@pytest.fixture
def fsx_client(fsx_emulator: FsxEmulator) -> Any:
    """A plain boto3 FSx client for us-east-1 pointed at the emulator (dummy credentials)."""
    return boto3.client(
        "fsx", region_name="us-east-1", endpoint_url=fsx_emulator.endpoint_url, **DUMMY_CREDENTIALS
    )


@pytest.fixture
def fsx_endpoint_env(fsx_emulator: FsxEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every boto3 FSx client created during the test at the emulator through the environment
    (AWS_ENDPOINT_URL_FSX, dummy credentials, us-east-1); returns the endpoint URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_FSX", fsx_emulator.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    return fsx_emulator.endpoint_url
