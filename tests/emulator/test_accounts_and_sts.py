"""Accounts and STS (docs/emulator.md, "Accounts and STS"): FSx state scoped by account, and an STS
speaking awsQuery on the emulator's port whose temporary credentials expire on the emulator clock."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ResponseChecker
from fsx_emu_helpers import BACKUP_SECONDS, COPY_SECONDS, all_ids, error_of

from fsx_backup_component.testing import FsxEmulator, ManualClock
from fsx_backup_component.testing.__main__ import _announce

DEFAULT = "123456789012"  # the emulator's default account
CALLER = "111111111111"
TARGET = "222222222222"
THIRD = "333333333333"
CALLER_KEY = "AKIACALLER0000000001"
TARGET_KEY = "AKIATARGET0000000001"
THIRD_KEY = "AKIATHIRD00000000001"
ROLE = f"arn:aws:iam::{TARGET}:role/fsx-backup"
ROLE_C = f"arn:aws:iam::{THIRD}:role/path/chained"
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
NO_RETRY = {"mode": "standard", "total_max_attempts": 1}


@pytest.fixture
def accounts(emu: FsxEmulator) -> FsxEmulator:
    emu.add_account(CALLER, [CALLER_KEY], user_name="alice")
    emu.add_account(TARGET, [TARGET_KEY])
    emu.add_account(THIRD, [THIRD_KEY])
    return emu


def fsx(emu: FsxEmulator, key: str, token: str | None = None, region: str = "us-east-1",
        checker: ResponseChecker | None = None, secret: str = "secret") -> Any:
    client = boto3.client("fsx", region_name=region, endpoint_url=emu.endpoint_url, aws_access_key_id=key,
                          aws_secret_access_key=secret, aws_session_token=token,
                          config=Config(retries=NO_RETRY))
    if checker is not None:
        client.meta.events.register("after-call.fsx", checker)
    return client


def sts(emu: FsxEmulator, key: str, token: str | None = None, validate: bool = True) -> Any:
    return boto3.client("sts", region_name="us-east-1", endpoint_url=emu.endpoint_url, aws_access_key_id=key,
                        aws_secret_access_key="secret", aws_session_token=token,
                        config=Config(retries=NO_RETRY, parameter_validation=validate))


def fsx_of(emu: FsxEmulator, credentials: dict[str, Any], checker: ResponseChecker | None = None) -> Any:
    return fsx(emu, credentials["AccessKeyId"], credentials["SessionToken"], checker=checker,
               secret=credentials["SecretAccessKey"])


def sts_of(emu: FsxEmulator, credentials: dict[str, Any]) -> Any:
    return sts(emu, credentials["AccessKeyId"], credentials["SessionToken"])


def fs_ids(client: Any) -> list[str]:
    return sorted(all_ids(client.describe_file_systems, "FileSystems", "FileSystemId"))


def error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call(**params)
    return error_of(excinfo)


def denied(caller_arn: str, role_arn: str) -> dict[str, Any]:
    """AWS's AccessDenied for AssumeRole (docs/emulator.md, "Accounts and STS")."""
    return {
        "Type": "Sender", "Code": "AccessDenied", "HTTPStatusCode": 403,
        "Message": f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
    }


# --- FSx state per account ----------------------------------------------------------------------


def test_each_account_sees_only_its_own_file_systems(accounts: FsxEmulator, checker: ResponseChecker) -> None:
    emu = accounts
    mine = emu.add_file_system("LUSTRE", account_id=CALLER)
    theirs = emu.add_file_system("WINDOWS", account_id=TARGET)
    default = emu.add_file_system("OPENZFS")
    caller, target = fsx(emu, CALLER_KEY, checker=checker), fsx(emu, TARGET_KEY, checker=checker)
    assert fs_ids(caller) == [mine]
    assert fs_ids(target) == [theirs]
    # an access key nobody registered belongs to the default account, as before accounts existed
    assert fs_ids(fsx(emu, "AKIANOBODY0000000001", checker=checker)) == [default]
    assert error(caller.describe_file_systems, FileSystemIds=[theirs])["Code"] == "FileSystemNotFound"
    assert error(target.describe_file_systems, FileSystemIds=[theirs, mine])["Code"] == "FileSystemNotFound"


