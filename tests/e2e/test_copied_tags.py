"""A backup made without `tags` carries the tags FSx would have copied from its target
(CopyTagsToBackups), read for many concurrent creates in one description per 50 targets, through
the real provider host."""

from __future__ import annotations

from typing import Any, Callable

from e2e_helpers import user_backups

from fsx_backup_component import FsxBackup


def test_backups_without_tags_carry_their_own_volumes_copied_tags(emu: Any, harness: Callable[..., Any]) -> None:
    fs_id = emu.add_file_system("ONTAP", deployment_type="SINGLE_AZ_1")
    volumes = [
        emu.add_volume(fs_id, name=f"vol{n}", tags={"app": f"app-{n}"}, copy_tags_to_backups=n % 2 == 0)
        for n in range(12)
    ]

    def program() -> None:
        for n, volume_id in enumerate(volumes):
            FsxBackup(f"b{n}", volume_id=volume_id)

    emu.reset_counters()
    h = harness(program, parallel=64)
    h.up().raise_for_errors()

    by_volume = {b["Volume"]["VolumeId"]: {t["Key"]: t["Value"] for t in b.get("Tags") or []} for b in user_backups(emu)}
    assert sorted(by_volume) == sorted(volumes)
    for n, volume_id in enumerate(volumes):
        copied = {k: v for k, v in by_volume[volume_id].items() if not k.startswith("fsx-backup-component:")}
        assert copied == ({"app": f"app-{n}"} if n % 2 == 0 else {}), (n, by_volume[volume_id])
    calls = [r for r in emu.requests if r.operation == "DescribeVolumes" and not r.params.get("NextToken")]
    # The checks of the preview pass and of the update share theirs too (a few calls); one description
    # per create would add 12.
    assert len(calls) < len(volumes), [r.params["VolumeIds"] for r in calls]
