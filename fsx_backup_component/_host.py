"""What the provider needs from the process it runs in: `python -m pulumi.dynamic`.

Two things the Pulumi SDK does not offer, each kept here and guarded by a test that fails loudly if the
SDK or grpc internals they rely on change (tests/e2e/test_host_internals.py):

1. **More than four concurrent calls.** The host serves RPCs from a ``ThreadPoolExecutor(max_workers=4)``
   (pulumi/dynamic/__main__.py). A create() that waits for AVAILABLE would serialize a stack's backups in
   groups of four. When our provider is loaded into that host, ``widen_host_thread_pool`` finds the
   grpc server's pool and raises its worker limit; waits then overlap and share one poller
   (watcher.py). If the internals are not found, the provider still works, only slower, and says so.
2. **Progress in `pulumi up`.** The engine starts the provider with its own address as the first
   argument; its Log service shows ephemeral messages next to a resource's URN.
"""

from __future__ import annotations

import gc
import os
import queue
import sys
import threading
import time
from typing import Any, Callable, Optional

HOST_MAIN_MODULE = "pulumi.dynamic.__main__"
DEFAULT_HOST_WORKERS = 64
WORKERS_ENV = "FSX_BACKUP_HOST_WORKERS"

_widened_lock = threading.Lock()
_widened: Optional[int] = None


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
    """Raise one pool's limit and start its workers; on any failure put the limit back."""
    original = pool._max_workers
    try:
        pool._max_workers = max(original, target)
        _prespawn(pool)
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


def _prespawn(pool: Any) -> None:
    """Start every worker thread now.

    Raising ``_max_workers`` alone is not enough: ThreadPoolExecutor spawns a thread on submit only
    when its idle semaphore has no credit, and while the pool sat at 4 busy threads every call it had
    queued left a credit behind with no idle thread to match. The next submits would then skip
    spawning and queue behind creates that block for minutes. With all workers started, any queued
    call is taken by an idle worker, whatever the credits say. Idle workers only wait on the queue.
    """
    idle = getattr(pool, "_idle_semaphore", None)
    while len(pool._threads) < pool._max_workers:
        while idle is not None and idle.acquire(timeout=0):
            pass
        before = len(pool._threads)
        pool._adjust_thread_count()
        if len(pool._threads) == before:
            break  # the executor refused (shutting down): leave it as it is


class EngineLog:
    """Sends ephemeral status messages for a resource to the engine's Log service, if one is known.

    Messages are queued and sent by one daemon thread: a slow or absent engine must never slow down
    the poller that reports progress (it calls ``info`` while other waits depend on it).
    """

    def __init__(self, address: Optional[str]) -> None:
        self._address = address
        self._queue: "queue.Queue[tuple[str, str, bool, str]]" = queue.Queue(maxsize=1000)
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._broken = False

    @classmethod
    def from_argv(cls, argv: Optional[list[str]] = None) -> "EngineLog":
        argv = sys.argv if argv is None else argv
        address = argv[1] if len(argv) > 1 and ":" in argv[1] and not argv[1].startswith("-") else None
        return cls(address)

    @property
    def enabled(self) -> bool:
        return self._address is not None and not self._broken

    def info(self, urn: str, message: str, *, ephemeral: bool = True) -> None:
        self._put(urn, message, ephemeral, "INFO")

    def warn(self, urn: str, message: str) -> None:
        """A lasting warning (not ephemeral): shown in the `pulumi up` summary."""
        self._put(urn, message, False, "WARNING")

    def _put(self, urn: str, message: str, ephemeral: bool, severity: str) -> None:
        if not self.enabled:
            return
        self._ensure_sender()
        try:
            self._queue.put_nowait((urn, message, ephemeral, severity))
        except queue.Full:
            pass  # progress is best effort; dropping a status line is better than blocking

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until queued messages are sent (tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _ensure_sender(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._send_loop, name="fsx-backup-engine-log", daemon=True)
                self._thread.start()

    def _send_loop(self) -> None:
        try:
            import grpc
            from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

            stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
        except Exception as exc:  # noqa: BLE001 - progress must never fail a backup
            self._disable(exc)
            return
        while True:
            urn, message, ephemeral, severity = self._queue.get()
            try:
                if not self._broken:
                    stub.Log(
                        engine_pb2.LogRequest(
                            severity=getattr(engine_pb2, severity), message=message, urn=urn, ephemeral=ephemeral
                        ),
                        timeout=5,
                    )
            except Exception as exc:  # noqa: BLE001
                self._disable(exc)
            finally:
                self._queue.task_done()

    def _disable(self, exc: BaseException) -> None:
        self._broken = True
        print(f"fsx-backup-component: progress messages disabled: {exc}", file=sys.stderr)
