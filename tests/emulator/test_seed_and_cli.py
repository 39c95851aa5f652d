"""Seed files (JSON, YAML when PyYAML is importable) and the command-line entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import boto3
import pytest
from fsx_emu_helpers import all_ids

from fsx_backup_component.testing import FsxEmulator, ManualClock

EXAMPLE = resources.files("fsx_backup_component.testing") / "example-seed.json"


def _client(emu: FsxEmulator, region: str = "us-east-1") -> Any:
    return boto3.client("fsx", region_name=region, endpoint_url=emu.endpoint_url,
                        aws_access_key_id="x", aws_secret_access_key="y")


def test_example_seed_file_behaves_as_documented() -> None:
    clock = ManualClock()
    with FsxEmulator(clock=clock, seed=str(EXAMPLE)) as emu:
        client = _client(emu)
        assert emu.backup_seconds == 5.0
        ids = all_ids(client.describe_file_systems, "FileSystems", "FileSystemId")
        assert sorted(ids) == [f"fs-0123456789abcdef{i}" for i in range(5)]
        assert all_ids(_client(emu, "eu-west-1").describe_file_systems, "FileSystems", "FileSystemId") == [
            "fs-0123456789abcdef5"
        ]
        backup = client.create_backup(FileSystemId="fs-0123456789abcdef0")["Backup"]
        assert {t["Key"] for t in backup["Tags"]} == {"Name", "team"}  # copy_tags_to_backups
        codes = []
        for params in ({"FileSystemId": "fs-0123456789abcdef1"}, {"FileSystemId": "fs-0123456789abcdef2"},
                       {"VolumeId": "fsvol-0123456789abcdef1"}):
            try:
                client.create_backup(**params)
            except client.exceptions.UnsupportedOperation as err:
                codes.append(err.response["Error"]["Code"])
        assert codes == ["UnsupportedOperation"] * 3
        assert client.create_backup(VolumeId="fsvol-0123456789abcdef0")["Backup"]["Tags"] == [
            {"Key": "Name", "Value": "vol1"}
        ]
        assert emu.seeded_ids["associations"] == ["dra-0123456789abcdef0"]


def test_seed_as_dict_with_per_file_system_duration() -> None:
    seed = {"backup_seconds": 1, "file_systems": [
        {"type": "WINDOWS", "id": "fs-00000000000000001", "backup_seconds": 50, "lifecycle": "AVAILABLE"},
    ]}
    clock = ManualClock()
    with FsxEmulator(clock=clock, seed=seed) as emu:
        client = _client(emu)
        backup_id = client.create_backup(FileSystemId="fs-00000000000000001")["Backup"]["BackupId"]
        clock.advance(10)
        assert client.describe_backups(BackupIds=[backup_id])["Backups"][0]["Lifecycle"] == "CREATING"


def test_yaml_seed_when_pyyaml_is_available(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    seed = tmp_path / "seed.yaml"
    seed.write_text("file_systems:\n  - type: OPENZFS\n    id: fs-0000000000000000a\n", encoding="utf-8")
    with FsxEmulator(seed=seed) as emu:
        fs = _client(emu).describe_file_systems()["FileSystems"][0]
        assert (fs["FileSystemId"], fs["FileSystemType"]) == ("fs-0000000000000000a", "OPENZFS")


def test_seed_rejects_unknown_options() -> None:
    with pytest.raises(TypeError):
        FsxEmulator(seed={"file_systems": [{"type": "LUSTRE", "colour": "blue"}]})


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"file_systems": [{"type": "LUSTRE", "id": "fs-0123456789abcdef9"}]}))
    process = subprocess.Popen(
        [sys.executable, "-m", "fsx_backup_component.testing", "--port", "0", "--seed", str(seed),
         "--backup-seconds", "0"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("FSx emulator listening on http://127.0.0.1:")
        endpoint = first.rsplit(" ", 1)[1]
        assert process.stdout.readline().strip() == f"export AWS_ENDPOINT_URL_FSX={endpoint}"
        assert "fs-0123456789abcdef9" in process.stdout.readline()
        client = boto3.client("fsx", region_name="us-east-1", endpoint_url=endpoint,
                              aws_access_key_id="x", aws_secret_access_key="y")
        backup = client.create_backup(FileSystemId="fs-0123456789abcdef9")["Backup"]
        assert backup["Lifecycle"] == "CREATING"  # the first answer, always
        described = client.describe_backups(BackupIds=[backup["BackupId"]])["Backups"][0]
        assert described["Lifecycle"] == "AVAILABLE"  # --backup-seconds 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_seed_settings_for_pages_tokens_and_order() -> None:
    emu = FsxEmulator(seed={"page_size": 10, "token_window_seconds": None, "order_seed": 5})
    assert (emu.page_size, emu.token_window_seconds, emu.order_seed) == (10, None, 5)
    default = FsxEmulator()
    assert (default.page_size, default.token_window_seconds, default.order_seed) == (3, 300.0, 0)


def test_cli_options_for_pages_tokens_and_order() -> None:
    from fsx_backup_component.testing.__main__ import _configure, build_parser

    emu = _configure(build_parser().parse_args(
        ["--page-size", "0", "--token-window-seconds", "-1", "--order-seed", "7"]
    ))
    assert (emu.page_size, emu.token_window_seconds, emu.order_seed) == (None, None, 7)
    emu = _configure(build_parser().parse_args(["--page-size", "20", "--token-window-seconds", "60"]))
    assert (emu.page_size, emu.token_window_seconds) == (20, 60.0)
