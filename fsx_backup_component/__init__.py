"""Crash-safe, preview-checked Amazon FSx backups as a Pulumi component.

    from fsx_backup_component import FsxBackup
    FsxBackup("before-upgrade", file_system_id="fs-0123456789abcdef0", tags={"reason": "pre-upgrade"})
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each public name lives. The names are imported on first use (PEP 562) rather than here: the
# provider host imports this package to unpickle a provider (``fsx_backup_component.life`` or
# ``.provider``), and must not pay for the component, the pre-change hooks and the AWS SDK before it
# answers its first Check (tests/unit/test_cold_imports.py).
_EXPORTS = {
    "FsxBackup": "component",
    "FsxBackupArgs": "component",
    "PreChangeBackup": "prechange",
    **{
        name: "errors"
        for name in (
            "AwsApiError", "BackupDeletedError", "BackupFailedError", "BackupInProgressTimeoutError",
            "BackupTimeoutError", "CopyRefusedError", "FsxBackupError", "IneligibleTargetError",
            "InvalidInputError", "QuotaExceededError", "TargetNotFoundError",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


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
