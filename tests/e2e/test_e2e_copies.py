"""Cross-region copies (disaster recovery) end to end: the real provider host, driven like the engine
does, against the multi-region FSx emulator (the region of each request comes from its SigV4 scope).

Covers the copy lifecycle (create, no-op, add/remove region, KMS key change, out-of-band deletion
and refresh, new generation, destroy, retain), an interrupted `up` during the copy wait, FSx's copy
limits and refusals, the preview-time checks, and copy_tags.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import pulumi
import pytest
from e2e_helpers import (
    BACKUP_TYPE,
    COMPONENT_TYPE,
    live_backups,
    make_target,
    user_backups,
    wait_for,
    write_calls,
)

from fsx_backup_component import FsxBackup
from tests.harness import plain

SOURCE_REGION = "us-east-1"
COPY_SECONDS = 0.5
BACKUP_SECONDS = 0.5
EU_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def emu(emu: Any) -> Any:
    """The e2e emulator with short backups and copies."""
    emu.set_backup_seconds(BACKUP_SECONDS)
    emu.copy_seconds = COPY_SECONDS
    return emu


def program(name: str = "dr", **kwargs: Any) -> Callable[[], None]:
    def body() -> None:
        backup = FsxBackup(name, **kwargs)
        pulumi.export("copies", backup.copies)

    return body


def sources(emu: Any, include_deleted: bool = False) -> list[dict[str, Any]]:
    """Backups taken in the source region (not copies)."""
    return [
        b for b in user_backups(emu, include_deleted)
        if not b.get("SourceBackupId") and b["ResourceARN"].split(":")[3] == SOURCE_REGION
    ]


def copies_in(emu: Any, region: Optional[str] = None, include_deleted: bool = False) -> list[dict[str, Any]]:
    return [
        b for b in emu.backups(region=region, include_deleted=include_deleted)
        if b.get("SourceBackupId")
    ]


def live_by_region(emu: Any) -> dict[str, list[str]]:
    """Region -> IDs of the live copies there."""
    found: dict[str, list[str]] = {}
    for copy in copies_in(emu):
        found.setdefault(copy["ResourceARN"].split(":")[3], []).append(copy["BackupId"])
    return found


def calls_since(emu: Any, start: int, operation: str) -> list[tuple[str, dict[str, Any]]]:
    """(region, params) of each ``operation`` request in the emulator's call_log from index ``start``."""
    return [(region, params) for _, region, op, params in emu.call_log[start:] if op == operation]


def copy_errors(run: Any) -> str:
    return "\n".join(run.errors.values())


# -------------------------------------------------------------------------------------------------
# the whole life of a backup with copies