def test_volumes_and_associations_follow_their_file_system(accounts: FsxEmulator, checker: ResponseChecker) -> None:
    emu = accounts
    ontap = emu.add_file_system("ONTAP", account_id=TARGET)
    volume = emu.add_volume(ontap)
    lustre = emu.add_file_system("LUSTRE", account_id=TARGET)
    dra = emu.add_data_repository_association(lustre)
    caller, target = fsx(emu, CALLER_KEY, checker=checker), fsx(emu, TARGET_KEY, checker=checker)
    assert all_ids(target.describe_volumes, "Volumes", "VolumeId") == [volume]
    assert caller.describe_volumes()["Volumes"] == []
    assert error(caller.describe_volumes, VolumeIds=[volume])["Code"] == "VolumeNotFound"
    assert error(caller.create_backup, VolumeId=volume)["Code"] == "VolumeNotFound"
    assert [a["AssociationId"] for a in target.describe_data_repository_associations()["Associations"]] == [dra]
    assert caller.describe_data_repository_associations()["Associations"] == []
    with pytest.raises(ClientError) as excinfo:
        caller.describe_data_repository_associations(AssociationIds=[dra])
    assert error_of(excinfo)["Code"] == "DataRepositoryAssociationNotFound"
    # the test-side peek still walks every account (tests/harness/cloud.py relies on it)
    assert any(volume in state.volumes for state in emu._regions.values())


def test_backups_cannot_be_made_read_deleted_or_copied_from_another_account(
    accounts: FsxEmulator, clock: ManualClock, checker: ResponseChecker
) -> None:
    emu = accounts
    theirs = emu.add_file_system("WINDOWS", account_id=TARGET)
    caller, target = fsx(emu, CALLER_KEY, checker=checker), fsx(emu, TARGET_KEY, checker=checker)
    assert error(caller.create_backup, FileSystemId=theirs)["Code"] == "FileSystemNotFound"
    backup_id = target.create_backup(FileSystemId=theirs)["Backup"]["BackupId"]
    clock.advance(BACKUP_SECONDS)
    assert caller.describe_backups()["Backups"] == []
    assert error(caller.describe_backups, BackupIds=[backup_id])["Code"] == "BackupNotFound"
    assert error(caller.describe_backups, Filters=[{"Name": "file-system-id", "Values": [theirs]}])["Code"] == (
        "FileSystemNotFound"
    )
    assert error(caller.delete_backup, BackupId=backup_id)["Code"] == "BackupNotFound"
    assert error(caller.copy_backup, SourceBackupId=backup_id)["Code"] == "BackupNotFound"
    west = fsx(emu, CALLER_KEY, region="us-west-2", checker=checker)
    assert error(west.copy_backup, SourceBackupId=backup_id, SourceRegion="us-east-1")["Code"] == "BackupNotFound"
    assert target.describe_backups(BackupIds=[backup_id])["Backups"][0]["Lifecycle"] == "AVAILABLE"
    assert [b["BackupId"] for b in emu.backups()] == [backup_id]  # nothing was made for the caller
    # a copy is made within the caller's (the owner's) account
    copy = fsx(emu, TARGET_KEY, region="us-west-2", checker=checker).copy_backup(
        SourceBackupId=backup_id, SourceRegion="us-east-1"
    )["Backup"]
    assert copy["OwnerId"] == TARGET
    assert copy["ResourceARN"] == f"arn:aws:fsx:us-west-2:{TARGET}:backup/{copy['BackupId']}"
    assert copy["KmsKeyId"].startswith(f"arn:aws:kms:us-west-2:{TARGET}:key/")
    assert [b["BackupId"] for b in emu.backups(account_id=TARGET, region="us-west-2")] == [copy["BackupId"]]
    assert emu.backups(account_id=CALLER) == []
    # the owner can still delete its backup (the source is no longer being copied once the copy is done)
    clock.advance(COPY_SECONDS)
    assert target.delete_backup(BackupId=backup_id)["Lifecycle"] == "DELETED"


