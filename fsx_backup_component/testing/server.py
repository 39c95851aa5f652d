"""The HTTP side of the emulator: a loopback ThreadingHTTPServer speaking awsJson1_1 (docs/emulator.md §0),
and, on the same port, awsQuery for STS (a request whose SigV4 credential scope names ``sts``; see
docs/emulator.md, "Accounts and STS").

Before a request reaches the emulator's ``dispatch`` the server refuses what AWS's JSON front end
refuses before any operation runs (a method other than POST, a Content-Type other than
``application/x-amz-json-1.1``); the signature checks that AWS makes after it has resolved the
operation are made by the emulator from the :class:`RequestContext` this module keeps per request
thread (see docs/emulator.md, "Protocol").
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import FsxError

__all__ = [
    "TARGET_PREFIX",
    "CONTENT_TYPE",
    "DEFAULT_REGION",
    "Dispatcher",
    "Refusal",
    "RequestContext",
    "EmulatorServer",
    "current_request",
    "region_from_authorization",
    "access_key_from_authorization",
    "service_from_authorization",
    "StsDispatcher",
    "signature_error",
    "content_type_refusal",
]

TARGET_PREFIX = "AWSSimbaAPIService_v20180301."
CONTENT_TYPE = "application/x-amz-json-1.1"
SIGNING_NAME = "fsx"  # §0: SigV4 signing name
# A request whose credential scope cannot be read has no region; it is refused anyway (see
# signature_error), the region only labels it in the call log.
DEFAULT_REGION = "us-east-1"

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_CREDENTIAL = re.compile(r"Credential=([^,\s]*)")

# (operation or None when the target is missing/foreign, region, raw body) -> (status, JSON body)
Dispatcher = Callable[[str | None, str, bytes], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Refusal:
    """An answer given before dispatch. ``body`` is sent as is; ``content_type`` None sends none."""

    status: int
    body: bytes
    content_type: str | None
    code: str


@dataclass(frozen=True)
class RequestContext:
    """What the HTTP layer saw of one request: the emulator reads it from ``current_request()``."""

    authorization: str | None
    amz_date: str | None
    content_type: str | None
    query_signed: bool  # X-Amz-Algorithm in the query string (presigned form)
    security_token: str | None = None  # X-Amz-Security-Token (temporary credentials)
    query: str = ""  # the raw query string of the request URL

    @property
    def access_key(self) -> str | None:
        return access_key_from_authorization(self.authorization)

    @property
    def service(self) -> str | None:
        return service_from_authorization(self.authorization)

    @property
    def region(self) -> str:
        return region_from_authorization(self.authorization)


_LOCAL = threading.local()


def current_request() -> RequestContext | None:
    """The context of the request this thread is serving, or None outside the HTTP server (a direct
    ``emulator.dispatch(...)`` call from a test)."""
    return getattr(_LOCAL, "context", None)


def region_from_authorization(header: str | None) -> str:
    """The region of a SigV4 ``Authorization`` header's credential scope
    (``Credential=AKID/20250101/eu-west-1/fsx/aws4_request``)."""
    match = _CREDENTIAL_SCOPE.search(header or "")
    return match.group(2) if match else DEFAULT_REGION


def access_key_from_authorization(header: str | None) -> str | None:
    """The access key ID that signed the request (``Credential=AKID/...``), or None."""
    match = _CREDENTIAL_SCOPE.search(header or "")
    return match.group(1) if match else None


def service_from_authorization(header: str | None) -> str | None:
    """The service of a SigV4 ``Authorization`` header's credential scope (``fsx``, ``sts``), or None."""
    match = _CREDENTIAL_SCOPE.search(header or "")
    return match.group(3) if match else None


def signature_error(context: RequestContext) -> FsxError | None:
    """AWS's refusal of a request that is not SigV4-signed, checked in the order its JSON front end
    checks (recorded by kinesalite / dynalite, docs/emulator.md): no ``Authorization`` header ->
    MissingAuthenticationTokenException; a header lacking Credential/SignedHeaders/Signature or a
    request without X-Amz-Date/Date -> IncompleteSignatureException; a malformed credential scope ->
    IncompleteSignatureException; a scope for another service -> InvalidSignatureException.
    Signatures themselves are not verified. All HTTP 400."""
    header = context.authorization
    if header and context.query_signed:
        return FsxError(
            "InvalidSignatureException",
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
            message_key="message",
        )
    if not header or not header.strip().startswith("AWS4-"):
        # A presigned query string is not a form botocore uses for FSx; treat it as unsigned too.
        return FsxError(
            "MissingAuthenticationTokenException", "Missing Authentication Token", message_key="message"
        )
    params = dict(
        part.strip().split("=", 1) for part in re.split(r"[,\s]+", header.strip())[1:] if "=" in part
    )
    missing = "".join(
        f"Authorization header requires '{name}' parameter. "
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    )
    if not context.amz_date:
        missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
    if missing:
        return FsxError(
            "IncompleteSignatureException", f"{missing}Authorization={header}", message_key="message"
        )
    credential_match = _CREDENTIAL.search(header)
    credential = credential_match.group(1) if credential_match else ""
    parts = credential.rstrip("/").split("/")
    if len(parts) != 5:
        return FsxError(
            "IncompleteSignatureException",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,"
            f" got '{credential}'",
            message_key="message",
        )
    problems = ""
    if parts[3] != SIGNING_NAME:
        problems += f"Credential should be scoped to correct service: '{SIGNING_NAME}'. "
    if parts[4] != "aws4_request":
        problems += f"Credential should be scoped with a valid terminator: 'aws4_request', not '{parts[4]}'. "
    if not _CREDENTIAL_SCOPE.search(header):
        problems += f"Credential should be scoped to a valid region, not '{parts[2]}'. "
    if problems:
        return FsxError("InvalidSignatureException", problems.strip(), message_key="message")
    return None


