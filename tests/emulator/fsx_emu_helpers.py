"""Helpers shared by the emulator tests (a uniquely named module: tests/ dirs are not packages)."""

from __future__ import annotations

from typing import Any

import pytest

BACKUP_SECONDS = 10.0  # the `emu` fixture's backup duration
COPY_SECONDS = 20.0  # ... and its CopyBackup duration


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    """The parsed error of a ClientError: Code, Message, the modeled members botocore puts at the
    top level of the response (Parameter, Limit, BackupId...) and the HTTP status."""
    response = excinfo.value.response
    members = {k: v for k, v in response.items() if k not in ("Error", "ResponseMetadata")}
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return {**members, **response["Error"], "HTTPStatusCode": status}


def lifecycle(client: Any, backup_id: str) -> str:
    return str(client.describe_backups(BackupIds=[backup_id])["Backups"][0]["Lifecycle"])
