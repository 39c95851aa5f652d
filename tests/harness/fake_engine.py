"""A fake Pulumi engine *Log* service, served on loopback.

The CLI starts a provider plugin with the engine's gRPC address as its first argument; providers send
``LogRequest``s there to show messages next to a resource in `pulumi up` (ephemeral ones are the
transient status line). This servicer only records them so tests can assert what a user would see.
"""

from __future__ import annotations

import threading
import time
from concurrent import futures
from dataclasses import dataclass
from typing import Any, Optional

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

SEVERITY_NAMES = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


@dataclass(frozen=True)
class LogRecord:
    """One message the provider sent to the engine."""

    urn: str
    severity: str
    message: str
    ephemeral: bool
    stream_id: int
    mono: float  # time.monotonic() when received, comparable with the harness event log


class _Servicer(engine_pb2_grpc.EngineServicer):
    def __init__(self, sink: "FakeEngine") -> None:
        self._sink = sink

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        self._sink._record(
            LogRecord(
                urn=request.urn,
                severity=SEVERITY_NAMES.get(request.severity, str(request.severity)),
                message=request.message,
                ephemeral=bool(request.ephemeral),
                stream_id=int(request.streamId),
                mono=time.monotonic(),
            )
        )
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self._sink.root_urn)

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._sink.root_urn = request.urn
        return engine_pb2.SetRootResourceResponse()


class FakeEngine:
    """``with FakeEngine() as engine: ... engine.address ... engine.records``"""

    def __init__(self) -> None:
        self.root_urn = ""
        self._records: list[LogRecord] = []
        self._lock = threading.Lock()
        self._server: Optional[grpc.Server] = None
        self.address = ""

    def start(self) -> "FakeEngine":
        if self._server is None:
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
            engine_pb2_grpc.add_EngineServicer_to_server(_Servicer(self), server)
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            self._server = server
            self.address = f"127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=0).wait(5)
            self._server = None

    def __enter__(self) -> "FakeEngine":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, record: LogRecord) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[LogRecord]:
        with self._lock:
            return list(self._records)

    def for_urn(self, urn: str) -> list[LogRecord]:
        return [r for r in self.records if r.urn == urn]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