_ACCESS_DENIED_XML = (
    b"<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized"
    b"</Message>\n</AccessDeniedException>\n"
)


def content_type_refusal(content_type: str | None, operation: str | None, body: bytes) -> Refusal | None:
    """How AWS's JSON front end answers a POST whose Content-Type is not awsJson1_1 (recorded for
    Kinesis, another awsJson1_1 service, by kinesalite; FSx itself: UNCONFIRMED, docs/emulator.md):

    * ``application/json``: HTTP 200 with a Coral RPC envelope that carries UnknownOperationException
      (no data: a client that reads it as a success gets nothing);
    * any other type, target known: HTTP 404 ``<UnknownOperationException/>``;
    * any other type, no target: HTTP 403 AccessDeniedException (XML).

    Media-type parameters (``; charset=...``) are ignored; a request without a body is answered by
    dispatch (as an empty JSON request)."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == CONTENT_TYPE or not body:
        return None
    if media_type == "application/json":
        envelope = {
            "Output": {"__type": "com.amazon.coral.service#UnknownOperationException", "message": None},
            "Version": "1.0",
        }
        return Refusal(200, json.dumps(envelope).encode(), "application/json", "UnknownOperationException")
    if operation is None:
        return Refusal(403, _ACCESS_DENIED_XML, None, "AccessDeniedException")
    return Refusal(404, b"<UnknownOperationException/>\n", None, "UnknownOperationException")


# (context, operation, region, body) -> a refusal to send instead of dispatching, or None
Gate = Callable[[RequestContext, "str | None", str, bytes], "Refusal | None"]
# STS (awsQuery): (context, region, raw body) -> (status, XML body, request ID)
StsDispatcher = Callable[[RequestContext, str, bytes], tuple[int, bytes, str]]
STS_SIGNING_NAME = "sts"
STS_CONTENT_TYPE = "text/xml"


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so botocore's urllib3 pool can keep connections alive; every answer sets
    # Content-Length, which keep-alive requires.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms per request on Linux).
    disable_nagle_algorithm = True
    server: _Server

    def _context(self) -> RequestContext:
        query = parse_qs(urlsplit(self.path).query)
        return RequestContext(
            authorization=self.headers.get("Authorization"),
            amz_date=self.headers.get("X-Amz-Date") or self.headers.get("Date"),
            content_type=self.headers.get("Content-Type"),
            query_signed="X-Amz-Algorithm" in query,
            security_token=self.headers.get("X-Amz-Security-Token"),
            query=urlsplit(self.path).query,
        )

    def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        with self.server.counting():
            self._post()

    def _post(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        context = self._context()
        region = context.region
        if self.server.sts is not None and context.service == STS_SIGNING_NAME:
            # awsQuery STS on the same port, told apart by the credential scope's service
            status, data, request_id = self.server.sts(context, region, body)
            self._send_raw(status, data, STS_CONTENT_TYPE, request_id)
            return
        if self.server.gate is not None:
            refusal = self.server.gate(context, operation, region, body)
            if refusal is not None:
                self._send_raw(refusal.status, refusal.body, refusal.content_type)
                return
        _LOCAL.context = context
        try:
            status, payload = self.server.dispatch(operation, region, body)
        finally:
            _LOCAL.context = None
        self._send(status, payload)

    def do_GET(self) -> None:  # noqa: N802
        # Not part of the API: AWS's JSON front end answers any other method like this.
        self._send_raw(403, _ACCESS_DENIED_XML, None)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        self._send_raw(status, json.dumps(payload).encode(), CONTENT_TYPE)

    def _send_raw(
        self, status: int, data: bytes, content_type: str | None, request_id: str | None = None
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id or str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Silence the per-request stderr line; the emulator keeps its own call log.
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], dispatch: Dispatcher, gate: Gate | None, sts: StsDispatcher | None
    ) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch
        self.gate = gate
        self.sts = sts
        self.in_flight = 0
        self._count_lock = threading.Lock()

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        """Counts requests being served, so that a test can wait for "nothing in flight" (the
        requests of a killed client still land) instead of for a quiet time."""
        with self._count_lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self._count_lock:
                self.in_flight -= 1


class EmulatorServer:
    """Owns the listening socket and the serving thread."""

    def __init__(
        self, host: str, port: int, dispatch: Dispatcher, gate: Gate | None = None, sts: StsDispatcher | None = None
    ) -> None:
        self._server = _Server((host, port), dispatch, gate, sts)
        self._thread = threading.Thread(
            # A short poll interval keeps stop() fast (shutdown waits for the next poll).
            target=self._server.serve_forever, args=(0.05,), name="fsx-emulator", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def in_flight(self) -> int:
        """Requests received and not yet answered."""
        return self._server.in_flight

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

