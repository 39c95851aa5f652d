"""The opt-in pytest plugin's fixtures work as documented."""

from __future__ import annotations

from typing import Any

import boto3

from fsx_backup_component.testing import FsxEmulator


def test_fsx_client_fixture_talks_to_the_fsx_emulator_fixture(
    fsx_emulator: FsxEmulator, fsx_client: Any
) -> None:
    fs_id = fsx_emulator.add_file_system("WINDOWS")
    assert fsx_client.meta.region_name == "us-east-1"
    assert fsx_client.meta.endpoint_url == fsx_emulator.endpoint_url
    ids = [fs["FileSystemId"] for fs in fsx_client.describe_file_systems()["FileSystems"]]
    assert ids == [fs_id]
    assert fsx_emulator.calls["DescribeFileSystems"] == 1


def test_fsx_endpoint_env_points_plain_clients_at_the_emulator(
    fsx_emulator: FsxEmulator, fsx_endpoint_env: str
) -> None:
    client = boto3.client("fsx")  # no endpoint, no credentials, no region: all from the env
    assert client.meta.endpoint_url == fsx_endpoint_env
    assert client.describe_backups()["Backups"] == []
    assert fsx_emulator.call_log[-1][1:3] == ("us-east-1", "DescribeBackups")
