"""The error type the emulator raises internally and serialises as an awsJson1_1 error."""

from __future__ import annotations

from typing import Any

__all__ = ["FsxError"]


class FsxError(Exception):
    """An FSx API error: ``code`` becomes ``__type``; ``members`` are the modeled extra fields
    (e.g. ``Parameter``, ``Limit``, ``BackupId``) placed at the top level of the body (reference §0)."""

    def __init__(self, code: str, message: str, status: int = 400, **members: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.members = members

    def body(self) -> dict[str, Any]:
        return {"__type": self.code, "Message": self.message, **self.members}
