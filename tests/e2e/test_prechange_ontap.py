"""PreChangeBackup on a whole ONTAP file system (issue 23): FSx backs up ONTAP volumes only, so a guard
on an `aws.fsx.OntapFileSystem` backs up every volume FSx can back up before the change, each with
tokens of its own, and prunes per volume; a file system with no such volume fails the preview."""

from __future__ import annotations

from typing import Any, Callable, Optional

import pulumi
import pulumi_aws as aws

from fsx_backup_component import PreChangeBackup
from fsx_backup_component.prechange import GUARD_TAG_KEY

ONTAP = "aws:fsx/ontapFileSystem:OntapFileSystem"


def ontap_program(capacity: int, *, keep_last: Optional[int] = None) -> Callable[[], None]:
    def program() -> None:
        guard = PreChangeBackup("guard", keep_last=keep_last)
        aws.fsx.OntapFileSystem(
            "ontap",
            storage_capacity=capacity,
            subnet_ids=["subnet-0123456789abcdef0"],
            preferred_subnet_id="subnet-0123456789abcdef0",
            deployment_type="SINGLE_AZ_1",
            throughput_capacity=512,
            opts=pulumi.ResourceOptions(hooks=guard.hooks),
        )

    return program


def guard_backups(emu: Any) -> list[dict[str, Any]]:
    return [
        b for b in emu.backups()
        if b["Type"] == "USER_INITIATED" and any(t["Key"] == GUARD_TAG_KEY for t in b.get("Tags") or [])
    ]


def fs_id_of(h: Any) -> str:
    return next(r.id for r in h.state.resources.values() if r.type == ONTAP)


def test_every_volume_fsx_can_back_up_is_backed_up_before_the_change_and_pruned_per_volume(
    emu: Any, harness: Callable[..., Any]
) -> None:
    emu.page_size = 2  # DescribeVolumes answers in pages: every page is read
    h = harness()
    h.up(ontap_program(1024, keep_last=1)).raise_for_errors()
    fs = fs_id_of(h)
    data = [emu.add_volume(fs, name=f"data{i}", ontap_volume_type="RW") for i in range(3)]
    skipped = [
        emu.add_volume(fs, name="mirror", ontap_volume_type="DP"),
        emu.add_volume(fs, name="svm_root", ontap_volume_type="RW", storage_virtual_machine_root=True),
    ]

    grow = h.up(ontap_program(2048, keep_last=1)).raise_for_errors()

    assert grow.op_of("ontap", ONTAP) == "update"
    first = {b["Volume"]["VolumeId"]: b["BackupId"] for b in guard_backups(emu)}
    assert sorted(first) == sorted(data), "one backup per RW data volume; not the DP nor the SVM root volume"
    assert not set(first) & set(skipped)
    tokens = [params["ClientRequestToken"] for _, _, op, params in emu.call_log if op == "CreateBackup"]
    assert len(tokens) == len(set(tokens)) == len(data), "each volume asks with tokens of its own, once"

    h.up(ontap_program(3072, keep_last=1)).raise_for_errors()
    second = {b["Volume"]["VolumeId"]: b["BackupId"] for b in guard_backups(emu)}
    assert sorted(second) == sorted(data), "keep_last=1 keeps one backup per volume"
    assert not set(second.values()) & set(first.values()), "each change takes a fresh backup of each volume"


def test_a_guarded_ontap_file_system_with_no_volume_fsx_can_back_up_fails_the_preview(
    emu: Any, harness: Callable[..., Any]
) -> None:
    h = harness()
    h.up(ontap_program(1024)).raise_for_errors()
    mirror = emu.add_volume(fs_id_of(h), name="mirror", ontap_volume_type="DP")

    preview = h.preview(ontap_program(2048))

    assert not preview.ok
    text = preview.error_text()
    assert "no volume FSx can back up" in text and mirror in text and "DP" in text, text
    assert guard_backups(emu) == [] and emu.calls["CreateBackup"] == 0
