"""Shared helpers of the end-to-end tests (programs, targets, emulator queries)."""

from __future__ import annotations

import time
from typing import Any, Callable

import pulumi

from fsx_backup_component import FsxBackup

BACKUP_TYPE = "pulumi-python:dynamic/fsx-backup:Backup"
COMPONENT_TYPE = "fsx-backup:index:FsxBackup"
WRITE_OPERATIONS = frozenset({"CreateBackup", "DeleteBackup", "TagResource", "UntagResource", "CopyBackup"})
READ_ONLY_RPCS = frozenset({"Configure", "Check", "Diff"})

# kind -> (FileSystemType reported by FSx, ResourceType of the backup)
TARGET_KINDS: dict[str, tuple[str, str]] = {
    "lustre-persistent2": ("LUSTRE", "FILE_SYSTEM"),
    "windows": ("WINDOWS", "FILE_SYSTEM"),
    "openzfs": ("OPENZFS", "FILE_SYSTEM"),
    "ontap-volume": ("ONTAP", "VOLUME"),
}


def make_target(emu: Any, kind: str, region: str = "us-east-1") -> dict[str, Any]:
    """Seed the emulator with an eligible target of ``kind``; returns FsxBackup target kwargs."""
    if kind in ("lustre-persistent2", "lustre"):
        return {"file_system_id": emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2", region=region)}
    if kind == "windows":
        return {"file_system_id": emu.add_file_system("WINDOWS", deployment_type="SINGLE_AZ_2", region=region)}
    if kind == "openzfs":
        return {"file_system_id": emu.add_file_system("OPENZFS", deployment_type="SINGLE_AZ_1", region=region)}
    if kind == "ontap-volume":
        fs_id = emu.add_file_system("ONTAP", deployment_type="SINGLE_AZ_1", region=region)
        return {"volume_id": emu.add_volume(fs_id, name="app", ontap_volume_type="RW")}
    raise ValueError(kind)


def backup_program(name: str = "backup", **kwargs: Any) -> Callable[[], None]:
    """A program with one FsxBackup; its outputs are exported too (stack outputs)."""

    def program() -> None:
        backup = FsxBackup(name, **kwargs)
        pulumi.export("backup_id", backup.backup_id)
        pulumi.export("lifecycle", backup.lifecycle)

    return program


def user_backups(emu: Any, include_deleted: bool = False) -> list[dict[str, Any]]:
    """Backups a user made (automatic ones are FSx's business)."""
    return [b for b in emu.backups(include_deleted=include_deleted) if b["Type"] == "USER_INITIATED"]


def live_backups(emu: Any) -> list[dict[str, Any]]:
    return [b for b in user_backups(emu) if b["Lifecycle"] != "DELETED"]


def write_calls(emu: Any) -> dict[str, int]:
    return {op: n for op, n in emu.calls.items() if op in WRITE_OPERATIONS and n}


def emulator_ops(emu: Any) -> list[str]:
    """The emulator's operations in arrival order."""
    return [entry[2] for entry in emu.call_log]


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0, interval: float = 0.02) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds (never hangs). The
    timeout only bounds a broken test: it returns as soon as the condition holds, so it is generous
    (a loaded machine is slow, not wrong)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
