"""Readers of FSx's records: the shapes DescribeBackups returns and what the package reads off them.

Pure (no boto3, no I/O), so that state.py and the adapters can read a backup without importing the
AWS edge (fsx.py re-exports every name here for its callers). The shapes are botocore's FSx model's
(``Backup``, ``FileSystem``, ``Volume``), kept as plain dicts because boto3 returns them so.
"""

from __future__ import annotations

from typing import Any, Collection, Iterable, Optional

Backup = dict[str, Any]
FileSystem = dict[str, Any]
Volume = dict[str, Any]

# The backup lifecycle's end states (the Lifecycle member of the Backup shape in botocore's FSx model;
# https://docs.aws.amazon.com/fsx/latest/APIReference/API_Backup.html). Never mix with file-system
# lifecycles. A DELETED backup also leaves DescribeBackups.
BACKUP_DONE_STATE = "AVAILABLE"
BACKUP_FAILED_STATE = "FAILED"
BACKUP_DELETED_STATE = "DELETED"

# The durable marker of every backup the package makes: its ClientRequestToken, as a tag.
TOKEN_TAG_KEY = "fsx-backup-component:request-token"
# The rotation a backup belongs to (FsxBackup's keep_last): the resource's rotation nonce.
ROTATION_TAG_KEY = "fsx-backup-component:rotation"
# Tags the package sets and reads for itself: never the user's tags, never in `tags`.
OWN_TAG_KEYS = frozenset({TOKEN_TAG_KEY, ROTATION_TAG_KEY})
MAX_BACKUP_TAGS = 50


def tag_value(backup: Backup, key: str) -> Optional[str]:
    for tag in backup.get("Tags") or []:
        if tag.get("Key") == key:
            return str(tag.get("Value"))
    return None


def marked_by_token(backups: Iterable[Backup], tokens: Collection[str]) -> dict[str, Backup]:
    """{token: backup} for the backups whose request-token tag holds one of ``tokens``. Copies are
    skipped: an in-region copy made with CopyTags carries its source's token tag too."""
    wanted = set(tokens)
    marked: dict[str, Backup] = {}
    for backup in backups:
        token = tag_value(backup, TOKEN_TAG_KEY)
        if token in wanted and not backup.get("SourceBackupId"):
            marked[str(token)] = backup
    return marked


def failure_reason(backup: Backup) -> str:
    return str((backup.get("FailureDetails") or {}).get("Message") or "")


def user_tags(backup: Backup) -> dict[str, str]:
    """The backup's tags as AWS reports them, without the package's own (the token, the rotation)."""
    return {t["Key"]: t["Value"] for t in backup.get("Tags") or [] if t["Key"] not in OWN_TAG_KEYS}
