"""Crash-safe, preview-checked Amazon FSx backups as a Pulumi component.

    from fsx_backup_component import FsxBackup
    FsxBackup("before-upgrade", file_system_id="fs-0123456789abcdef0", tags={"reason": "pre-upgrade"})
"""

from .component import FsxBackup, FsxBackupArgs
from .errors import (
    AwsApiError,
    BackupDeletedError,
    BackupFailedError,
    BackupInProgressTimeoutError,
    BackupTimeoutError,
    CopyRefusedError,
    FsxBackupError,
    IneligibleTargetError,
    InvalidInputError,
    QuotaExceededError,
    TargetNotFoundError,
)
from .prechange import PreChangeBackup

__all__ = [
    "AwsApiError",
    "BackupDeletedError",
    "BackupFailedError",
    "BackupInProgressTimeoutError",
    "BackupTimeoutError",
    "CopyRefusedError",
    "FsxBackup",
    "FsxBackupArgs",
    "FsxBackupError",
    "IneligibleTargetError",
    "InvalidInputError",
    "PreChangeBackup",
    "QuotaExceededError",
    "TargetNotFoundError",
]