def test_copies_follow_the_backup_through_its_life(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "openzfs")
    h = harness()

    def dr(regions: list[Any], triggers: Any = None) -> Callable[[], None]:
        return program(copy_to_regions=regions, triggers=triggers, **target)

    # -- up: the source is AVAILABLE, one AVAILABLE copy per destination, reported as outputs ----
    up = h.up(dr(["us-west-2", {"region": "eu-west-1"}])).raise_for_errors()
    urn = up.urn("dr", BACKUP_TYPE)
    (source,) = sources(emu)
    assert source["Lifecycle"] == "AVAILABLE"
    assert sorted(live_by_region(emu)) == ["eu-west-1", "us-west-2"]
    for region in ("us-west-2", "eu-west-1"):
        (copy,) = copies_in(emu, region, include_deleted=True)
        assert copy["Lifecycle"] == "AVAILABLE"
        assert (copy["SourceBackupId"], copy["SourceBackupRegion"]) == (source["BackupId"], SOURCE_REGION)
        assert copy["ResourceARN"].startswith(f"arn:aws:fsx:{region}:")
    outputs = up.outputs_of("dr", COMPONENT_TYPE)
    assert outputs["backup_id"] == source["BackupId"]
    reported = {c["region"]: c for c in outputs["copies"]}
    assert [c["region"] for c in outputs["copies"]] == ["us-west-2", "eu-west-1"]
    for region, entry in reported.items():
        (copy,) = copies_in(emu, region)
        assert (entry["backup_id"], entry["backup_arn"], entry["lifecycle"]) == (
            copy["BackupId"], copy["ResourceARN"], "AVAILABLE"
        )
        assert entry["kms_key_id"] == copy["KmsKeyId"]
    assert up.stack_outputs["copies"] == outputs["copies"]
    # The engine heard of the resource only once every copy was AVAILABLE.
    created = [
        e for e in up.events if e.kind == "rpc" and e.name == "Create" and e.phase == "end" and e.urn == urn
    ]
    (create_end,) = created
    for copy in copies_in(emu):
        assert create_end.wall >= copy["CreationTime"] + COPY_SECONDS, (create_end.wall, copy)

    # -- second up: nothing to do ----------------------------------------------------------------
    writes = write_calls(emu)
    same = h.up(dr(["us-west-2", {"region": "eu-west-1"}])).raise_for_errors()
    assert same.ops[urn] == "same"
    assert write_calls(emu) == writes

    # -- add a region: an in-place update that copies only there -----------------------------------
    mark = len(emu.call_log)
    more = h.up(dr(["us-west-2", {"region": "eu-west-1"}, "ap-northeast-1"])).raise_for_errors()
    assert more.ops[urn] == "update"
    assert [region for region, _ in calls_since(emu, mark, "CopyBackup")] == ["ap-northeast-1"]
    assert not calls_since(emu, mark, "CreateBackup") and not calls_since(emu, mark, "DeleteBackup")
    (added,) = copies_in(emu, "ap-northeast-1")
    assert added["Lifecycle"] == "AVAILABLE" and added["SourceBackupId"] == source["BackupId"]
    assert [c["region"] for c in more.outputs_of("dr", COMPONENT_TYPE)["copies"]] == [
        "us-west-2", "eu-west-1", "ap-northeast-1"
    ]

    # -- remove a region: an in-place update that deletes only that copy -----------------------------
    (eu_copy,) = copies_in(emu, "eu-west-1")
    mark = len(emu.call_log)
    fewer = h.up(dr(["us-west-2", "ap-northeast-1"])).raise_for_errors()
    assert fewer.ops[urn] == "update"
    assert [(r, p["BackupId"]) for r, p in calls_since(emu, mark, "DeleteBackup")] == [("eu-west-1", eu_copy["BackupId"])]
    assert not calls_since(emu, mark, "CopyBackup") and not calls_since(emu, mark, "CreateBackup")
    assert sorted(live_by_region(emu)) == ["ap-northeast-1", "us-west-2"]
    assert [c["region"] for c in fewer.outputs_of("dr", COMPONENT_TYPE)["copies"]] == ["us-west-2", "ap-northeast-1"]

    # -- a copy deleted out of band: refresh drops it, the next up copies again (exactly once) ------
    (west_copy,) = copies_in(emu, "us-west-2")
    emu.delete_backup_out_of_band(west_copy["BackupId"])
    h.refresh().raise_for_errors()
    assert urn in h.state.resources, "the source still exists: the resource stays"
    # (stored encrypted: `copies` derives from `copy_to_regions`, see component.DERIVED_OUTPUT_SOURCES)
    assert [c["region"] for c in plain(h.state.resources[urn].outputs["copies"])] == ["ap-northeast-1"]
    mark = len(emu.call_log)
    again = h.up(dr(["us-west-2", "ap-northeast-1"])).raise_for_errors()
    assert again.ops[urn] == "update"
    assert {region for region, _ in calls_since(emu, mark, "CopyBackup")} == {"us-west-2"}
    assert len(copies_in(emu, "us-west-2", include_deleted=True)) == 2  # the deleted one + exactly one new
    (recopied,) = copies_in(emu, "us-west-2")
    assert recopied["BackupId"] != west_copy["BackupId"] and recopied["Lifecycle"] == "AVAILABLE"
    assert {c["region"]: c["backup_id"] for c in again.outputs_of("dr", COMPONENT_TYPE)["copies"]} == {
        "us-west-2": recopied["BackupId"], "ap-northeast-1": added["BackupId"]
    }

    # -- a new KMS key for a region replaces just that copy -----------------------------------------
    mark = len(emu.call_log)
    rekeyed = h.up(dr([{"region": "us-west-2", "kms_key_id": "alias/dr"}, "ap-northeast-1"])).raise_for_errors()
    assert rekeyed.ops[urn] == "update"
    assert [(r, p["BackupId"]) for r, p in calls_since(emu, mark, "DeleteBackup")] == [("us-west-2", recopied["BackupId"])]
    assert [(r, p.get("KmsKeyId")) for r, p in calls_since(emu, mark, "CopyBackup")] == [("us-west-2", "alias/dr")]
    (keyed,) = copies_in(emu, "us-west-2")
    assert keyed["KmsKeyId"] == "arn:aws:kms:us-west-2:123456789012:alias/dr"

    # -- new generation (triggers): new backup and new copies first, then the old ones go -----------
    old_ids = {source["BackupId"], keyed["BackupId"], added["BackupId"]}
    mark = len(emu.call_log)
    replaced = h.up(dr([{"region": "us-west-2", "kms_key_id": "alias/dr"}, "ap-northeast-1"], {"v": 2})).raise_for_errors()
    assert replaced.ops[urn] == "replace"
    (new_source,) = sources(emu)
    new_copies = {c["BackupId"] for c in copies_in(emu)}
    assert new_source["BackupId"] not in old_ids and not new_copies & old_ids
    assert sorted(live_by_region(emu)) == ["ap-northeast-1", "us-west-2"]
    assert all(c["SourceBackupId"] == new_source["BackupId"] for c in copies_in(emu))
    ops = [(region, op, params.get("BackupId")) for _, region, op, params in emu.call_log[mark:]
           if op in ("CreateBackup", "CopyBackup", "DeleteBackup")]
    last_copy = max(i for i, o in enumerate(ops) if o[1] == "CopyBackup")
    deletes = [i for i, o in enumerate(ops) if o[1] == "DeleteBackup"]
    assert ops[0][1] == "CreateBackup" and deletes and min(deletes) > last_copy, ops
    assert {o[2] for o in ops if o[1] == "DeleteBackup"} == old_ids
    assert ops[-1] == (SOURCE_REGION, "DeleteBackup", source["BackupId"]), "copies are deleted before their source"
    assert not h.state.pending_deletes

    # -- destroy: copies, then the source; nothing left in any region --------------------------------
    mark = len(emu.call_log)
    h.destroy().raise_for_errors()
    assert h.state.resources == {}
    assert live_backups(emu) == []
    deleted = [(r, p["BackupId"]) for r, p in calls_since(emu, mark, "DeleteBackup")]
    assert len(deleted) == 3 and deleted[-1] == (SOURCE_REGION, new_source["BackupId"]), "copies first, then the source"


