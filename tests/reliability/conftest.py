"""Fixtures of the reliability campaign: a short-backup emulator, a time-bounded harness factory and
the figures ledger (``FSX_GUARANTEES_SUMMARY=path`` writes it as JSON; docs/guarantees.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pulumi_aws.fsx  # noqa: F401 - imported once, here: program threads then never compile it
import pytest
from reliability_helpers import BACKUP_SECONDS, RPC_TIMEOUT, RUN_TIMEOUT, AnswerLog, Ledger

from fsx_backup_component.testing import FsxEmulator

_LEDGER = Ledger()


@pytest.fixture(scope="session")
def ledger() -> Iterator[Ledger]:
    yield _LEDGER
    _LEDGER.write_if_requested()


@pytest.fixture
def emu() -> Iterator[FsxEmulator]:
    with FsxEmulator(port=0, backup_seconds=BACKUP_SECONDS) as emulator:
        yield emulator


@pytest.fixture
def harness(engine_harness: Callable[..., Any], emu: FsxEmulator) -> Callable[..., Any]:
    """``harness(program, **Harness kwargs)``: bound to the test's emulator, with tight bounds."""

    def factory(program: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("emulator", emu)
        kwargs.setdefault("rpc_timeout", RPC_TIMEOUT)
        kwargs.setdefault("run_timeout", RUN_TIMEOUT)
        return engine_harness(program, **kwargs)

    return factory


@pytest.fixture
def recorded() -> Iterator[tuple[FsxEmulator, AnswerLog]]:
    """An emulator whose answers are recorded (status and error code of every request)."""
    emulator = FsxEmulator(port=0, backup_seconds=BACKUP_SECONDS)
    answers = AnswerLog(emulator)
    with emulator:
        yield emulator, answers
