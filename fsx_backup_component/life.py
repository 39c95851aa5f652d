"""The life of an ``FsxBackup``: a random nonce the engine stores in state *before* the first
CreateBackup of that life, so that the backup's request tokens are unique to it.

Why a resource of its own: the Python dynamic host cannot record anything about a create until it
has finished, yet a retried `pulumi up` must find the backup an interrupted create started, and a
new life (after `destroy`, or when the target or triggers change and later change back) must never
adopt a backup kept from an earlier one (``retain_on_delete``, superseded backups). Nor may two stacks
with equal URNs on different backends share tokens. A nonce created by an earlier step gives all
three: the interrupted create sees the same nonce again; a new life, or another stack, a new one.

The class is pickled by reference into state (``__provider``): its import path must never change.
No AWS call is made here.
"""

from __future__ import annotations

import secrets
from typing import Any, Mapping

from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

# The one input: a digest of the backup's generation (target, region, triggers). A change of it is a
# new life.
GENERATION = "generation"
NONCE = "nonce"


class LifeProvider(ResourceProvider):
    """Provider of ``pulumi-python:dynamic/fsx-backup:Life``."""

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        return None

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({GENERATION: news.get(GENERATION)}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get(GENERATION) != news.get(GENERATION)
        return DiffResult(
            changes=changed, replaces=[GENERATION] if changed else [], stables=[NONCE], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        nonce = secrets.token_hex(16)
        return CreateResult(id_=nonce, outs={GENERATION: props.get(GENERATION), NONCE: nonce})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs={GENERATION: props.get(GENERATION), NONCE: props.get(NONCE) or id_})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={GENERATION: news.get(GENERATION), NONCE: olds.get(NONCE) or _id})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # nothing exists outside the state
