"""What the user sees during `pulumi up`: backup progress at a sensible rate (``ProgressReporter``)
and the engine's Log service that carries it, with lasting warnings (``EngineLog``).

The engine starts a provider with its own address as the first argument; its Log service shows
ephemeral messages next to a resource's URN, and warnings in the summary. Messages are sent by one
daemon thread, so a slow or absent engine never slows the poller that reports progress.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any, Callable, Optional, Protocol


class ProgressReporter:
    """Turns backup descriptions into user-visible progress at a sensible rate: every lifecycle
    change, and otherwise at most one message per ``min_interval`` seconds."""

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 10.0,
    ) -> None:
        self._emit = emit
        self._clock = clock
        self._min_interval = min_interval
        self._last: Optional[tuple[str, Optional[int]]] = None
        self._last_at = float("-inf")

    def __call__(self, backup: dict[str, Any]) -> None:
        lifecycle = backup.get("Lifecycle", "?")
        percent = backup.get("ProgressPercent")
        now = self._clock()
        state = (lifecycle, percent)
        if state == self._last:
            return
        if self._last is not None and lifecycle == self._last[0] and now - self._last_at < self._min_interval:
            return
        self._last, self._last_at = state, now
        shown = f" {percent}%" if percent is not None else ""
        self._emit(f"FSx backup {backup.get('BackupId', '?')}: {lifecycle}{shown}")


class Log(Protocol):
    """What the domain code asks of the engine log (tests pass a recorder)."""

    def info(self, urn: str, message: str, *, ephemeral: bool = True) -> None: ...

    def warn(self, urn: str, message: str) -> None: ...

    def flush(self, timeout: float = 5.0) -> None: ...


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


_ENGINE_LOG: Optional[Log] = None
_ENGINE_LOG_LOCK = threading.Lock()


def engine_log() -> Log:
    """This process's engine log (from the provider's command line), made on first use."""
    global _ENGINE_LOG
    with _ENGINE_LOG_LOCK:
        if _ENGINE_LOG is None:
            _ENGINE_LOG = EngineLog.from_argv()
        return _ENGINE_LOG
