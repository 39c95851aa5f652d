"""ClientRequestToken derivation (pure): the same resource generation always asks FSx with the same
tokens.

FSx answers a repeated CreateBackup token with the backup it already made, so a `pulumi up` that the
engine re-runs after an interruption adopts the first backup instead of making a second one; every
backup also carries its token in a tag, found again after FSx forgot the token (docs/design.md).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Optional

# Model: 1-63 characters of [A-Za-z0-9_.-] (ClientRequestToken in botocore's FSx model;
# https://docs.aws.amazon.com/fsx/latest/APIReference/API_CreateBackup.html).
TOKEN_PREFIX = "fsxb-"
_DIGEST_CHARS = 40

# A token answered with a DELETED/FAILED backup moves on to the next attempt; bounded so that a broken
# service can never make the provider loop.
MAX_TOKEN_ATTEMPTS = 50


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal values always hash equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def generation_key(
    *,
    file_system_id: Optional[str],
    volume_id: Optional[str],
    triggers: Optional[Mapping[str, Any]],
    life: Optional[str] = None,
) -> str:
    """What makes a backup a new generation: its target, the user's triggers and the resource's
    life (a random nonce stored in state before the first CreateBackup of that life, so that a
    backup kept from an earlier life, or made by another stack with an equal URN, is never adopted).
    States written before lives existed have none; their tokens stay what they were."""
    material: dict[str, Any] = {"file_system_id": file_system_id, "volume_id": volume_id, "triggers": triggers or {}}
    if life:
        material["life"] = life
    return canonical_json(material)


def derive_token(resource_urn: str, generation: str, attempt: int = 0) -> str:
    """A model-valid, deterministic token for (URN, generation, attempt)."""
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    material = "\x00".join((resource_urn, generation, str(attempt))).encode("utf-8")
    return TOKEN_PREFIX + hashlib.sha256(material).hexdigest()[:_DIGEST_CHARS]


def request_tokens(resource_urn: str, generation: str) -> list[str]:
    """Every token a generation may use, in order: attempt 0, 1, ... ``MAX_TOKEN_ATTEMPTS - 1``."""
    return [derive_token(resource_urn, generation, attempt) for attempt in range(MAX_TOKEN_ATTEMPTS)]


def delete_token(backup_id: str) -> str:
    """DeleteBackup is idempotent per backup: a retried delete reuses the same token."""
    return "fsxd-" + hashlib.sha256(backup_id.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
