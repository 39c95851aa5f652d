"""The error type the emulator raises internally and serialises as an awsJson1_1 error."""

from __future__ import annotations

from typing import Any

__all__ = ["FsxError"]


class FsxError(Exception):
    """An FSx API error: ``code`` becomes ``__type``; ``members`` are the modeled extra fields
    (e.g. ``Parameter``, ``Limit``, ``BackupId``) placed at the top level of the body (docs/emulator.md §0).
    ``message_key``: FSx's modeled errors carry ``Message``; the front end's own refusals
    (MissingAuthenticationTokenException...) carry a lowercase ``message``."""

    def __init__(
        self, code: str, message: str, status: int = 400, *, message_key: str = "Message", **members: Any
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.message_key = message_key
        self.members = members

    def body(self) -> dict[str, Any]:
        return {"__type": self.code, self.message_key: self.message, **self.members}