def test_tags_of_another_accounts_resources_are_not_found(accounts: FsxEmulator, checker: ResponseChecker) -> None:
    emu = accounts
    theirs = emu.add_file_system("WINDOWS", account_id=TARGET, tags={"team": "ops"})
    arn = f"arn:aws:fsx:us-east-1:{TARGET}:file-system/{theirs}"
    caller, target = fsx(emu, CALLER_KEY, checker=checker), fsx(emu, TARGET_KEY, checker=checker)
    for call, params in (
        (caller.list_tags_for_resource, {}),
        (caller.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (caller.untag_resource, {"TagKeys": ["team"]}),
    ):
        found = error(call, ResourceARN=arn, **params)
        assert (found["Code"], found["ResourceARN"]) == ("ResourceNotFound", arn)
    # the same ID under the caller's account number is not the resource either
    assert error(caller.list_tags_for_resource, ResourceARN=arn.replace(TARGET, CALLER))["Code"] == "ResourceNotFound"
    # nor is the caller's own file system under another account's number
    own = emu.add_file_system("WINDOWS", account_id=CALLER)
    own_arn = f"arn:aws:fsx:us-east-1:{CALLER}:file-system/{own}"
    assert caller.list_tags_for_resource(ResourceARN=own_arn)["Tags"] == []
    assert error(caller.list_tags_for_resource, ResourceARN=own_arn.replace(CALLER, TARGET))["Code"] == (
        "ResourceNotFound"
    )
    assert target.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "ops"}]


def test_arns_owner_ids_and_kms_keys_carry_the_owning_account(accounts: FsxEmulator, checker: ResponseChecker) -> None:
    emu = accounts
    ontap = emu.add_file_system("ONTAP", account_id=TARGET, region="eu-west-1")
    volume = emu.add_volume(ontap, copy_tags_to_backups=True)
    lustre = emu.add_file_system("LUSTRE", account_id=TARGET, region="eu-west-1")
    dra = emu.add_data_repository_association(lustre)
    mine = emu.add_file_system("WINDOWS", region="eu-west-1")
    client = fsx(emu, TARGET_KEY, region="eu-west-1", checker=checker)
    fs = client.describe_file_systems(FileSystemIds=[ontap])["FileSystems"][0]
    assert (fs["OwnerId"], fs["ResourceARN"]) == (TARGET, f"arn:aws:fsx:eu-west-1:{TARGET}:file-system/{ontap}")
    assert fs["KmsKeyId"].startswith(f"arn:aws:kms:eu-west-1:{TARGET}:key/")
    vol = client.describe_volumes(VolumeIds=[volume])["Volumes"][0]
    assert vol["ResourceARN"] == f"arn:aws:fsx:eu-west-1:{TARGET}:volume/{ontap}/{volume}"
    association = client.describe_data_repository_associations(AssociationIds=[dra])["Associations"][0]
    assert association["ResourceARN"] == f"arn:aws:fsx:eu-west-1:{TARGET}:association/{lustre}/{dra}"
    backup = client.create_backup(VolumeId=volume)["Backup"]
    assert backup["OwnerId"] == TARGET
    assert backup["ResourceARN"] == f"arn:aws:fsx:eu-west-1:{TARGET}:backup/{backup['BackupId']}"
    # the default account's records keep the default account number
    default_fs = fsx(emu, "testing", region="eu-west-1").describe_file_systems()["FileSystems"][0]
    assert (default_fs["FileSystemId"], default_fs["OwnerId"]) == (mine, DEFAULT)
    assert default_fs["KmsKeyId"] != fs["KmsKeyId"]


def test_quota_and_idempotency_tokens_are_per_account(clock: ManualClock) -> None:
    with FsxEmulator(clock=clock, backup_quota=1) as emu:
        emu.add_account(CALLER, [CALLER_KEY])
        mine = emu.add_file_system("WINDOWS", account_id=CALLER)
        default = emu.add_file_system("WINDOWS")
        first = fsx(emu, CALLER_KEY).create_backup(FileSystemId=mine, ClientRequestToken="same-token")
        second = fsx(emu, "testing").create_backup(FileSystemId=default, ClientRequestToken="same-token")
        assert first["Backup"]["BackupId"] != second["Backup"]["BackupId"]  # neither hit the other's quota
        clock.advance(BACKUP_SECONDS)
        limit = error(fsx(emu, CALLER_KEY).create_backup, FileSystemId=mine)
        assert (limit["Code"], limit["Limit"]) == ("ServiceLimitExceeded", "TOTAL_USER_INITIATED_BACKUPS")


