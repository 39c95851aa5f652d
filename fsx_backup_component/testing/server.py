"""The HTTP side of the emulator: a loopback ThreadingHTTPServer speaking awsJson1_1 (reference §0)."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["TARGET_PREFIX", "DEFAULT_REGION", "Dispatcher", "EmulatorServer", "region_from_authorization"]

TARGET_PREFIX = "AWSSimbaAPIService_v20180301."
CONTENT_TYPE = "application/x-amz-json-1.1"
# Unsigned requests (curl, hand-made tests) have no credential scope to read a region from.
DEFAULT_REGION = "us-east-1"

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/[a-z0-9-]+/aws4_request")

# (operation or None when the target is missing/foreign, region, raw body) -> (status, JSON body)
Dispatcher = Callable[[str | None, str, bytes], tuple[int, dict[str, Any]]]


def region_from_authorization(header: str | None) -> str:
    """The region of a SigV4 ``Authorization`` header's credential scope
    (``Credential=AKID/20250101/eu-west-1/fsx/aws4_request``)."""
    match = _CREDENTIAL_SCOPE.search(header or "")
    return match.group(1) if match else DEFAULT_REGION


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so botocore's urllib3 pool can keep connections alive; every answer sets
    # Content-Length, which keep-alive requires.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms per request on Linux).
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        region = region_from_authorization(self.headers.get("Authorization"))
        status, payload = self.server.dispatch(operation, region, body)
        self._send(status, payload)

    def do_GET(self) -> None:  # noqa: N802
        # Not part of the API; a friendly answer for someone pointing a browser at the port.
        self._send(404, {"__type": "UnknownOperationException", "Message": "Use POST / (awsJson1_1)."})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Silence the per-request stderr line; the emulator keeps its own call log.
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatcher) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch


class EmulatorServer:
    """Owns the listening socket and the serving thread."""

    def __init__(self, host: str, port: int, dispatch: Dispatcher) -> None:
        self._server = _Server((host, port), dispatch)
        self._thread = threading.Thread(
            # A short poll interval keeps stop() fast (shutdown waits for the next poll).
            target=self._server.serve_forever, args=(0.05,), name="fsx-emulator", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
