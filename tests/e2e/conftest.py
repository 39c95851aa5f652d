"""Fixtures of the end-to-end tests: an emulator with short backups and a harness bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pulumi_aws.fsx  # noqa: F401 - imported here, once: program threads then never compile it
import pytest

from fsx_backup_component.testing import FsxEmulator

# Short emulated backups keep the suite within a few minutes; Lustre backups still go through
# PENDING -> CREATING -> TRANSFERRING -> AVAILABLE.
BACKUP_SECONDS = 1.0


@pytest.fixture
def emu() -> Iterator[FsxEmulator]:
    with FsxEmulator(port=0, backup_seconds=BACKUP_SECONDS) as emulator:
        yield emulator


@pytest.fixture
def harness(engine_harness: Callable[..., Any], emu: FsxEmulator) -> Callable[..., Any]:
    """``harness(program, **Harness kwargs)`` bound to the test's emulator."""

    def factory(program: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("emulator", emu)
        return engine_harness(program, **kwargs)

    return factory