def test_test_side_helpers_see_every_account(accounts: FsxEmulator, clock: ManualClock) -> None:
    emu = accounts
    theirs = emu.add_file_system("WINDOWS", account_id=TARGET)
    emu.set_backup_seconds(100, file_system_id=theirs)
    state, fs = emu._find_fs(theirs)
    assert (state.account, state.name, fs["OwnerId"]) == (TARGET, "us-east-1", TARGET)
    backup_id = emu.start_automatic_backup(theirs)
    emu.update_file_system(theirs, tags={"a": "b"})
    assert [b["BackupId"] for b in emu.backups()] == [backup_id]
    assert emu.backups(account_id=DEFAULT) == []
    clock.advance(99)
    assert emu.backups(account_id=TARGET)[0]["Lifecycle"] == "CREATING"  # its own duration: 100 s
    emu.delete_file_system(theirs)
    assert emu.backups() == []  # automatic backups go with their file system
    assert fs_ids(fsx(emu, TARGET_KEY)) == []
    assert emu.accounts == sorted({DEFAULT, CALLER, TARGET, THIRD})


def test_account_arguments_are_checked(emu: FsxEmulator) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        emu.add_account("12345", ["AKIAX"])
    with pytest.raises(ValueError, match="12 digits"):
        emu.add_file_system("WINDOWS", account_id="not-an-account")
    with pytest.raises(TypeError):
        emu.add_account(CALLER, "AKIASTRINGNOTALIST")
    emu.add_account(CALLER, [CALLER_KEY])
    emu.add_account(CALLER, [CALLER_KEY])  # again, same account: fine
    with pytest.raises(ValueError, match="already belongs"):
        emu.add_account(TARGET, [CALLER_KEY])
    with pytest.raises(ValueError, match="role ARN"):
        emu.add_role(f"arn:aws:iam::{TARGET}:user/bob")
    with pytest.raises(ValueError, match="3600..43200"):
        emu.add_role(ROLE, max_session_seconds=900)
    with pytest.raises(ValueError, match="3600..43200"):
        emu.add_role(ROLE, max_session_seconds=43201)
    with pytest.raises(ValueError, match="12 digits"):
        emu.add_role(ROLE, trusted_accounts=["abc"])
    fs_id = emu.add_file_system("WINDOWS", account_id=TARGET)
    with pytest.raises(ValueError, match="IDs are unique"):
        emu.add_file_system("WINDOWS", file_system_id=fs_id)  # another account holds that ID


# --- STS: AssumeRole through real boto3 -----------------------------------------------------------


def test_assumed_role_session_sees_the_role_accounts_file_systems(
    accounts: FsxEmulator, clock: ManualClock, checker: ResponseChecker
) -> None:
    emu = accounts
    emu.add_role(ROLE, trusted_accounts=[CALLER])
    mine = emu.add_file_system("WINDOWS", account_id=CALLER)
    theirs = emu.add_file_system("WINDOWS", account_id=TARGET)
    answer = sts(emu, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName="nightly-backup")
    credentials, user = answer["Credentials"], answer["AssumedRoleUser"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    assert credentials["SecretAccessKey"] and credentials["SessionToken"]
    assert credentials["Expiration"].timestamp() == clock() + 3600  # default DurationSeconds
    assert user["Arn"] == f"arn:aws:sts::{TARGET}:assumed-role/fsx-backup/nightly-backup"
    assert user["AssumedRoleId"].startswith("AROA") and user["AssumedRoleId"].endswith(":nightly-backup")
    session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name="us-east-1")
    role_client = session.client("fsx", endpoint_url=emu.endpoint_url)
    role_client.meta.events.register("after-call.fsx", checker)
    assert fs_ids(role_client) == [theirs]
    assert error(role_client.describe_file_systems, FileSystemIds=[mine])["Code"] == "FileSystemNotFound"
    backup = role_client.create_backup(FileSystemId=theirs)["Backup"]
    assert backup["OwnerId"] == TARGET
    assert fs_ids(fsx(emu, CALLER_KEY)) == [mine]  # the caller's own keys still see its own account


def test_sts_endpoint_from_the_environment(accounts: FsxEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = accounts
    emu.add_role(ROLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", emu.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FSX", emu.endpoint_url)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("sts", region_name="eu-west-1", aws_access_key_id=CALLER_KEY,
                          aws_secret_access_key="secret")
    assert client.get_caller_identity()["Account"] == CALLER
    credentials = client.assume_role(RoleArn=ROLE, RoleSessionName="env")["Credentials"]
    role_fsx = boto3.client("fsx", region_name="eu-west-1", aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])
    assert role_fsx.describe_backups()["Backups"] == []
    assert [(r.service, r.operation, r.region, r.account) for r in emu.requests] == [
        ("sts", "GetCallerIdentity", "eu-west-1", CALLER),
        ("sts", "AssumeRole", "eu-west-1", CALLER),
        ("fsx", "DescribeBackups", "eu-west-1", TARGET),
    ]


