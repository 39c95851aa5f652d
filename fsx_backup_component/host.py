"""The provider host's thread pool, widened: the one place that touches private internals.

The Python dynamic-provider host (`python -m pulumi.dynamic`, pulumi/dynamic/__main__.py in the SDK)
serves RPCs from a ``ThreadPoolExecutor(max_workers=4)``. A create() that waits for AVAILABLE would
serialize a stack's backups in groups of four. When our provider is loaded into that host,
``widen_host_thread_pool`` finds the grpc server's pool and raises its worker limit (1024 by default,
``FSX_BACKUP_HOST_WORKERS``); waits then overlap and share one poller (watcher.py). The limit is a
ceiling, not a size: the pool starts the threads its queued calls need at once and then grows on
demand, one thread per call that finds no idle one: a stack of 256 backups runs 250-460 threads
(the provider stays near 110 MB; BENCHMARKS.md) and a small stack a handful. If the internals are not
found or behave differently, the provider still works, only slower (4 at a time), and says so once. Guarded by tests that fail loudly
if the SDK or grpc internals change (tests/e2e/test_host_internals.py, tests/unit/test_host.py).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from typing import Any, Callable, Optional

HOST_MAIN_MODULE = "pulumi.dynamic.__main__"
# A ceiling, not a size (see the module docstring): a stack of a few hundred backups waits in as many
# threads, far below it; a runaway stack meets FSx's quotas before it exhausts the process's threads.
DEFAULT_HOST_WORKERS = 1024
# Idle threads started beyond the calls queued when the pool is widened: they take calls submitted
# while a stale idle credit (see _start_workers) would keep the executor from starting a thread.
SPARE_WORKERS = 8
WORKERS_ENV = "FSX_BACKUP_HOST_WORKERS"

_widened_lock = threading.Lock()
_widened: Optional[int] = None


def widen_if_in_dynamic_host(warn: Callable[[str], None]) -> Optional[int]:
    """What provider.py runs when it is imported: widen the pool if this process is the dynamic
    provider host (and only then). Never raises; see ``widen_host_thread_pool``."""
    try:
        if not running_in_dynamic_host():
            return None
    except Exception:  # noqa: BLE001 - fail-safe: a provider that cannot tell stays at 4 workers
        return None
    return widen_host_thread_pool(warn=warn)


def running_in_dynamic_host() -> bool:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return getattr(spec, "name", None) == HOST_MAIN_MODULE


def find_host_thread_pools() -> list[Any]:
    """Thread pools of the grpc servers in this process (grpc._server._Server._state.thread_pool)."""
    try:
        from grpc import _server  # private module: see the module docstring
    except ImportError:
        return []
    pools = []
    for obj in gc.get_objects():
        if isinstance(obj, _server._Server):
            pool = getattr(getattr(obj, "_state", None), "thread_pool", None)
            if pool is not None and hasattr(pool, "_max_workers"):
                pools.append(pool)
    return pools


SLOWER_WARNING = (
    "fsx-backup-component: could not widen the provider host's thread pool ({reason}); the provider "
    "works, but at most 4 backups wait at a time"
)


def widen_host_thread_pool(
    workers: Optional[int] = None, *, warn: Optional[Callable[[str], None]] = None
) -> Optional[int]:
    """Raise the host's RPC worker limit (once per process). Returns the new limit, or None.

    Fail-safe: the internals this relies on are private, so any failure (a pool without the
    attributes, a refused thread) leaves the pool exactly as the host made it, 4 workers, and
    reports one warning through ``warn`` (the engine log) and stderr. It never raises.
    """
    global _widened
    with _widened_lock:
        if _widened is not None:
            return _widened if _widened > 0 else None
        try:
            target = workers or int(os.environ.get(WORKERS_ENV, DEFAULT_HOST_WORKERS))
            pools = find_host_thread_pools()
            if not pools:
                raise LookupError("no grpc server thread pool found")
            for pool in pools:
                _widen(pool, target)
        except Exception as exc:  # noqa: BLE001 - see the docstring: slower, never broken
            _warn_once(SLOWER_WARNING.format(reason=f"{type(exc).__name__}: {exc}"), warn)
            _widened = -1  # tried once, failed: not again, and no limit to report
            return None
        _widened = target
        return target


def _widen(pool: Any, target: int) -> None:
    """Raise one pool's limit and start the workers it needs now; on any failure put the limit back."""
    original = pool._max_workers
    try:
        pool._max_workers = max(original, target)
        _start_workers(pool)
    except BaseException:
        pool._max_workers = original
        raise


def _warn_once(message: str, warn: Optional[Callable[[str], None]]) -> None:
    print(message, file=sys.stderr)
    if warn is not None:
        try:
            warn(message)
        except Exception:  # noqa: BLE001 - the warning is best effort; stderr has it already
            pass


def _start_workers(pool: Any, spare: int = SPARE_WORKERS) -> None:
    """Start a thread for every call queued now, plus ``spare`` idle ones; later calls grow the pool.

    ThreadPoolExecutor starts a thread on submit only when its idle semaphore has no credit. A
    worker adds a credit whenever it finishes a call, also when it goes on to a call that was queued,
    so while the pool sat at 4 busy threads every queued call left a credit with no idle thread to
    match. Raising ``_max_workers`` alone is not enough: the next submits would spend those stale
    credits instead of starting threads and queue behind creates that block for minutes. So the
    credits are dropped, the queued calls get threads of their own, and the spare threads take any
    call whose submit finds a credit left by a worker finishing meanwhile. From then on, below the
    limit, a credit means an idle thread and a submit without one starts a thread: growth on demand.
    """
    idle = getattr(pool, "_idle_semaphore", None)
    queue = pool._work_queue

    def drop_credits() -> None:
        while idle is not None and idle.acquire(timeout=0):
            pass

    drop_credits()
    wanted = min(len(pool._threads) + queue.qsize() + spare, pool._max_workers)
    # Bounded: a worker finishing between drop_credits() and the adjustment leaves a credit that
    # makes _adjust_thread_count start nothing once; an executor that never starts one gives up here.
    for _ in range(2 * wanted):
        if len(pool._threads) >= wanted:
            break
        drop_credits()
        pool._adjust_thread_count()
