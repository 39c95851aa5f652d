"""The baseline: the dynamic provider a user would write by hand for "an FSx backup in my stack".

``create()`` calls CreateBackup with a random token and then blocks, polling DescribeBackups for its
own backup on Terraform's schedule (0.2 s, doubling, capped at 10 s) until it is AVAILABLE;
``delete()`` deletes it. Nothing is shared between resources, and nothing widens the provider host's
4-worker pool: this module must never import ``fsx_backup_component`` (the bench checks that the
host process of a baseline run never loaded it).

It lives in an importable module (``bench.baseline_provider``) so dill pickles the provider by
reference; the bench puts the repository root on the provider host's PYTHONPATH.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any, Optional

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CreateResult, ResourceProvider

FIRST_DELAY = 0.2
MAX_DELAY = 10.0
TIMEOUT_SECONDS = 3 * 3600.0

_CLIENT_LOCK = threading.Lock()
_CLIENTS: dict[Optional[str], Any] = {}


def _client(region: Optional[str]) -> Any:
    # One client per process (building one per call would only make the baseline slower).
    import boto3

    with _CLIENT_LOCK:
        if region not in _CLIENTS:
            _CLIENTS[region] = boto3.session.Session().client("fsx", region_name=region)
        return _CLIENTS[region]


def terraform_delays() -> Any:
    """0.2, 0.4, 0.8, ... seconds, capped at 10 s (Terraform's StateChangeConf-style backoff)."""
    delay = FIRST_DELAY
    while True:
        yield delay
        delay = min(MAX_DELAY, delay * 2)


class BaselineBackupProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        client = _client(props.get("region") or os.environ.get("AWS_REGION"))
        request: dict[str, Any] = {"ClientRequestToken": uuid.uuid4().hex}
        if props.get("volume_id"):
            request["VolumeId"] = props["volume_id"]
        else:
            request["FileSystemId"] = props["file_system_id"]
        backup = client.create_backup(**request)["Backup"]
        backup_id = backup["BackupId"]
        deadline = time.monotonic() + TIMEOUT_SECONDS
        delays = terraform_delays()
        while backup["Lifecycle"] != "AVAILABLE":
            if backup["Lifecycle"] in ("FAILED", "DELETED"):
                raise RuntimeError(f"backup {backup_id} ended {backup['Lifecycle']}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"backup {backup_id} still {backup['Lifecycle']}")
            time.sleep(next(delays))
            backup = client.describe_backups(BackupIds=[backup_id])["Backups"][0]
        outs = dict(props)
        outs.update(backup_id=backup_id, backup_arn=backup.get("ResourceARN"), lifecycle=backup["Lifecycle"])
        return CreateResult(id_=backup_id, outs=outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = _client(props.get("region") or os.environ.get("AWS_REGION"))
        client.delete_backup(BackupId=id_)


class BaselineBackup(pulumi.dynamic.Resource, module="baseline", name="Backup"):
    backup_id: pulumi.Output[str]
    lifecycle: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        file_system_id: Optional[str] = None,
        volume_id: Optional[str] = None,
        region: Optional[str] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props = {
            "file_system_id": file_system_id,
            "volume_id": volume_id,
            "region": region,
            "backup_id": None,
            "backup_arn": None,
            "lifecycle": None,
        }
        super().__init__(BaselineBackupProvider(), name, props, opts)