def test_access_denied_for_untrusted_callers_wrong_external_ids_and_unknown_roles(accounts: FsxEmulator) -> None:
    emu = accounts
    emu.add_role(ROLE, trusted_accounts=[CALLER], external_id="ext-1234")
    caller_arn = f"arn:aws:iam::{CALLER}:user/alice"
    client = sts(emu, CALLER_KEY)
    assert error(client.assume_role, RoleArn=ROLE, RoleSessionName="s1") == denied(caller_arn, ROLE)
    assert error(client.assume_role, RoleArn=ROLE, RoleSessionName="s1", ExternalId="ext-9999") == denied(
        caller_arn, ROLE
    )
    unknown = f"arn:aws:iam::{TARGET}:role/no-such-role"
    assert error(client.assume_role, RoleArn=unknown, RoleSessionName="s1") == denied(caller_arn, unknown)
    third = sts(emu, THIRD_KEY)
    third_arn = f"arn:aws:iam::{THIRD}:user/emulator"
    assert error(third.assume_role, RoleArn=ROLE, RoleSessionName="s1", ExternalId="ext-1234") == denied(
        third_arn, ROLE
    )
    # the trusted caller with the right ExternalId gets in
    assert client.assume_role(RoleArn=ROLE, RoleSessionName="s1", ExternalId="ext-1234")["Credentials"]
    # a role that trusts any account and needs no ExternalId also takes one it does not need
    open_role = f"arn:aws:iam::{TARGET}:role/open"
    emu.add_role(open_role)
    assert third.assume_role(RoleArn=open_role, RoleSessionName="s2", ExternalId="whatever")["Credentials"]
    assert [r.refused for r in emu.requests] == [None] * 6  # identified callers: answered, not refused
    assert [r.account for r in emu.requests] == [CALLER, CALLER, CALLER, THIRD, CALLER, THIRD]


