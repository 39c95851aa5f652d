"""One error hierarchy: every failure the component reports is an ``FsxBackupError``.

Messages say what happened, to which resource, and what to do; AWS request IDs are kept so a support
case can be opened without re-running anything. AWS errors are translated in fsx.py with
``raise ... from`` (the AWS error stays the ``__cause__``). The signals fsx.py sends to the code above
it (``fsx.BusyError``, ``fsx.TokenSpentError``) are not failures and are not in this hierarchy.
"""

from __future__ import annotations

from typing import Optional


class FsxBackupError(Exception):
    """Base class of every error raised by fsx_backup_component."""

    def __init__(self, message: str, *, request_id: Optional[str] = None) -> None:
        self.request_id = request_id
        if request_id:
            message = f"{message} (AWS request ID: {request_id})"
        super().__init__(message)


class PropertyError(FsxBackupError):
    """An input property the component cannot use, and why: the shape shared by the two below."""

    def __init__(self, property_name: str, reason: str, *, request_id: Optional[str] = None) -> None:
        self.property_name = property_name
        self.reason = reason
        super().__init__(f"{property_name}: {reason}", request_id=request_id)


class InvalidInputError(PropertyError):
    """An input is malformed or contradicts another input. Raised before any AWS call."""

    def __init__(self, property_name: str, reason: str) -> None:
        super().__init__(property_name, reason)


class IneligibleTargetError(PropertyError):
    """The file system or volume exists but FSx cannot back it up (e.g. Lustre SCRATCH, S3-linked)."""


class TargetNotFoundError(FsxBackupError):
    """The file system or volume ID does not exist in the region the provider talks to."""

    def __init__(
        self,
        property_name: str,
        target_id: str,
        region: str,
        *,
        request_id: Optional[str] = None,
        acting_as: Optional[str] = None,
    ) -> None:
        self.property_name = property_name
        self.target_id = target_id
        self.region = region
        super().__init__(
            f"{property_name}: {target_id} was not found in region {region}{_as_whom(acting_as)}. Check "
            "the ID, the region (the `region` input, the target's provider, the `aws:region` stack "
            "config, or AWS_REGION) and the account (a target whose provider assumes a role needs "
            "`assume_roles=`; README \"Which account and region\").",
            request_id=request_id,
        )


class BackupFailedError(FsxBackupError):
    """FSx reported the backup FAILED. Carries AWS's own FailureDetails.Message."""

    def __init__(
        self, backup_id: str, reason: str, *, deleted: bool, request_id: Optional[str] = None
    ) -> None:
        self.backup_id = backup_id
        self.reason = reason
        cleanup = (
            "The failed backup was deleted; fix the cause and run `pulumi up` again."
            if deleted
            else "Deleting the failed backup did not succeed; delete it with "
            f"`aws fsx delete-backup --backup-id {backup_id}` after fixing the cause."
        )
        super().__init__(
            f"FSx backup {backup_id} FAILED: {reason or 'AWS gave no reason'}. {cleanup}",
            request_id=request_id,
        )


class BackupTimeoutError(FsxBackupError):
    """The deadline passed while the backup was still in progress. The next `pulumi up` resumes it."""

    def __init__(self, backup_id: str, lifecycle: str, waited_seconds: float) -> None:
        self.backup_id = backup_id
        self.lifecycle = lifecycle
        self.waited_seconds = waited_seconds
        super().__init__(
            f"FSx backup {backup_id} was still {lifecycle} after {waited_seconds:.0f}s (the "
            "`timeout_seconds` deadline). It keeps running in AWS: run `pulumi up` again to resume "
            "waiting on this same backup (no second backup is made), or raise `timeout_seconds`."
        )


class BackupDeletedError(FsxBackupError):
    """The backup disappeared (deleted outside Pulumi) while the provider was waiting on it."""

    def __init__(self, backup_id: str) -> None:
        self.backup_id = backup_id
        super().__init__(
            f"FSx backup {backup_id} was deleted outside Pulumi while it was being created. "
            "Run `pulumi up` again to take a new backup."
        )


class BackupInProgressTimeoutError(FsxBackupError):
    """Another backup of the same file system kept running past the deadline."""

    def __init__(self, target_id: str, waited_seconds: float, operation: str) -> None:
        self.target_id = target_id
        super().__init__(
            f"{operation} of {target_id}: another backup of this file system was still in progress "
            f"after {waited_seconds:.0f}s (the `timeout_seconds` deadline). FSx runs one backup at "
            "a time per file system; wait for it (see `aws fsx describe-backups`) and run "
            "`pulumi up` again, or raise `timeout_seconds`."
        )


class QuotaExceededError(FsxBackupError):
    """FSx refused the request because an account quota (ServiceLimitExceeded) is reached."""

    def __init__(self, limit: str, target_id: str, message: str, *, request_id: Optional[str] = None) -> None:
        self.limit = limit
        super().__init__(
            f"FSx refused to back up {target_id}: account quota {limit} reached ({message}). "
            "Delete backups you no longer need or ask for a quota increase in Service Quotas.",
            request_id=request_id,
        )


class CopyRefusedError(FsxBackupError):
    """FSx refused to copy a backup to another region (region, KMS key, Multi-AZ, partition...)."""

    _ADVICE = {
        "InvalidRegion": "Copies stay within one partition and cannot target opt-in regions; "
        "pick another region in `copy_to_regions`.",
        "InvalidDestinationKmsKey": "Give a KMS key of the destination region that FSx may use.",
        "InvalidSourceKmsKey": "The source backup's KMS key cannot be used for the copy.",
        "IncompatibleRegionForMultiAZ": "Multi-AZ Windows backups can only be copied to regions that "
        "support Multi-AZ file systems.",
        "UnsupportedOperation": "FSx does not copy this backup there (opt-in regions take no "
        "cross-region copies; Intelligent-Tiering backups cannot be copied).",
    }

    def __init__(
        self, code: str, message: str, backup_id: str, region: str, *, request_id: Optional[str] = None
    ) -> None:
        self.code = code
        self.region = region
        advice = self._ADVICE.get(code, "")
        reason = message.rstrip(".")
        super().__init__(
            f"copy_to_regions: FSx refused to copy {backup_id} to {region}: {code}: {reason}. {advice}".rstrip(),
            request_id=request_id,
        )


class AwsApiError(FsxBackupError):
    """Any other FSx API error, with its code, message and request ID."""

    def __init__(
        self, operation: str, code: str, message: str, subject: str, *, request_id: Optional[str] = None
    ) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"{operation} for {subject} failed: {code}: {message}", request_id=request_id)


class CredentialsError(FsxBackupError):
    """No usable AWS identity: a profile that is not defined, no credentials at all, or a role that
    could not be assumed (``role_arn`` set; ``code`` and the message are STS's own)."""

    def __init__(
        self, message: str, *, role_arn: Optional[str] = None, code: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> None:
        self.role_arn = role_arn
        self.code = code
        super().__init__(message, request_id=request_id)


def _as_whom(acting_as: Optional[str]) -> str:
    return f" (as {acting_as})" if acting_as else ""
