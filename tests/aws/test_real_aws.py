"""Opt-in: a real `pulumi up` / `pulumi destroy` of the quickstart against real AWS.

Runs only with the Pulumi CLI on PATH, AWS credentials in boto3's default chain, and the ID of a
file system that may be backed up (FSX_BACKUP_TEST_FILE_SYSTEM_ID). It makes one real backup and
deletes it again. Everything else in tests/ is offline.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]


def _skip_reason() -> str | None:
    if shutil.which("pulumi") is None:
        return "the `pulumi` CLI is not on PATH"
    if boto3.session.Session().get_credentials() is None:
        return "no AWS credentials in boto3's default chain"
    if not os.environ.get("FSX_BACKUP_TEST_FILE_SYSTEM_ID"):
        return "FSX_BACKUP_TEST_FILE_SYSTEM_ID (a file system that may be backed up) is not set"
    return None


REASON = _skip_reason()


@pytest.mark.aws
@pytest.mark.skipif(REASON is not None, reason=f"real-AWS test skipped: {REASON}")
def test_quickstart_up_and_destroy_on_real_aws(tmp_path: Path) -> None:
    from pulumi import automation as auto

    region = os.environ.get("AWS_REGION") or boto3.session.Session().region_name or "us-east-1"
    file_system_id = os.environ["FSX_BACKUP_TEST_FILE_SYSTEM_ID"]
    os.environ.setdefault("PULUMI_CONFIG_PASSPHRASE", "fsx-backup-component-test")
    backend = tmp_path / "state"
    backend.mkdir()
    stack = auto.create_or_select_stack(
        stack_name="fsx-backup-real-aws",
        work_dir=str(REPO),
        opts=auto.LocalWorkspaceOptions(env_vars={"PULUMI_BACKEND_URL": f"file://{backend}"}),
    )
    stack.set_config("aws:region", auto.ConfigValue(region))
    stack.set_config("fileSystemId", auto.ConfigValue(file_system_id))
    try:
        result = stack.up(on_output=print)
        backup_id = result.outputs["backup_id"].value
        assert result.outputs["lifecycle"].value == "AVAILABLE"
        described = boto3.client("fsx", region_name=region).describe_backups(BackupIds=[backup_id])
        assert described["Backups"][0]["Lifecycle"] == "AVAILABLE"
        # A second `up` with no change must not make a second backup.
        again = stack.up(on_output=print)
        assert again.outputs["backup_id"].value == backup_id
    finally:
        stack.destroy(on_output=print)
        stack.workspace.remove_stack("fsx-backup-real-aws")


TWO_ACCOUNTS_ENV = {
    "toolsRegion": "FSX_BACKUP_TEST_TOOLS_REGION",
    "toolsFileSystemId": "FSX_BACKUP_TEST_TOOLS_FILE_SYSTEM_ID",
    "dataRegion": "FSX_BACKUP_TEST_DATA_REGION",
    "dataFileSystemId": "FSX_BACKUP_TEST_DATA_FILE_SYSTEM_ID",
    "dataRoleArn": "FSX_BACKUP_TEST_DATA_ROLE_ARN",
}


def _two_accounts_skip_reason() -> str | None:
    missing = [name for name in TWO_ACCOUNTS_ENV.values() if not os.environ.get(name)]
    if shutil.which("pulumi") is None or boto3.session.Session().get_credentials() is None:
        return "the `pulumi` CLI or AWS credentials are missing"
    return f"{', '.join(missing)} not set" if missing else None


TWO_ACCOUNTS_REASON = _two_accounts_skip_reason()


@pytest.mark.aws
@pytest.mark.skipif(TWO_ACCOUNTS_REASON is not None, reason=f"real-AWS test skipped: {TWO_ACCOUNTS_REASON}")
def test_two_accounts_example_on_real_aws(tmp_path: Path) -> None:
    """examples/two-accounts against real AWS: a file system of this account in one region, one of
    another account (a role assumed there) in another; optional FSX_BACKUP_TEST_DATA_EXTERNAL_ID."""
    from pulumi import automation as auto

    os.environ.setdefault("PULUMI_CONFIG_PASSPHRASE", "fsx-backup-component-test")
    backend = tmp_path / "state"
    backend.mkdir()
    stack = auto.create_or_select_stack(
        stack_name="fsx-backup-two-accounts",
        work_dir=str(REPO / "examples" / "two-accounts"),
        opts=auto.LocalWorkspaceOptions(env_vars={"PULUMI_BACKEND_URL": f"file://{backend}"}),
    )
    stack.set_config("aws:region", auto.ConfigValue("us-east-1"))
    for key, name in TWO_ACCOUNTS_ENV.items():
        stack.set_config(key, auto.ConfigValue(os.environ[name]))
    if os.environ.get("FSX_BACKUP_TEST_DATA_EXTERNAL_ID"):
        stack.set_config("dataExternalId", auto.ConfigValue(os.environ["FSX_BACKUP_TEST_DATA_EXTERNAL_ID"]))
    try:
        result = stack.up(on_output=print)
        tools_arn = result.outputs["tools_backup_arn"].value
        data_arn = result.outputs["data_backup_arn"].value
        assert tools_arn.split(":")[3] == os.environ["FSX_BACKUP_TEST_TOOLS_REGION"]
        assert data_arn.split(":")[3] == os.environ["FSX_BACKUP_TEST_DATA_REGION"]
        assert data_arn.split(":")[4] == os.environ["FSX_BACKUP_TEST_DATA_ROLE_ARN"].split(":")[4]
    finally:
        stack.destroy(on_output=print)
