"""awsJson1_1 wire behaviour seen by an unmodified boto3 client and by raw HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import error_of

from fsx_backup_component.testing import FsxEmulator

TARGET = "AWSSimbaAPIService_v20180301."


def _post(emu: FsxEmulator, target: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
    request = urllib.request.Request(
        emu.endpoint_url + "/",
        data=body,
        method="POST",
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_raw_success_has_json11_content_type_and_request_id(emu: FsxEmulator) -> None:
    status, headers, body = _post(emu, TARGET + "DescribeBackups", b"{}")
    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert len(headers["x-amzn-RequestId"]) == 36
    assert body == {"Backups": []}


def test_raw_error_body_has_type_message_and_modeled_members(emu: FsxEmulator) -> None:
    status, headers, body = _post(emu, TARGET + "DeleteBackup", b'{"BackupId": "backup-0123456789abcdef0"}')
    assert status == 400
    assert body == {"__type": "BackupNotFound", "Message": "Backup 'backup-0123456789abcdef0' does not exist."}
    assert headers["x-amzn-RequestId"]


def test_unknown_operation(emu: FsxEmulator) -> None:
    status, _, body = _post(emu, TARGET + "LaunchRockets", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, _, body = _post(emu, "SomethingElse.DescribeBackups", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_malformed_json_is_a_serialization_error(emu: FsxEmulator) -> None:
    status, _, body = _post(emu, TARGET + "DescribeBackups", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_boto3_parses_error_code_message_and_status(emu: FsxEmulator, client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.describe_file_systems(FileSystemIds=["fs-0123456789abcdef0"])
    error = error_of(excinfo)
    assert error["Code"] == "FileSystemNotFound"
    assert error["HTTPStatusCode"] == 400
    assert "fs-0123456789abcdef0" in error["Message"]
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]


def test_region_comes_from_the_sigv4_credential_scope(emu: FsxEmulator, make_client: Any) -> None:
    east = emu.add_file_system("WINDOWS", region="us-east-1")
    west = emu.add_file_system("WINDOWS", region="eu-west-1")
    east_ids = [f["FileSystemId"] for f in make_client("us-east-1").describe_file_systems()["FileSystems"]]
    west_fs = make_client("eu-west-1").describe_file_systems()["FileSystems"]
    assert east_ids == [east]
    assert [f["FileSystemId"] for f in west_fs] == [west]
    assert west_fs[0]["ResourceARN"] == f"arn:aws:fsx:eu-west-1:123456789012:file-system/{west}"
    assert [entry[1] for entry in emu.call_log] == ["us-east-1", "eu-west-1"]


def test_aws_endpoint_url_fsx_env_reaches_the_emulator(
    emu: FsxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_FSX", emu.endpoint_url)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    client = boto3.client("fsx", region_name="ap-southeast-2", aws_access_key_id="x", aws_secret_access_key="y")
    assert client.describe_backups()["Backups"] == []
    assert emu.calls["DescribeBackups"] == 1
    assert emu.call_log[0][1] == "ap-southeast-2"


def test_calls_counter_and_call_log_record_every_request(emu: FsxEmulator, client: Any, clock: Any) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    client.create_backup(FileSystemId=fs_id)
    client.describe_backups()
    with pytest.raises(ClientError):
        client.describe_backups(BackupIds=["backup-0123456789abcdef0"])
    assert emu.calls == {"CreateBackup": 1, "DescribeBackups": 2}
    timestamp, region, operation, params = emu.call_log[0]
    assert (timestamp, region, operation) == (clock(), "us-east-1", "CreateBackup")
    assert params["FileSystemId"] == fs_id and params["ClientRequestToken"]  # botocore filled it
    emu.reset_counters()
    assert not emu.calls and emu.call_log == []


def test_stop_closes_the_port(clock: Any) -> None:
    emulator = FsxEmulator(clock=clock).start()
    url = emulator.endpoint_url
    emulator.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, data=b"{}", timeout=2)
    with pytest.raises(RuntimeError):
        _ = emulator.endpoint_url
