"""Shared test configuration.

* Makes ``tests.harness`` importable from every test directory (the repository root is not on
  sys.path under pytest's default import mode when test directories have no __init__.py).
* Loads the FSx emulator's pytest plugin (fixtures ``fsx_emulator``, ``fsx_client``, ...).
* ``engine_harness``: a factory fixture for the engine harness (tests/harness) whose provider
  processes are always terminated at teardown, even when the test fails or times out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest_plugins = ["fsx_backup_component.testing.pytest_plugin"]


@pytest.fixture
def engine_harness() -> Iterator[Callable[..., Any]]:
    """``engine_harness(program, emulator=emu, config={...}, ...)`` -> tests.harness.Harness."""
    from tests.harness import Harness

    made: list[Harness] = []

    def factory(*args: Any, **kwargs: Any) -> Harness:
        harness = Harness(*args, **kwargs)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()
