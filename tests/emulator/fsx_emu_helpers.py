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
    return str(describe_backup(client, backup_id)["Lifecycle"])


def describe_backup(client: Any, backup_id: str) -> dict[str, Any]:
    """The one backup named (a look-up of one ID fits on a page of any size)."""
    backups = client.describe_backups(BackupIds=[backup_id])["Backups"]
    assert len(backups) == 1
    return dict(backups[0])


def all_pages(call: Any, result_key: str, **params: Any) -> list[Any]:
    """Every item of a paged call, following NextToken to the end by hand (the emulator answers
    every Describe* in short pages, ID look-ups included)."""
    items: list[Any] = []
    while True:
        page = call(**params)
        items.extend(page[result_key])
        if "NextToken" not in page:
            return items
        params = {**params, "NextToken": page["NextToken"]}


def all_ids(call: Any, result_key: str, id_key: str, **params: Any) -> list[str]:
    """The IDs of every item of a paged call (in the order the pages gave them)."""
    return [str(item[id_key]) for item in all_pages(call, result_key, **params)]