def test_duration_seconds_limits(accounts: FsxEmulator, clock: ManualClock) -> None:
    emu = accounts
    emu.add_role(ROLE)
    long_role = f"arn:aws:iam::{TARGET}:role/long"
    emu.add_role(long_role, max_session_seconds=7200)
    client = sts(emu, CALLER_KEY, validate=False)  # reach the server's own checks
    low = error(client.assume_role, RoleArn=ROLE, RoleSessionName="sess", DurationSeconds=899)
    assert (low["Code"], low["Type"], low["HTTPStatusCode"]) == ("ValidationError", "Sender", 400)
    assert low["Message"] == ("1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy "
                              "constraint: Member must have value greater than or equal to 900")
    high = error(client.assume_role, RoleArn=long_role, RoleSessionName="sess", DurationSeconds=43201)
    assert high["Message"].endswith("Member must have value less than or equal to 43200")
    over = error(client.assume_role, RoleArn=ROLE, RoleSessionName="sess", DurationSeconds=3601)
    assert (over["Code"], over["Message"]) == (
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    assert error(client.assume_role, RoleArn=long_role, RoleSessionName="sess", DurationSeconds=7201)["Message"] == (
        over["Message"]
    )
    for seconds in (900, 7200):
        answer = client.assume_role(RoleArn=long_role, RoleSessionName="sess", DurationSeconds=seconds)
        assert answer["Credentials"]["Expiration"].timestamp() == clock() + seconds


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("a", "Member must have length greater than or equal to 2"),
        ("x" * 65, "Member must have length less than or equal to 64"),
        ("team/alice", "Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
        ("has space", "Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
    ],
)
def test_role_session_name_is_validated(accounts: FsxEmulator, name: str, constraint: str) -> None:
    accounts.add_role(ROLE)
    found = error(sts(accounts, CALLER_KEY, validate=False).assume_role, RoleArn=ROLE, RoleSessionName=name)
    assert (found["Code"], found["HTTPStatusCode"]) == ("ValidationError", 400)
    assert found["Message"] == (
        f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: {constraint}"
    )


def test_role_session_name_accepts_the_documented_characters(accounts: FsxEmulator) -> None:
    accounts.add_role(ROLE)
    name = "Ab_0+=,.@-" + "x" * 54  # 64 characters
    user = sts(accounts, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName=name)["AssumedRoleUser"]
    assert user["Arn"].endswith("/" + name)


# --- temporary credentials: expiry and session tokens ----------------------------------------------


def test_temporary_credentials_expire_on_the_emulator_clock(
    accounts: FsxEmulator, clock: ManualClock, checker: ResponseChecker
) -> None:
    emu = accounts
    emu.add_role(ROLE)
    theirs = emu.add_file_system("WINDOWS", account_id=TARGET)
    credentials = sts(emu, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName="sess", DurationSeconds=900)[
        "Credentials"
    ]
    client = fsx_of(emu, credentials, checker)
    clock.advance(899)
    assert fs_ids(client) == [theirs]
    assert sts_of(emu, credentials).get_caller_identity()["Account"] == TARGET
    clock.advance(1)
    expired = error(client.describe_file_systems)
    assert (expired["Code"], expired["Message"], expired["HTTPStatusCode"]) == (
        "ExpiredTokenException", "The security token included in the request is expired", 400,
    )
    sts_expired = error(sts_of(emu, credentials).get_caller_identity)
    assert (sts_expired["Code"], sts_expired["Message"], sts_expired["HTTPStatusCode"]) == (
        "ExpiredToken", "The security token included in the request is expired", 403,
    )
    assert error(sts_of(emu, credentials).assume_role, RoleArn=ROLE, RoleSessionName="again")["Code"] == (
        "ExpiredToken"
    )
    # the long-term keys are unaffected, and a new session works again
    fresh = sts(emu, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName="sess")["Credentials"]
    assert fs_ids(fsx_of(emu, fresh, checker)) == [theirs]
    refused = [(r.service, r.operation, r.refused, r.account) for r in emu.requests if r.refused]
    assert refused == [
        ("fsx", "DescribeFileSystems", "ExpiredTokenException", None),
        ("sts", "GetCallerIdentity", "ExpiredToken", None),
        ("sts", "AssumeRole", "ExpiredToken", None),
    ]


def test_temporary_key_without_its_session_token_is_unrecognized(
    accounts: FsxEmulator, checker: ResponseChecker
) -> None:
    emu = accounts
    emu.add_role(ROLE)
    credentials = sts(emu, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName="sess")["Credentials"]
    key = credentials["AccessKeyId"]
    for token in (None, "not-the-token", credentials["SessionToken"][:-4]):
        found = error(fsx(emu, key, token, checker=checker).describe_backups)
        assert (found["Code"], found["Message"], found["HTTPStatusCode"]) == (
            "UnrecognizedClientException", "The security token included in the request is invalid.", 400,
        )
        sts_found = error(sts(emu, key, token).get_caller_identity)
        assert (sts_found["Code"], sts_found["Message"], sts_found["HTTPStatusCode"]) == (
            "InvalidClientTokenId", "The security token included in the request is invalid.", 403,
        )
    assert emu.calls["DescribeBackups"] == 3 and emu.backups() == []
    assert {(r.refused, r.account) for r in emu.requests[1:]} == {
        ("UnrecognizedClientException", None), ("InvalidClientTokenId", None),
    }
    # a temporary-looking key the emulator never issued is an unregistered key: default account
    assert fsx(emu, "ASIANEVERISSUED00001").describe_backups()["Backups"] == []
    assert emu.requests[-1].account == DEFAULT


def test_role_chaining(accounts: FsxEmulator, clock: ManualClock) -> None:
    emu = accounts
    emu.add_role(ROLE, trusted_accounts=[CALLER])
    emu.add_role(ROLE_C, trusted_accounts=[TARGET], max_session_seconds=43200)
    third_fs = emu.add_file_system("OPENZFS", account_id=THIRD)
    first = sts(emu, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName="hop1")["Credentials"]
    hop = sts_of(emu, first)
    # a chained session is limited to one hour whatever the role allows
    too_long = error(hop.assume_role, RoleArn=ROLE_C, RoleSessionName="hop2", DurationSeconds=3601)
    assert (too_long["Code"], too_long["Message"]) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    )
    answer = hop.assume_role(RoleArn=ROLE_C, RoleSessionName="hop2")
    second = answer["Credentials"]
    assert second["Expiration"].timestamp() == clock() + 3600
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{THIRD}:assumed-role/chained/hop2"
    assert fs_ids(fsx_of(emu, second)) == [third_fs]
    identity = sts_of(emu, second).get_caller_identity()
    assert (identity["Account"], identity["Arn"]) == (THIRD, answer["AssumedRoleUser"]["Arn"])
    assert identity["UserId"] == answer["AssumedRoleUser"]["AssumedRoleId"]
    assert emu.session(second["AccessKeyId"]).chained  # type: ignore[union-attr]
    # the third role trusts the second account only: the first caller cannot skip the hop
    direct = error(sts(emu, CALLER_KEY).assume_role, RoleArn=ROLE_C, RoleSessionName="skip")
    assert direct == denied(f"arn:aws:iam::{CALLER}:user/alice", ROLE_C)
    # and a session is refused under its assumed-role ARN
    back = error(sts_of(emu, second).assume_role, RoleArn=ROLE, RoleSessionName="back")
    assert back == denied(f"arn:aws:sts::{THIRD}:assumed-role/chained/hop2", ROLE)
    # each session lasts its own duration from its own issue
    clock.advance(3600)
    assert error(fsx_of(emu, second).describe_file_systems)["Code"] == "ExpiredTokenException"


