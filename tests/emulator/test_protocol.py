"""awsJson1_1 wire behaviour seen by an unmodified boto3 client and by raw HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from fsx_emu_helpers import all_ids, error_of

from fsx_backup_component.testing import FsxEmulator

TARGET = "AWSSimbaAPIService_v20180301."
# A SigV4-shaped header (the emulator checks its form and reads its scope; it verifies no signature).
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDRAW/20250101/us-east-1/fsx/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123abcd",
    "X-Amz-Date": "20250101T000000Z",
}


def _post_raw(
    emu: FsxEmulator, target: str | None, body: bytes, headers: dict[str, str] | None = None,
    signed: bool = True, method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    base = {"Content-Type": "application/x-amz-json-1.1", **(SIGNED if signed else {})}
    if target is not None:
        base["X-Amz-Target"] = target
    request = urllib.request.Request(
        emu.endpoint_url + "/", data=body if method == "POST" else None, method=method,
        headers={k: v for k, v in {**base, **(headers or {})}.items() if v is not None},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _post(
    emu: FsxEmulator, target: str, body: bytes, headers: dict[str, str] | None = None, signed: bool = True
) -> tuple[int, dict[str, str], dict[str, Any]]:
    status, response_headers, data = _post_raw(emu, target, body, headers, signed)
    return status, response_headers, json.loads(data)


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
    east_ids = all_ids(make_client("us-east-1").describe_file_systems, "FileSystems", "FileSystemId")
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
    assert emu.access_keys == ["testing"] * 3
    emu.reset_counters()
    assert not emu.calls and emu.call_log == [] and emu.requests == [] and emu.access_keys == []


def test_stop_closes_the_port(clock: Any) -> None:
    emulator = FsxEmulator(clock=clock).start()
    url = emulator.endpoint_url
    emulator.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, data=b"{}", timeout=2)
    with pytest.raises(RuntimeError):
        _ = emulator.endpoint_url


# --- refused the way AWS's JSON front end refuses (docs/emulator.md, "Protocol") ---------------------


def test_unsigned_request_is_missing_authentication_token(emu: FsxEmulator) -> None:
    emu.add_file_system("WINDOWS")
    status, _, body = _post(emu, TARGET + "DescribeFileSystems", b"{}", signed=False)
    assert (status, body) == (400, {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    record = emu.requests[-1]
    assert (record.operation, record.access_key, record.refused) == (
        "DescribeFileSystems", None, "MissingAuthenticationTokenException",
    )
    # the operation is resolved first: an unknown one is an unknown operation, signed or not
    status, _, body = _post(emu, TARGET + "LaunchRockets", b"{}", signed=False)
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_boto3_unsigned_client_is_refused(emu: FsxEmulator, checker: Any) -> None:
    client = boto3.client("fsx", region_name="us-east-1", endpoint_url=emu.endpoint_url,
                          config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    client.meta.events.register("after-call.fsx", checker)
    with pytest.raises(ClientError) as excinfo:
        client.describe_backups()
    error = error_of(excinfo)
    assert (error["Code"], error["Message"], error["HTTPStatusCode"]) == (
        "MissingAuthenticationTokenException", "Missing Authentication Token", 400,
    )


@pytest.mark.parametrize(
    ("authorization", "date", "code", "text"),
    [
        ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/fsx/aws4_request, SignedHeaders=host",
         "20250101T000000Z", "IncompleteSignatureException", "Authorization header requires 'Signature' parameter."),
        ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/fsx/aws4_request, SignedHeaders=host, Signature=ab",
         None, "IncompleteSignatureException", "requires existence of either a 'X-Amz-Date' or a 'Date' header"),
        ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/aws4_request, SignedHeaders=host, Signature=ab",
         "20250101T000000Z", "IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements"),
        ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
         "20250101T000000Z", "InvalidSignatureException", "Credential should be scoped to correct service: 'fsx'."),
        ("Bearer abc", "20250101T000000Z", "MissingAuthenticationTokenException", "Missing Authentication Token"),
    ],
)
def test_malformed_signatures_are_refused(
    emu: FsxEmulator, authorization: str, date: str | None, code: str, text: str
) -> None:
    headers = {"Authorization": authorization, "X-Amz-Date": date} if date else {"Authorization": authorization}
    status, _, body = _post(emu, TARGET + "DescribeBackups", b"{}", headers=headers, signed=False)
    assert (status, body["__type"]) == (400, code)
    assert text in body["message"]


def test_content_type_other_than_amz_json_is_refused(emu: FsxEmulator) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    body = json.dumps({"FileSystemId": fs_id}).encode()
    status, headers, data = _post_raw(emu, TARGET + "CreateBackup", body, {"Content-Type": "text/plain"})
    assert (status, data) == (404, b"<UnknownOperationException/>\n")
    assert "Content-Type" not in headers and headers["x-amzn-RequestId"]
    status, _, data = _post_raw(emu, None, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, b"<AccessDeniedException>" in data) == (403, True)
    # application/json: Coral's RPC envelope, HTTP 200 and no data
    status, _, data = _post_raw(emu, TARGET + "CreateBackup", body, {"Content-Type": "application/json"})
    assert status == 200
    assert json.loads(data) == {
        "Output": {"__type": "com.amazon.coral.service#UnknownOperationException", "message": None}, "Version": "1.0",
    }
    assert emu.backups() == []  # nothing ran
    assert [r.refused for r in emu.requests] == ["UnknownOperationException", "AccessDeniedException",
                                                 "UnknownOperationException"]
    assert emu.calls["CreateBackup"] == 2
    # parameters of the media type are ignored
    status, _, _ = _post_raw(emu, TARGET + "CreateBackup", body,
                             {"Content-Type": "application/x-amz-json-1.1; charset=utf-8"})
    assert status == 200 and len(emu.backups()) == 1


def test_get_is_refused(emu: FsxEmulator) -> None:
    status, _, data = _post_raw(emu, TARGET + "DescribeBackups", b"", method="GET")
    assert status == 403 and b"AccessDeniedException" in data


def test_each_request_records_its_signing_access_key(emu: FsxEmulator) -> None:
    def client(key: str, region: str = "us-east-1") -> Any:
        return boto3.client("fsx", region_name=region, endpoint_url=emu.endpoint_url,
                            aws_access_key_id=key, aws_secret_access_key="secret")

    client("AKIAFIRST").describe_backups()
    client("ASIASECOND", "eu-west-1").describe_file_systems()
    client("AKIAFIRST").describe_volumes()
    assert emu.access_keys == ["AKIAFIRST", "ASIASECOND", "AKIAFIRST"]
    assert [(r.region, r.operation, r.access_key) for r in emu.requests] == [
        ("us-east-1", "DescribeBackups", "AKIAFIRST"),
        ("eu-west-1", "DescribeFileSystems", "ASIASECOND"),
        ("us-east-1", "DescribeVolumes", "AKIAFIRST"),
    ]
    assert [entry[1:3] for entry in emu.call_log] == [(r.region, r.operation) for r in emu.requests]
