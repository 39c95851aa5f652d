"""host.py without a provider host: the thread-pool widening is fail-safe (issue 14, A.4).
Pools here are fakes or a private ThreadPoolExecutor."""

from __future__ import annotations

import importlib.util
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from fsx_backup_component import host, progress


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test is a new host process: the pool has not been widened yet."""
    monkeypatch.setattr(host, "_widened", None)


class BarePool:
    """A pool of a future grpc or CPython: a worker limit, none of the internals _start_workers uses."""

    def __init__(self) -> None:
        self._max_workers = 4


class RefusingPool(BarePool):
    """Has the internals, but cannot start a thread (as when the process is out of threads)."""

    def __init__(self) -> None:
        super().__init__()
        self._threads: set[Any] = set()

    def _adjust_thread_count(self) -> None:
        raise RuntimeError("can't start new thread")


@pytest.mark.parametrize("pool_class", [BarePool, RefusingPool])
def test_a_pool_without_the_expected_internals_is_left_as_it_was_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pool_class: type
) -> None:
    pool = pool_class()
    monkeypatch.setattr(host, "find_host_thread_pools", lambda: [pool])
    warnings: list[str] = []
    assert host.widen_host_thread_pool(64, warn=warnings.append) is None  # no exception
    assert pool._max_workers == 4
    assert len(warnings) == 1 and "at most 4" in warnings[0] and "could not widen" in warnings[0]
    assert warnings[0] in capsys.readouterr().err
    # Once per process: later calls neither retry nor warn again.
    assert not host.widen_host_thread_pool(64, warn=warnings.append)
    assert len(warnings) == 1 and pool._max_workers == 4


def test_no_pool_found_is_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "find_host_thread_pools", lambda: [])
    warnings: list[str] = []
    assert host.widen_host_thread_pool(64, warn=warnings.append) is None
    assert len(warnings) == 1


def test_a_failing_search_for_pools_is_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> list[Any]:
        raise AttributeError("module 'grpc._server' has no attribute '_Server'")

    monkeypatch.setattr(host, "find_host_thread_pools", broken)
    warnings: list[str] = []
    assert host.widen_host_thread_pool(64, warn=warnings.append) is None
    assert len(warnings) == 1 and "AttributeError" in warnings[0]


def test_a_failing_warning_is_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "find_host_thread_pools", lambda: [BarePool()])

    def broken_warn(_message: str) -> None:
        raise ConnectionError("engine gone")

    assert host.widen_host_thread_pool(64, warn=broken_warn) is None


def test_a_real_thread_pool_is_widened_and_its_workers_started(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = ThreadPoolExecutor(max_workers=4)
    try:
        monkeypatch.setattr(host, "find_host_thread_pools", lambda: [pool])
        warnings: list[str] = []
        assert host.widen_host_thread_pool(12, warn=warnings.append) == 12
        assert pool._max_workers == 12 and warnings == []
        assert len(pool._threads) <= host.SPARE_WORKERS  # nothing queued: only the spare threads
        started = threading.Barrier(13)
        futures = [pool.submit(started.wait, 10) for _ in range(12)]
        started.wait(10)  # all twelve ran at once: the limit is really 12
        assert all(f.result(10) is not None for f in futures)
    finally:
        pool.shutdown(wait=True)


def test_a_failing_host_probe_leaves_the_provider_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> bool:
        raise RuntimeError("no __main__")

    monkeypatch.setattr(host, "running_in_dynamic_host", broken)
    warnings: list[str] = []
    assert host.widen_if_in_dynamic_host(warnings.append) is None and warnings == []


def test_outside_the_host_nothing_is_widened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "find_host_thread_pools", lambda: pytest.fail("looked for pools outside the host"))
    assert host.widen_if_in_dynamic_host(lambda _message: None) is None  # pytest is not the dynamic host


class RecordingLog:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, str]] = []

    def warn(self, urn: str, message: str) -> None:
        self.warnings.append((urn, message))

    def info(self, urn: str, message: str, *, ephemeral: bool = True) -> None:
        pass


def test_the_provider_module_loads_in_a_host_whose_pool_has_other_internals(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the fix the provider module raised AttributeError at import, and every Check failed."""
    pool = BarePool()
    log = RecordingLog()
    monkeypatch.setattr(host, "running_in_dynamic_host", lambda: True)
    monkeypatch.setattr(host, "find_host_thread_pools", lambda: [pool])
    monkeypatch.setattr(progress, "_ENGINE_LOG", log)
    import fsx_backup_component.provider as installed

    name = "fsx_backup_component._provider_in_a_host"
    spec = importlib.util.spec_from_file_location(name, installed.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)  # the import a host does: must not raise
    assert module.BackupProvider().check is not None
    assert pool._max_workers == 4
    (urn, message), = log.warnings
    assert "could not widen" in message


def test_queued_calls_start_at_once_and_the_pool_grows_on_demand_past_stale_credits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As in the host: 4 workers busy, calls queued behind them, and the idle credits every finished
    call left behind. Widened, the queued calls start now, and later calls each get a thread (up to
    the limit) instead of spending a stale credit and queueing behind blocked creates."""
    pool = ThreadPoolExecutor(max_workers=4)
    release = threading.Event()
    try:
        monkeypatch.setattr(host, "find_host_thread_pools", lambda: [pool])
        for future in [pool.submit(lambda: None) for _ in range(16)]:
            future.result(10)  # finished calls: stale credits (4 threads, 16 credits)
        queued_started = threading.Semaphore(0)

        def blocked() -> None:
            queued_started.release()
            release.wait(10)

        early = [pool.submit(blocked) for _ in range(12)]  # 4 run, 8 queue behind them
        assert host.widen_host_thread_pool(512, warn=lambda m: pytest.fail(m)) == 512
        assert all(queued_started.acquire(timeout=10) for _ in range(12))  # the 8 queued ones too
        late_started = threading.Barrier(41, timeout=10)
        late = [pool.submit(late_started.wait) for _ in range(40)]
        late_started.wait()  # all 40 later calls ran at once: none waited behind the blocked 12
        # Grown by demand (52 calls in flight, the spare threads, a few races), not to the limit of 512.
        assert len(pool._threads) <= 2 * (52 + host.SPARE_WORKERS)
        release.set()
        for done in early:
            done.result(10)
        for finished in late:
            finished.result(10)
    finally:
        release.set()
        pool.shutdown(wait=True)