def test_get_caller_identity(accounts: FsxEmulator) -> None:
    emu = accounts
    registered = sts(emu, CALLER_KEY).get_caller_identity()
    assert (registered["Account"], registered["Arn"]) == (CALLER, f"arn:aws:iam::{CALLER}:user/alice")
    assert registered["UserId"].startswith("AIDA") and len(registered["UserId"]) == 21
    assert sts(emu, CALLER_KEY).get_caller_identity()["UserId"] == registered["UserId"]  # stable
    unregistered = sts(emu, "AKIANOBODY0000000001").get_caller_identity()
    assert (unregistered["Account"], unregistered["Arn"]) == (DEFAULT, f"arn:aws:iam::{DEFAULT}:user/emulator")
    emu.add_role(ROLE)
    answer = sts(emu, TARGET_KEY).assume_role(RoleArn=ROLE, RoleSessionName="me")
    assumed = sts_of(emu, answer["Credentials"]).get_caller_identity()
    assert assumed["Arn"] == answer["AssumedRoleUser"]["Arn"]
    assert assumed["UserId"] == answer["AssumedRoleUser"]["AssumedRoleId"]
    assert emu.calls["GetCallerIdentity"] == 4 and emu.calls["AssumeRole"] == 1


# --- records, faults, wire format ----------------------------------------------------------------


def test_sts_requests_are_recorded_like_fsx_ones(accounts: FsxEmulator, clock: ManualClock) -> None:
    emu = accounts
    emu.add_role(ROLE, external_id="ext-1234")
    credentials = sts(emu, CALLER_KEY).assume_role(
        RoleArn=ROLE, RoleSessionName="rec", ExternalId="ext-1234", DurationSeconds=1800
    )["Credentials"]
    fsx_of(emu, credentials).describe_backups()
    fsx(emu, CALLER_KEY).describe_backups()
    assert emu.calls == {"AssumeRole": 1, "DescribeBackups": 2}
    first = emu.requests[0]
    assert (first.service, first.operation, first.region, first.access_key, first.account, first.refused) == (
        "sts", "AssumeRole", "us-east-1", CALLER_KEY, CALLER, None,
    )
    assert first.params == {"RoleArn": ROLE, "RoleSessionName": "rec", "ExternalId": "ext-1234",
                            "DurationSeconds": "1800"}
    assert [(r.service, r.account, r.access_key) for r in emu.requests[1:]] == [
        ("fsx", TARGET, credentials["AccessKeyId"]), ("fsx", CALLER, CALLER_KEY),
    ]
    assert emu.access_keys == [CALLER_KEY, credentials["AccessKeyId"], CALLER_KEY]
    assert [entry[2] for entry in emu.call_log] == [r.operation for r in emu.requests]
    assert [entry[0] for entry in emu.call_log] == [clock()] * 3
    emu.reset_counters()
    assert emu.requests == [] and emu.call_log == [] and not emu.calls


def test_faults_do_not_apply_to_sts(accounts: FsxEmulator) -> None:
    emu = accounts
    emu.add_role(ROLE)
    emu.faults.throttle_rate = 1.0
    credentials = sts(emu, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName="sess")["Credentials"]
    assert error(fsx_of(emu, credentials).describe_backups)["Code"] == "ThrottlingException"
    assert emu.requests[-1].account == TARGET  # identified, then faulted


def _sts_post(emu: FsxEmulator, form: str, key: str = CALLER_KEY) -> tuple[int, dict[str, str], ET.Element]:
    request = urllib.request.Request(
        emu.endpoint_url + "/", data=form.encode(), method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20250101/us-east-1/sts/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, Signature=0123abcd",
            "X-Amz-Date": "20250101T000000Z",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), ET.fromstring(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), ET.fromstring(err.read())


