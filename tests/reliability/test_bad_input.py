"""Guarantee: bad input is refused at `pulumi preview`, with a message naming the property and the
valid form, before any write call.

The table below is THE table: docs/guarantees.md carries the same rows (rendered by
``markdown_table()``; test_guarantees_doc.py fails when they drift apart).

All cases are declared in one program and previewed once through the real provider host (one
process, as `pulumi preview` of a stack with many resources); each case is then judged on its own
resource. `up` of the same program is refused the same way, still without a write call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from reliability_helpers import (
    BACKUP_TYPE,
    RPC_TIMEOUT,
    RUN_TIMEOUT,
    WRITE_OPERATIONS,
    user_backups,
)

from fsx_backup_component import FsxBackup
from fsx_backup_component.testing import FsxEmulator
from tests.harness import Harness

KMS_KEY_OF_US_EAST_1 = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

Seed = Callable[[FsxEmulator], dict[str, Any]]  # emulator -> FsxBackup kwargs


@dataclass(frozen=True)
class Bad:
    id: str
    given: str  # what the user wrote, for the table
    seed: Seed
    property: str
    says: tuple[str, ...]  # the message must contain each (case-insensitive): what is wrong, what is valid


def _fs(fs_type: str, deployment: str | None = None, **extra: Any) -> Seed:
    return lambda emu: {"file_system_id": emu.add_file_system(fs_type, deployment_type=deployment, **extra)}


def _good_fs(emu: FsxEmulator) -> str:
    return emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")


def _with(**kwargs: Any) -> Seed:
    """A valid target plus ``kwargs`` (the bad part)."""
    return lambda emu: {"file_system_id": _good_fs(emu), **kwargs}


def _lustre_dra(emu: FsxEmulator) -> dict[str, Any]:
    fs = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    emu.add_data_repository_association(fs, data_repository_path="s3://bucket/prefix")
    return {"file_system_id": fs}


def _ontap_fs(emu: FsxEmulator) -> dict[str, Any]:
    fs = emu.add_file_system("ONTAP")
    emu.add_volume(fs, ontap_volume_type="RW")
    return {"file_system_id": fs}


def _volume(**options: Any) -> Seed:
    return lambda emu: {"volume_id": emu.add_volume(emu.add_file_system("ONTAP"), **options)}


def _openzfs_volume(emu: FsxEmulator) -> dict[str, Any]:
    return {"volume_id": emu.add_volume(emu.add_file_system("OPENZFS"), name="child")}


def _both(emu: FsxEmulator) -> dict[str, Any]:
    return {"file_system_id": _good_fs(emu), "volume_id": emu.add_volume(emu.add_file_system("ONTAP"))}


ID_FORM = ("not a file system ID", "`fs-` followed by 8 to 18 lowercase hex digits")
VOLUME_ID_FORM = ("not a volume ID", "`fsvol-` followed by 17 lowercase hex digits")
ONE_TARGET = ("give exactly one target", "`file_system_id`/`file_system`", "`volume_id`/`volume`")
TAG_CHARACTERS = ("characters FSx refuses", "letters, digits, spaces and _ . : / = + - @")
NOT_AVAILABLE = ("FSx backs up file systems that are AVAILABLE",)

CASES: list[Bad] = [
    # -- targets ------------------------------------------------------------------------------
    Bad("fs-id-malformed", "`file_system_id=\"fs-12\"`", lambda emu: {"file_system_id": "fs-12"}, "file_system_id", ("'fs-12'", *ID_FORM)),
    Bad("fs-id-uppercase", "`file_system_id=\"fs-0123456789ABCDEF0\"`", lambda emu: {"file_system_id": "fs-0123456789ABCDEF0"}, "file_system_id", ID_FORM),
    Bad("volume-id-malformed", "`volume_id=\"fsvol-123\"`", lambda emu: {"volume_id": "fsvol-123"}, "volume_id", ("'fsvol-123'", *VOLUME_ID_FORM)),
    Bad("fs-id-nonexistent", "an `fs-` ID that does not exist", lambda emu: {"file_system_id": "fs-0123456789abcdef9"}, "file_system_id", ("fs-0123456789abcdef9 was not found in region us-east-1",)),
    Bad("volume-id-nonexistent", "an `fsvol-` ID that does not exist", lambda emu: {"volume_id": "fsvol-0123456789abcdef9"}, "volume_id", ("fsvol-0123456789abcdef9 was not found in region us-east-1",)),
    Bad("both-targets", "a file system and a volume", _both, "file_system_id", (*ONE_TARGET, "not both")),
    Bad("no-target", "no target at all", lambda emu: {}, "file_system_id", ONE_TARGET),
    Bad("lustre-scratch-1", "Lustre SCRATCH_1", _fs("LUSTRE", "SCRATCH_1"), "file_system_id", ("SCRATCH_1", "cannot back up scratch", "PERSISTENT_1 / PERSISTENT_2")),
    Bad("lustre-scratch-2", "Lustre SCRATCH_2", _fs("LUSTRE", "SCRATCH_2"), "file_system_id", ("SCRATCH_2", "cannot back up scratch", "PERSISTENT_1 / PERSISTENT_2")),
    Bad("lustre-import-path", "Lustre with ImportPath", _fs("LUSTRE", "PERSISTENT_1", import_path="s3://bucket/in"), "file_system_id", ("linked to an S3 data repository (s3://bucket/in)", "without ImportPath/ExportPath")),
    Bad("lustre-export-path", "Lustre with ExportPath", _fs("LUSTRE", "PERSISTENT_1", export_path="s3://bucket/out"), "file_system_id", ("linked to an S3 data repository (s3://bucket/out)", "without ImportPath/ExportPath")),
    Bad("lustre-dra", "Lustre with a data repository association", _lustre_dra, "file_system_id", ("1 data repository association", "Remove the associations")),
    Bad("ontap-file-system", "an ONTAP file system (not a volume)", _ontap_fs, "file_system_id", ("ONTAP file system", "Pass the volume instead (`volume_id=` or `volume=`)")),
    Bad("ontap-dp-volume", "an ONTAP DP volume", _volume(ontap_volume_type="DP"), "volume_id", ("ONTAP DP volume", "read-write (RW) volumes only")),
    Bad("ontap-ls-volume", "an ONTAP LS volume", _volume(ontap_volume_type="LS"), "volume_id", ("ONTAP LS volume", "read-write (RW) volumes only")),
    Bad("flexcache-cache", "a FlexCache cache volume", _volume(flexcache_endpoint_type="CACHE"), "volume_id", ("FlexCache cache volume", "Back up the origin volume")),
    Bad("openzfs-volume", "an OpenZFS volume (not the file system)", _openzfs_volume, "volume_id", ("OpenZFS volume", "Pass the file system")),
    *[
        Bad(f"fs-{state.lower()}", f"a file system that is {state}", _fs("WINDOWS", lifecycle=state), "file_system_id", (f"is {state}", *NOT_AVAILABLE))
        for state in ("CREATING", "DELETING", "FAILED", "MISCONFIGURED")
    ],
    # -- tags ---------------------------------------------------------------------------------
    Bad("tags-too-many", "50 tags", _with(tags={f"k{i}": "v" for i in range(50)}), "tags", ("50 tags given", "at most 49")),
    Bad("tag-key-too-long", "a 129-character key", _with(tags={"k" * 129: "v"}), "tags", ("must be 1 to 128 characters",)),
    Bad("tag-value-too-long", "a 257-character value", _with(tags={"team": "v" * 257}), "tags", ("257 characters", "at most 256")),
    Bad("tag-key-characters", "key `team#1`", _with(tags={"team#1": "data"}), "tags", ("'team#1'", *TAG_CHARACTERS)),
    Bad("tag-value-characters", "value `a;b`", _with(tags={"team": "a;b"}), "tags", ("value of 'team'", *TAG_CHARACTERS)),
    Bad("tag-aws-prefix", "key `aws:createdBy`", _with(tags={"aws:createdBy": "me"}), "tags", ("'aws:createdBy'", "reserved prefix `aws:`")),
    # -- deadline -----------------------------------------------------------------------------
    Bad("timeout-zero", "`timeout_seconds=0`", _with(timeout_seconds=0), "timeout_seconds", ("must be positive", "default is 7200")),
    Bad("timeout-negative", "`timeout_seconds=-5`", _with(timeout_seconds=-5), "timeout_seconds", ("must be positive, got -5",)),
    Bad("timeout-absurd", "`timeout_seconds=10**9` (milliseconds?)", _with(timeout_seconds=10**9), "timeout_seconds", ("more than 604800 (7 days)", "give the deadline in seconds")),
    # -- region -------------------------------------------------------------------------------
    Bad("region-malformed", "`region=\"moon-base\"`", _with(region="moon-base"), "region", ("'moon-base' is not an AWS region name such as us-east-1",)),
    # A well-formed region botocore does not know is a warning, not a refusal (a newer region).
    Bad("region-zone", "`region=\"us-east-1a\"` (a zone)", _with(region="us-east-1a"), "region", ("'us-east-1a' is not an AWS region name such as us-east-1",)),
    # -- copy_to_regions ----------------------------------------------------------------------
    Bad("copy-other-partition", "`copy_to_regions=[\"cn-north-1\"]`", _with(copy_to_regions=["cn-north-1"]), "copy_to_regions", ("partition aws-cn", "within one partition")),
    Bad("copy-duplicated", "`copy_to_regions=[\"us-west-2\", \"us-west-2\"]`", _with(copy_to_regions=["us-west-2", "us-west-2"]), "copy_to_regions", ("us-west-2 is listed twice", "one copy per region")),
    Bad("copy-kms-other-region", "a us-east-1 KMS key for a us-west-2 copy", _with(copy_to_regions=[{"region": "us-west-2", "kms_key_id": KMS_KEY_OF_US_EAST_1}]), "copy_to_regions", ("is a key of us-east-1", "give a key of us-west-2")),
]


# -- a preview (and an up) of every case --------------------------------------------------------
# One stack per case: like the engine, the harness stops a run at its first failed step, so one
# program holding every case would report only the first refusals.


@dataclass
class Refused:
    preview: Any
    up: Any
    harness: Harness


@dataclass
class Table:
    emu: FsxEmulator
    runs: dict[str, Refused]
    writes_after_previews: dict[str, int]
    writes_after_ups: dict[str, int]


def _writes(emu: FsxEmulator) -> dict[str, int]:
    return {op: n for op, n in emu.calls.items() if op in WRITE_OPERATIONS and n}


@pytest.fixture(scope="module")
def table() -> Iterator[Table]:
    with FsxEmulator(port=0, backup_seconds=1.0) as emu:
        kwargs = {case.id: case.seed(emu) for case in CASES}
        harnesses = {
            case.id: Harness(
                lambda case=case: FsxBackup(case.id, **kwargs[case.id]),
                emulator=emu, stack=f"bad-{case.id}", rpc_timeout=RPC_TIMEOUT, run_timeout=RUN_TIMEOUT,
            )
            for case in CASES
        }
        try:
            previews = {case_id: h.preview() for case_id, h in harnesses.items()}
            after_previews = _writes(emu)
            # The preview above is the one `up` would run first: skip the second one.
            ups = {case_id: h.up(skip_preview=True) for case_id, h in harnesses.items()}
            runs = {case_id: Refused(previews[case_id], ups[case_id], h) for case_id, h in harnesses.items()}
            yield Table(emu, runs, after_previews, _writes(emu))
        finally:
            for h in harnesses.values():
                h.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused_at_preview_naming_property_and_valid_form(case: Bad, table: Table) -> None:
    run = table.runs[case.id]
    urn = run.preview.urn(case.id, BACKUP_TYPE)
    failures = run.preview.check_failures.get(urn)
    assert failures, f"{case.id} was not refused at preview: {run.preview.ops.get(urn)}"
    assert {f.property for f in failures} == {case.property}, failures
    message = " | ".join(f.reason for f in failures).lower()
    for needle in case.says:
        assert needle.lower() in message, f"{needle!r} not in {message!r}"
    assert not run.preview.rpcs("Create", urn) and not run.preview.rpcs("Update", urn)
    # `up` refuses it the same way (in its preview pass), before any provider write.
    refused_by = run.up.preview_result or run.up
    assert urn in refused_by.check_failures and not run.up.rpcs("Create", urn)


def test_no_write_call_and_nothing_in_state(table: Table, ledger: Any) -> None:
    assert table.writes_after_previews == {}, "preview made a write call"
    assert table.writes_after_ups == {}, "up of refused inputs made a write call"
    for run in table.runs.values():
        assert set(run.preview.methods()) <= {"Configure", "Check"}
        assert not [r for r in run.harness.state.resources.values() if r.type == BACKUP_TYPE]
    assert user_backups(table.emu, include_deleted=True) == []
    assert sum(len(run.preview.check_failures) for run in table.runs.values()) == len(CASES)
    ledger.record("bad-input", cases=len(CASES), write_calls=sum(table.writes_after_ups.values()))


# -- the same table in docs/guarantees.md -------------------------------------------------------


def markdown_table() -> str:
    rows = ["| case | input | refused on | the message says |", "|---|---|---|---|"]
    for case in CASES:
        says = " … ".join(f"`{s}`" if "`" not in s else s for s in case.says)
        rows.append(f"| {case.id} | {case.given} | `{case.property}` | {says} |")
    return "\n".join(rows)
