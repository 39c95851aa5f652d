"""Shared test configuration.

* Makes ``tests.harness`` importable from every test directory (the repository root is not on
  sys.path under pytest's default import mode when test directories have no __init__.py).
* Loads the FSx emulator's pytest plugin (fixtures ``fsx_emulator``, ``fsx_client``, ...).
* ``engine_harness``: a factory fixture for the engine harness (tests/harness) whose provider
  processes are always terminated at teardown, even when the test fails or times out.
* Collects the longest modules first (``SLOWEST_FIRST``), so that the parallel run starts them first.
"""

from __future__ import annotations

import ast
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest_plugins = ["fsx_backup_component.testing.pytest_plugin"]

if sys.version_info < (3, 12):
    # CPython 3.11 keeps ast.parse's recursion bookkeeping in interpreter-global state
    # (python/cpython#106905): a second parse that starts while one is converting its tree -- from
    # another thread, or from a finalizer the garbage collector runs in the middle of it (asyncio's
    # "exception was never retrieved" logging formats a traceback, and 3.11's traceback calls
    # ast.parse for its ^^^ carets) -- corrupts it, and the parse fails with "SystemError: AST
    # constructor recursion depth mismatch". The engine harness runs Pulumi programs in threads and
    # leaves such futures behind when a resource fails, so: one parse at a time, without GC inside.
    _AST_PARSE_LOCK = threading.RLock()
    _original_ast_parse = ast.parse

    def _serialized_ast_parse(*args: Any, **kwargs: Any) -> Any:
        with _AST_PARSE_LOCK:
            enabled = gc.isenabled()
            gc.disable()
            try:
                return _original_ast_parse(*args, **kwargs)
            finally:
                if enabled:
                    gc.enable()

    ast.parse = _serialized_ast_parse  # type: ignore[assignment]


# pytest-xdist's loadscope hands whole modules to its workers in collection order, so a long module
# collected last (tests/reliability sorts late) ran alone at the end: an idle run took 537 s where the
# same tests fit in about 380. The longest modules go first (longest-first scheduling); the rest keep
# their order, and so does every test within a module. Measured with `--durations=25` (idle, 2
# cores): the 48-backup storm 150-240 s with its module's other tests after it, the bad-input
# table's previews 85 s of set-up, the kill points 5 x 22-26 s.
SLOWEST_FIRST = (
    "tests/reliability/test_transient_faults.py",
    "tests/reliability/test_bad_input.py",
    "tests/reliability/test_kill_points.py",
    "tests/native/test_native_scenarios.py",
    "tests/e2e/test_e2e_copies.py",
    "tests/e2e/test_bench_smoke.py",
    "tests/e2e/test_harsher_world.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = Path(str(item.fspath)).resolve().relative_to(ROOT).as_posix()
        return SLOWEST_FIRST.index(module) if module in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within a module, and of the rest, is kept


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