def test_wire_format_of_answers_and_errors(accounts: FsxEmulator) -> None:
    emu = accounts
    emu.add_role(ROLE)
    status, headers, root = _sts_post(
        emu, f"Action=AssumeRole&Version=2011-06-15&RoleArn={ROLE}&RoleSessionName=wire"
    )
    assert (status, headers["Content-Type"], root.tag) == (200, "text/xml", f"{NS}AssumeRoleResponse")
    result = root.find(f"{NS}AssumeRoleResult")
    assert result is not None
    assert [child.tag for child in result] == [f"{NS}AssumedRoleUser", f"{NS}Credentials"]
    credentials = result.find(f"{NS}Credentials")
    assert credentials is not None
    assert [child.tag[len(NS):] for child in credentials] == [
        "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration",
    ]
    assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId") == headers["x-amzn-RequestId"]
    status, headers, root = _sts_post(emu, "Action=AssumeRole&Version=2011-06-15&RoleArn=" + ROLE)
    assert (status, root.tag) == (400, f"{NS}ErrorResponse")
    assert [(child.tag[len(NS):], child.text) for child in root.find(f"{NS}Error") or []] == [
        ("Type", "Sender"), ("Code", "ValidationError"),
        ("Message", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: "
                    "Member must not be null"),
    ]
    assert root.findtext(f"{NS}RequestId") == headers["x-amzn-RequestId"]
    status, _, root = _sts_post(emu, "Action=GetSessionToken&Version=2011-06-15")
    assert (status, root.findtext(f"{NS}Error/{NS}Code")) == (400, "InvalidAction")
    assert emu.requests[-1].refused == "InvalidAction" and emu.requests[-1].account is None


# --- seeds and the command line --------------------------------------------------------------------


def test_seed_registers_accounts_roles_and_owned_file_systems(clock: ManualClock) -> None:
    seed = {
        "accounts": {CALLER: [CALLER_KEY], TARGET: {"access_keys": [TARGET_KEY], "user_name": "ops"}},
        "roles": [{"arn": ROLE, "trusted_accounts": [CALLER], "external_id": "ext-1234",
                   "max_session_seconds": 7200}],
        "file_systems": [{"type": "ONTAP", "id": "fs-0000000000000000b", "account_id": TARGET,
                          "volumes": [{"id": "fsvol-0000000000000000b", "name": "v"}]},
                         {"type": "WINDOWS", "id": "fs-0000000000000000c"}],
    }
    with FsxEmulator(clock=clock, seed=seed) as emu:
        assert fs_ids(fsx(emu, TARGET_KEY)) == ["fs-0000000000000000b"]
        assert fs_ids(fsx(emu, CALLER_KEY)) == []
        assert fs_ids(fsx(emu, "testing")) == ["fs-0000000000000000c"]
        assert sts(emu, TARGET_KEY).get_caller_identity()["Arn"] == f"arn:aws:iam::{TARGET}:user/ops"
        answer = sts(emu, CALLER_KEY).assume_role(RoleArn=ROLE, RoleSessionName="seed", ExternalId="ext-1234",
                                                  DurationSeconds=7200)
        volumes = fsx_of(emu, answer["Credentials"]).describe_volumes()["Volumes"]
        assert [v["VolumeId"] for v in volumes] == ["fsvol-0000000000000000b"]
        out = io.StringIO()
        with redirect_stdout(out):
            _announce(emu)
        lines = out.getvalue().splitlines()
        assert lines[1:3] == [f"export AWS_ENDPOINT_URL_FSX={emu.endpoint_url}",
                              f"export AWS_ENDPOINT_URL_STS={emu.endpoint_url}"]


def test_cli_says_nothing_of_sts_without_roles(emu: FsxEmulator) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        _announce(emu)
    assert "STS" not in out.getvalue()


def test_seed_rejects_bad_accounts_and_roles() -> None:
    with pytest.raises(ValueError):
        FsxEmulator(seed={"accounts": {"bad": ["AKIAX"]}})
    with pytest.raises(TypeError):
        FsxEmulator(seed={"accounts": [CALLER]})
    with pytest.raises(TypeError):
        FsxEmulator(seed={"roles": [{"arn": ROLE, "colour": "blue"}]})
    with pytest.raises(ValueError):
        FsxEmulator(seed={"file_systems": [{"type": "WINDOWS", "account_id": "42"}]})