def test_retain_on_delete_keeps_the_backup_and_its_copies(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(program(copy_to_regions=["us-west-2", "eu-west-1"], retain_on_delete=True,
                        **make_target(emu, "windows")))
    h.up().raise_for_errors()
    kept = {b["BackupId"] for b in live_backups(emu)}
    assert len(kept) == 3

    h.destroy().raise_for_errors()

    assert h.state.resources == {}
    assert {b["BackupId"] for b in live_backups(emu)} == kept
    assert emu.calls["DeleteBackup"] == 0


# -------------------------------------------------------------------------------------------------
# interruption


def test_interrupted_up_during_the_copy_wait_adopts_the_same_copies(emu: Any, harness: Callable[..., Any]) -> None:
    emu.copy_seconds = 2.0  # the kill lands while both copies are COPYING
    h = harness(program(copy_to_regions=["us-west-2", "eu-west-1"], **make_target(emu, "openzfs")))
    h.kill_on_emulator_call("CopyBackup", 2)  # both copies started, the provider is waiting on them

    first = h.up()

    assert not first.ok
    urn = first.urn("dr", BACKUP_TYPE)
    assert first.rpcs("Create", urn)[0].interrupted
    assert urn not in h.state.resources
    wait_for(lambda: len(copies_in(emu, include_deleted=True)) == 2, "both copies started before the kill")
    started = {c["BackupId"] for c in copies_in(emu)}
    assert all(c["Lifecycle"] == "COPYING" for c in copies_in(emu))

    second = h.up().raise_for_errors()

    assert len(sources(emu, include_deleted=True)) == 1
    for region in ("us-west-2", "eu-west-1"):
        (copy,) = copies_in(emu, region, include_deleted=True)
        assert copy["Lifecycle"] == "AVAILABLE"
    assert {c["BackupId"] for c in copies_in(emu)} == started
    assert {c["backup_id"] for c in second.outputs_of("dr", COMPONENT_TYPE)["copies"]} == started


# -------------------------------------------------------------------------------------------------
# FSx's copy limits and refusals


def test_a_sixth_concurrent_copy_into_one_region_waits_instead_of_failing(emu: Any, harness: Callable[..., Any]) -> None:
    """5 copies in progress per destination region: the sixth is answered ServiceLimitExceeded
    (TOTAL_IN_PROGRESS_COPY_BACKUPS) and must wait for a free slot, then succeed."""
    emu.copy_seconds = 3.0  # > the spread of the six sources' completion: 5 copies are in progress at once
    targets = [make_target(emu, "openzfs") for _ in range(6)]

    def six() -> None:
        for n, target in enumerate(targets):
            FsxBackup(f"dr{n}", copy_to_regions=["us-west-2"], **target)

    up = harness(six).up().raise_for_errors()

    assert len([r for r in up.rpcs("Create") if BACKUP_TYPE in r.urn]) == 6
    made = copies_in(emu, "us-west-2", include_deleted=True)
    assert len(made) == 6 and all(c["Lifecycle"] == "AVAILABLE" for c in made)
    requests = calls_since(emu, 0, "CopyBackup")
    tokens = {p["ClientRequestToken"] for _, p in requests}
    assert len(tokens) == 6
    assert len(requests) > 6, "no CopyBackup was refused for the 5-in-progress limit"
    # The refused copy started only once a slot was free: never more than 5 COPYING at a time.
    starts = sorted(c["CreationTime"] for c in made)
    assert starts[5] >= starts[0] + emu.copy_seconds


@pytest.mark.parametrize("case", ["InvalidDestinationKmsKey", "IncompatibleRegionForMultiAZ", "opt-in-region"])
def test_refused_copies_are_clear_copy_to_regions_errors(case: str, emu: Any, harness: Callable[..., Any]) -> None:
    destination: Any
    if case == "InvalidDestinationKmsKey":
        emu.mark_kms_key_invalid(EU_KEY, "eu-west-1")
        destination, target, says = {"region": "eu-west-1", "kms_key_id": EU_KEY}, make_target(emu, "openzfs"), (
            "eu-west-1", "KMS key of the destination region")
    elif case == "IncompatibleRegionForMultiAZ":
        emu.regions_without_multi_az.add("eu-west-1")
        target = {"file_system_id": emu.add_file_system("WINDOWS", deployment_type="MULTI_AZ_1")}
        destination, says = "eu-west-1", ("eu-west-1", "Multi-AZ")
    else:
        destination, target, says = "af-south-1", make_target(emu, "openzfs"), ("af-south-1", "opt-in")
    h = harness(program(copy_to_regions=[destination], **target))

    preview = h.preview()
    assert preview.ok, "nothing wrong is knowable at preview"

    up = h.up()

    assert not up.ok
    urn = up.urn("dr", BACKUP_TYPE)
    message = up.errors[urn]
    assert "copy_to_regions: FSx refused to copy" in message, message
    code = "UnsupportedOperation" if case == "opt-in-region" else case
    assert code in message
    for text in says:
        assert text.lower() in message.lower(), (text, message)
    assert copies_in(emu, include_deleted=True) == []


def test_a_refused_destination_leaves_no_copy_behind(emu: Any, harness: Callable[..., Any]) -> None:
    emu.mark_kms_key_invalid(EU_KEY, "eu-west-1")
    h = harness(program(copy_to_regions=["us-west-2", {"region": "eu-west-1", "kms_key_id": EU_KEY}],
                        **make_target(emu, "openzfs")))
    up = h.up()
    assert not up.ok and "InvalidDestinationKmsKey" in copy_errors(up)
    assert h.state.resources.get(up.urn("dr", BACKUP_TYPE)) is None
    assert live_by_region(emu) == {}, "a copy is left behind, in no stack"


PREVIEW_CASES = {
    "other-partition": (["cn-north-1"], ("cn-north-1", "partition")),
    "duplicated-region": (["us-west-2", {"region": "us-west-2"}], ("us-west-2", "listed twice")),
    "kms-key-of-another-region": (
        [{"region": "us-west-2", "kms_key_id": EU_KEY}], ("us-west-2", "eu-west-1", "key of")
    ),
    # A well-formed region botocore does not know is a warning (it may be newer); a zone is refused.
    "not-a-region": (["us-west-2a"], ("us-west-2a", "not a region name such as us-west-2")),
}


@pytest.mark.parametrize("case", sorted(PREVIEW_CASES))
def test_preview_refuses_bad_destinations_without_any_write(case: str, emu: Any, harness: Callable[..., Any]) -> None:
    regions, says = PREVIEW_CASES[case]
    h = harness(program(copy_to_regions=regions, **make_target(emu, "openzfs")))

    for run in (h.preview(), h.up()):
        assert not run.ok
        urn = run.urn("dr", BACKUP_TYPE)
        failures = run.check_failures[urn]
        assert {f.property for f in failures} == {"copy_to_regions"}, failures
        reasons = " ".join(f.reason for f in failures)
        for text in says:
            assert text in reasons, (text, reasons)
        assert set(run.methods()) <= {"Configure", "Check"}
    assert write_calls(emu) == {}
    assert emu.calls["CopyBackup"] == 0 and emu.calls["CreateBackup"] == 0
    assert h.state.resources == {} or all(not r.dynamic for r in h.state.resources.values())


# -------------------------------------------------------------------------------------------------
# copy_tags


def test_copy_tags_true_copies_the_backup_tags_and_false_does_not(emu: Any, harness: Callable[..., Any]) -> None:
    with_tags, without = make_target(emu, "openzfs"), make_target(emu, "openzfs")

    def two() -> None:
        FsxBackup("tagged", tags={"team": "dr"}, copy_to_regions=["us-west-2"], copy_tags=True, **with_tags)
        FsxBackup("untagged", tags={"team": "dr"}, copy_to_regions=["us-west-2"], copy_tags=False, **without)

    up = harness(two).up().raise_for_errors()

    by_id = {c["BackupId"]: c for c in copies_in(emu, "us-west-2")}
    tagged = by_id[up.outputs_of("tagged", COMPONENT_TYPE)["copies"][0]["backup_id"]]
    untagged = by_id[up.outputs_of("untagged", COMPONENT_TYPE)["copies"][0]["backup_id"]]
    assert {t["Key"]: t["Value"] for t in tagged.get("Tags", [])}.get("team") == "dr"
    assert "team" not in {t["Key"] for t in untagged.get("Tags", [])}
    requests = {p["SourceBackupId"]: p["CopyTags"] for _, p in calls_since(emu, 0, "CopyBackup")}
    assert requests == {tagged["SourceBackupId"]: True, untagged["SourceBackupId"]: False}


def test_a_copy_deleted_out_of_band_is_made_again_after_a_copy_tags_change(
    emu: Any, harness: Callable[..., Any]
) -> None:
    target = make_target(emu, "openzfs")
    h = harness()
    h.up(program(copy_to_regions=["us-west-2"], copy_tags=True, **target)).raise_for_errors()
    (copy,) = copies_in(emu, "us-west-2")
    emu.delete_backup_out_of_band(copy["BackupId"])
    h.refresh().raise_for_errors()

    again = h.up(program(copy_to_regions=["us-west-2"], copy_tags=False, **target))

    assert again.ok, copy_errors(again)
    (fresh,) = copies_in(emu, "us-west-2")
    assert fresh["BackupId"] != copy["BackupId"]


def test_copies_of_a_source_deleted_out_of_band_stay_managed(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(program(copy_to_regions=["us-west-2"], **make_target(emu, "openzfs")))
    h.up().raise_for_errors()
    (source,) = sources(emu)
    (old_copy,) = copies_in(emu, "us-west-2")
    emu.delete_backup_out_of_band(source["BackupId"])
    h.refresh().raise_for_errors()
    h.up().raise_for_errors()

    h.destroy().raise_for_errors()

    assert h.state.resources == {}
    assert live_backups(emu) == [], f"{old_copy['BackupId']} is left in us-west-2, in no stack"


# -------------------------------------------------------------------------------------------------
# kills while copies are in flight (the reliability campaign covers create/update/delete of the
# source; these add the copy phase)


@pytest.mark.parametrize("count", [1, 2], ids=["first-CopyBackup", "second-CopyBackup"])
def test_killed_while_copying_converges_without_duplicates(emu: Any, harness: Callable[..., Any], count: int) -> None:
    h = harness(program(copy_to_regions=["us-west-2", "eu-west-1"], **make_target(emu, "openzfs")))
    h.kill_on_emulator_call("CopyBackup", count)
    assert not h.up().ok, "the kill did not happen"

    up = h.up().raise_for_errors()
    again = h.up().raise_for_errors()

    assert not {m for m in again.methods() if m in ("Create", "Update", "Delete")}, "the stack did not converge"
    assert len(sources(emu, include_deleted=True)) == 1
    for region in ("us-west-2", "eu-west-1"):
        assert len(copies_in(emu, region, include_deleted=True)) == 1, f"{region}: duplicate copy"
    copies = up.outputs_of("dr", COMPONENT_TYPE)["copies"]
    assert sorted(c["region"] for c in copies) == ["eu-west-1", "us-west-2"]
    assert {c["lifecycle"] for c in copies} == {"AVAILABLE"}


def test_killed_while_destroying_copies_leaves_nothing_behind(emu: Any, harness: Callable[..., Any]) -> None:
    h = harness(program(copy_to_regions=["us-west-2", "eu-west-1"], **make_target(emu, "openzfs")))
    h.up().raise_for_errors()
    h.kill_on_emulator_call("DeleteBackup", 2)  # one copy deleted, the other not yet
    assert not h.destroy().ok, "the kill did not happen"

    h.destroy().raise_for_errors()

    assert h.state.resources == {}
    assert live_backups(emu) == [] and live_by_region(emu) == {}
