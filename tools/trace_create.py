"""Follow one ``BackupProvider().create(props)`` through the package's modules.

Runs a create against the local FSx emulator (``fsx_backup_component.testing.FsxEmulator``) under
``sys.setprofile`` and maps every Python call of the calling thread to the package module whose code
it runs (lambdas and callbacks count for the module that defines them). It prints:

- the modules entered;
- the number of times the path climbs back up (a return makes another module the innermost one);
- the number of returns to a module already left: each time the innermost package module changes to
  one that had been innermost before and had been left since.

The figures of issue 13 (before and after the split into one module per concern) are in
docs/design.md. Usage: ``python tools/trace_create.py [--path]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PACKAGE = "fsx_backup_component"
URN = "urn:pulumi:trace::trace::fsx-backup:index:FsxBackup$pulumi-python:dynamic/fsx-backup:Backup::trace"


def _module_of(frame: FrameType) -> Optional[str]:
    name = frame.f_globals.get("__name__")
    if not isinstance(name, str) or not (name == PACKAGE or name.startswith(PACKAGE + ".")):
        return None
    if name.startswith(PACKAGE + ".testing"):
        return None  # the emulator is the world, not the path
    return name[len(PACKAGE) + 1 :] or "__init__"


class Tracer:
    def __init__(self) -> None:
        self.stack: list[Optional[str]] = []
        self.path: list[str] = []  # innermost package module, each change once
        self.entered: list[str] = []
        self.climbs = 0
        self.returns_to_left = 0

    def _innermost(self) -> Optional[str]:
        return next((m for m in reversed(self.stack) if m is not None), None)

    def _moved(self, by_return: bool) -> None:
        current = self._innermost()
        if current is None or (self.path and self.path[-1] == current):
            return
        if current in self.path:
            self.returns_to_left += 1
        else:
            self.entered.append(current)
        if by_return:
            self.climbs += 1
        self.path.append(current)

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            self.stack.append(_module_of(frame))
            self._moved(by_return=False)
        elif event == "return" and self.stack:
            self.stack.pop()
            self._moved(by_return=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", action="store_true", help="print the sequence of modules too")
    args = parser.parse_args()

    from fsx_backup_component.testing import FsxEmulator

    with FsxEmulator(backup_seconds=0.5) as emu:
        os.environ.update(
            AWS_ENDPOINT_URL_FSX=emu.endpoint_url,
            AWS_ACCESS_KEY_ID="trace",
            AWS_SECRET_ACCESS_KEY="trace",
            AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1",
        )
        fs_id = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
        from fsx_backup_component.provider import BackupProvider

        provider = BackupProvider()
        props: dict[str, Any] = {
            "resource_urn": URN,
            "target_file_system_id": fs_id,
            "target_volume_id": None,
            "target_facts": {},
            "tags": {"purpose": "trace"},
            "triggers": None,
            "timeout_seconds": 600,
            "region": "us-east-1",
            "copy_to_regions": None,
            "copy_tags": True,
            "life": "0" * 32,
            "delete_superseded": False,
        }
        tracer = Tracer()
        sys.setprofile(tracer)
        try:
            result = provider.create(props)
        finally:
            sys.setprofile(None)
    print(f"created {result.id} ({(result.outs or {}).get('lifecycle')})")
    print(f"modules entered ({len(tracer.entered)}): {' '.join(tracer.entered)}")
    print(f"climbs back up: {tracer.climbs}")
    print(f"returns to a module already left: {tracer.returns_to_left}")
    if args.path:
        print("path: " + " -> ".join(tracer.path))


if __name__ == "__main__":
    main()
